"""bin/keep-running: a process of `make run` that dies comes back; a stop ends it (real processes)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WRAPPER = REPO / "bin" / "keep-running"

pytestmark = pytest.mark.real_clock  # real processes and real sleeps


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_command_that_dies_is_started_again(tmp_path):
    starts = tmp_path / "starts"
    # Each start notes its pid and dies at once, the way a worker killed with -9 would.
    child = f"import os; open({str(starts)!r}, 'a').write(f'{{os.getpid()}}\\n'); os._exit(9)"
    wrapper = subprocess.Popen([sys.executable, str(WRAPPER), sys.executable, "-c", child], stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: starts.exists() and len(starts.read_text().split()) >= 2)
        assert wrapper.poll() is None, "the wrapper keeps going"
    finally:
        wrapper.terminate()
        wrapper.wait(timeout=10)
    assert "exited with 9; starting it again" in wrapper.stderr.read().decode()


def test_sigterm_stops_the_command_and_the_loop(tmp_path):
    pid_file = tmp_path / "pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    wrapper = subprocess.Popen([sys.executable, str(WRAPPER), sys.executable, "-c", child])
    assert wait_for(lambda: pid_file.exists() and pid_file.read_text())
    child_pid = int(pid_file.read_text())
    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=10) == 128 + signal.SIGTERM
    assert wait_for(lambda: not _alive(child_pid), timeout=5), "the command is stopped too"


def test_every_process_of_make_run_runs_under_the_wrapper():
    lines = [line for line in (REPO / "Procfile").read_text().splitlines() if line and not line.startswith("#")]
    assert {line.split(":", 1)[0] for line in lines} == {"web", "worker", "beat"}
    for line in lines:
        assert line.split(":", 1)[1].strip().startswith("python bin/keep-running "), line


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by the finished wrapper) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process, read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        found[int(entry.name)] = (parent, command)
    return found


def _worker_pids(honcho_pid: int) -> set[int]:
    """The Celery worker processes started (through keep-running) under this honcho."""
    processes = _processes()

    def descends_from_honcho(pid):
        seen = set()
        while pid and pid not in seen:
            seen.add(pid)
            if pid == honcho_pid:
                return True
            pid = processes.get(pid, (0, ""))[0]
        return False

    return {
        pid for pid, (_parent, command) in processes.items()
        if "celery -A qiantang worker" in command and "keep-running" not in command and descends_from_honcho(pid)
    }


def _answers(port: int) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_make_run_s_processes_survive_a_worker_killed_with_sigkill(tmp_path):
    """The Procfile under honcho, as `make run` starts it, on its embedded defaults (SQLite and
    the filesystem broker in a folder of the test's own): the worker killed with -9 comes back,
    and meanwhile the web server keeps answering and beat keeps running."""
    import socket

    from tests.warnings.celery_processes import child_env

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = child_env(QIANTANG_VAR_DIR=str(tmp_path / "var"), DEBUG="1", WEB_HOST="127.0.0.1", WEB_PORT=str(port),
                    PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    log = open(tmp_path / "honcho.log", "wb")
    honcho = subprocess.Popen(
        [str(Path(sys.executable).parent / "honcho"), "--env", "/dev/null", "start", "--procfile", "Procfile"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    output = lambda: (tmp_path / "honcho.log").read_text(errors="replace")  # noqa: E731
    try:
        assert wait_for(lambda: _answers(port) and len(_worker_pids(honcho.pid)) == 1, timeout=90), output()
        (first,) = _worker_pids(honcho.pid)
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: _worker_pids(honcho.pid) - {first}, timeout=30), output()
        assert honcho.poll() is None, output()
        assert _answers(port), "the web server kept serving"
        # honcho relays its children's output as it comes: wait for the line, do not race it.
        assert wait_for(lambda: "keep-running: celery exited with 137; starting it again" in output()), output()
        beat_running = any("celery -A qiantang beat" in command and "keep-running" not in command
                           for _parent, command in _processes().values())
        assert beat_running, output()
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(timeout=10)
        log.close()
