"""Dependencies point one way (README, Architecture): the kernel imports no app, and
`projects` uses the warnings engine only through its pure modules and two entry points.
The contracts are import-linter's, in pyproject.toml; this runs them and checks that they
name every module of warnings/ they should, so a module added later is covered at once."""
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What projects may import from qiantang_warnings.
PUBLIC = {"rules", "reasons", "workdays", "services", "selectors"}


def warnings_modules() -> set[str]:
    folder = REPO / "warnings"
    modules = {p.stem for p in folder.glob("*.py")}
    packages = {p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return {f"qiantang_warnings.{name}" for name in modules | packages}


def contracts() -> list[dict]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def test_the_kernel_contract_forbids_every_app_module():
    kernel = next(c for c in contracts() if c["source_modules"] == ["qiantang"])
    assert set(kernel["forbidden_modules"]) == warnings_modules() | {"projects"}


def test_projects_may_reach_only_the_public_modules_of_the_engine():
    register = next(c for c in contracts() if c["source_modules"] == ["projects"])
    public = {f"qiantang_warnings.{name}" for name in PUBLIC}
    assert set(register["forbidden_modules"]) == warnings_modules() - public


def test_the_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
