"""`import warnings` stays Python's standard library module although the app folder is `warnings/`.

Each check runs in a fresh interpreter started from the repository root (the root is then
first on sys.path, where a `warnings/__init__.py` would shadow the standard library), with
a clean environment. See the README's architecture paragraph.
"""
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

STDLIB_CHECK = """
import json, sys, sysconfig, warnings
print(json.dumps({
    "has_warn": callable(getattr(warnings, "warn", None)),
    "file": warnings.__file__,
    "stdlib": sysconfig.get_paths()["stdlib"],
    "path0": sys.path[0],
}))
"""


def clean_env(**extra):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run(args, env, timeout=120):
    result = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def assert_stdlib_warnings(output):
    facts = json.loads(output.strip().splitlines()[-1])
    assert facts["has_warn"]
    assert facts["path0"] in ("", str(REPO)), "the repository root came first on sys.path"
    assert Path(facts["file"]).parent == Path(facts["stdlib"])
    assert Path(facts["file"]).name == "warnings.py"


def test_the_warnings_folder_is_not_a_package():
    assert (REPO / "warnings").is_dir()
    assert not (REPO / "warnings" / "__init__.py").exists(), (
        "warnings/__init__.py shadows the standard library's warnings module"
    )


def test_import_warnings_is_the_standard_library_from_the_repository_root():
    assert_stdlib_warnings(run(["-c", STDLIB_CHECK], clean_env()))


def test_import_warnings_without_site_packages_either():
    # -S: no site-packages and no .pth files, so no editable-install hook can import the real
    # module first and hide a shadowing package by luck.
    assert_stdlib_warnings(run(["-S", "-c", STDLIB_CHECK], clean_env()))


def test_project_packages_import_under_their_own_names():
    code = (
        "import warnings, qiantang, qiantang_warnings, qiantang_warnings.rules\n"
        "from pathlib import Path\n"
        "assert callable(warnings.warn)\n"
        "print(Path(qiantang_warnings.rules.__file__).parent)\n"
    )
    out = run(["-c", code], clean_env())
    assert Path(out.strip()) == REPO / "warnings"


def test_without_any_install_qiantang_maps_the_app_folder_itself():
    # Site-packages given as a plain PYTHONPATH entry: its .pth files (the editable install's
    # finder) are not processed, so only qiantang/__init__.py can map qiantang_warnings.
    site_packages = sysconfig.get_paths()["purelib"]
    code = (
        "import sys, warnings, qiantang, qiantang_warnings.rules\n"
        "assert callable(warnings.warn)\n"
        "assert not any(name.startswith('__editable__') for name in sys.modules)\n"
        "print(qiantang_warnings.rules.__file__)\n"
    )
    out = run(["-S", "-c", code], clean_env(PYTHONPATH=site_packages))
    assert Path(out.strip()) == REPO / "warnings" / "rules.py"


def test_manage_py_check_runs_in_a_clean_environment():
    out = run(["manage.py", "check"], clean_env(DEBUG="1"))
    assert "System check identified no issues" in out


def test_manage_py_check_runs_without_any_install():
    site_packages = sysconfig.get_paths()["purelib"]
    out = run(["-S", "manage.py", "check"], clean_env(DEBUG="1", PYTHONPATH=site_packages))
    assert "System check identified no issues" in out


def test_the_tests_folder_called_warnings_is_the_package_tests_warnings():
    import importlib
    import warnings as stdlib_warnings

    engine_tests = importlib.import_module("tests.warnings")
    assert engine_tests.__name__ == "tests.warnings"
    assert callable(stdlib_warnings.warn)
    assert stdlib_warnings.__file__.endswith("warnings.py")
    assert not stdlib_warnings.__file__.startswith(str(REPO / "tests"))
