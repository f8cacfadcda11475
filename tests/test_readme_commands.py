"""Every `manage.py` command the README shows works as written in a new shell after `make env`.

Each command runs in a child process with a clean environment: no SECRET_KEY, no DEBUG, no
DATABASE_URL, exactly what a person has who ran `make run` and opened a second terminal. The
settings then come from the checkout's `.env`, which `make env` writes once. Only the data
folder is the test's own (QIANTANG_VAR_DIR), so that the test never touches the SQLite file of
a `make run` on the same machine.

The list of commands is read from README.md: a command added there without a case here fails.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PASSWORD = "readme-demo-pw"

# README command → its concrete invocations (placeholders filled in), in the order they run.
CASES: dict[str, list[list[str]]] = {
    "seed_demo": [
        ["--projects", "4", "--password", PASSWORD, "--if-empty", "--seed", "7"],
        ["--if-empty"],  # a second run of make run: nothing to do
    ],
    "recompute_warnings": [[], ["--as-of", "2026-11-25"], ["--as-of", "2026-11-25", "--full"]],
    "export_workbook": [["{tmp}/warning-table.xlsx"]],
    "import_workbook": [["{tmp}/warning-table.xlsx", "--dry-run"], ["{tmp}/warning-table.xlsx"]],
    "send_digest": [["--dry-run"], ["--week", "2026-W48", "--dry-run", "--to", "office"]],
}


def readme_manage_py_commands() -> list[str]:
    """The command names of the README's `.venv/bin/python manage.py NAME …` lines."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    names = []
    for block in blocks:
        for line in block.splitlines():
            match = re.match(r"\s*\.venv/bin/python manage\.py (\w+)", line)
            if match and match.group(1) not in names:
                names.append(match.group(1))
    return names


def test_every_readme_command_has_a_case_here():
    assert sorted(readme_manage_py_commands()) == sorted(CASES)


@pytest.fixture(scope="module")
def local_env_file():
    """What `make env` leaves: the checkout's .env (written once, never overwritten)."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", "env"], cwd=REPO, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    path = REPO / ".env"
    assert path.is_file()
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^SECRET_KEY=\S{40,}$", text, flags=re.M), "make env writes a real SECRET_KEY"
    assert re.search(r"^DEBUG=1$", text, flags=re.M)
    return path


def run_as_written(command: str, args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "QIANTANG_VAR_DIR": str(tmp / "var"),
    }
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "manage.py", command,
         *[arg.format(tmp=tmp) for arg in args]],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
    )


def test_the_readme_commands_work_in_a_new_shell(local_env_file, tmp_path):
    # make run migrates before anything else; so does this new shell's first command.
    migrate = run_as_written("migrate", ["--noinput"], tmp_path)
    assert migrate.returncode == 0, migrate.stderr
    # In the order a person would: seed, recompute, export, import the export back, the digest.
    for command, invocations in CASES.items():
        for args in invocations:
            done = run_as_written(command, args, tmp_path)
            assert done.returncode == 0, (
                f"manage.py {command} {' '.join(args)} exited {done.returncode}\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
            assert "Traceback" not in done.stderr
    assert (tmp_path / "warning-table.xlsx").stat().st_size > 0
    assert (tmp_path / "var" / "qiantang.sqlite3").is_file(), "the test's own data folder was used"
