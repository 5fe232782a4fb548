"""Autograde one submission in a throw-away course directory, under hard limits.

The sandbox holds the nbgrader config, the assignment's source and a gradebook that knows
only this assignment, so the submission sees no other student's work. nbgrader runs in its
own process group with a memory ceiling per process (`RLIMIT_DATA`: an allocation fails with
MemoryError instead of exhausting the machine), a cap on file size, a private HOME, and, on
Linux, as a "child subreaper" so processes the notebook leaves behind stay its children and
are stopped. The caller watches the whole tree for wall-clock time and total memory.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

PR_SET_CHILD_SUBREAPER = 36
MAX_FILE_BYTES = 512 * 2**20
POLL_SECONDS = 0.2


@dataclass
class Limits:
    """How long and how much memory one submission may use.

    ``memory_bytes`` bounds all its processes together; each process may allocate 1 GiB
    less (at least 1 GiB), so a runaway allocation raises MemoryError in the notebook
    before the whole submission has to be stopped.
    """

    seconds: float = 600.0
    memory_bytes: int = 4 * 2**30
    cell_seconds: int = 120

    @property
    def process_bytes(self) -> int:
        return max(self.memory_bytes - 2**30, 2**30)


@dataclass
class Outcome:
    """How a sandboxed run ended: ``failure`` is empty when it finished normally."""

    seconds: float
    peak_memory_bytes: int
    failure: str = ""
    log: str = ""


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux only), so that none escapes being stopped."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _limit_child(memory_bytes: int):
    """Return the function that sets a sandboxed process's limits just before it starts."""
    def limit() -> None:
        become_subreaper()
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return limit


def sandbox_environment(sandbox: Path) -> dict[str, str]:
    """The environment for nbgrader and the kernel: a private home and caches, quiet TensorFlow."""
    home = sandbox / "home"
    env = dict(os.environ)
    env.update({
        "HOME": str(home),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / ".runtime"),
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "KERAS_HOME": str(home / ".keras"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",  # a fresh .pyc in the course would look like tampering
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    home.mkdir(parents=True, exist_ok=True)
    return env


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def _memory(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def kill_tree(process: psutil.Process) -> None:
    """Kill a process, its group and every descendant, including adopted orphans."""
    victims = _tree(process) + psutil.Process().children(recursive=True)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    for victim in victims:
        try:
            victim.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(victims, timeout=10)


def run_limited(command: list[str], sandbox: Path, limits: Limits) -> Outcome:
    """Run ``command`` in ``sandbox`` under ``limits``; stop it and everything it started."""
    log_path = sandbox / "nbgrader.log"
    start = time.monotonic()
    peak, failure = 0, ""
    with open(log_path, "wb") as log:
        child = subprocess.Popen(
            command, cwd=sandbox, env=sandbox_environment(sandbox), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_limit_child(limits.process_bytes),
        )
        watched = psutil.Process(child.pid)
        while child.poll() is None:
            used = _memory(_tree(watched))
            peak = max(peak, used)
            if used > limits.memory_bytes:
                failure = f"used more than {limits.memory_bytes / 2**30:.1f} GiB of memory"
            elif time.monotonic() - start > limits.seconds:
                failure = f"ran past the {limits.seconds:.0f} s limit"
            if failure:
                break
            time.sleep(POLL_SECONDS)
        kill_tree(watched)
        child.wait()
    if not failure and child.returncode != 0:
        failure = f"the grading process ended with exit status {child.returncode}"
    text = log_path.read_bytes()[-20_000:].decode("utf-8", "replace")
    return Outcome(time.monotonic() - start, peak, failure, text)
