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
