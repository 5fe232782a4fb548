"""Run one grading process under hard limits, and stop it and everything it started.

The process (nbgrader, grading one submission) gets its own process group, a memory
ceiling per process (`RLIMIT_DATA`: a runaway allocation raises MemoryError in the
notebook), a cap on file size and no core dumps. While it runs, the caller watches its whole
tree: wall-clock time, memory as PSS (pages shared between forked workers count once, split
between them), the number of tasks (processes and threads), and the bytes the sandbox wrote.
Where a pids cgroup can be made, the task cap is enforced by the kernel as well (a fork bomb
gets "Resource temporarily unavailable" instead of filling the machine).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

PR_SET_CHILD_SUBREAPER = 36
MAX_FILE_BYTES = 512 * 2**20
POLL_SECONDS = 0.25
FONT_CACHE = ".matplotlib"  # a kernel's MPLCONFIGDIR, in its home (see seed_font_cache)
# TensorFlow's two thread pools at a fixed size: with another number of threads its sums
# round differently, and the course's numbers, bars and answer banks were measured on 2-core
# machines, where both pools have 2 threads. Fixed, a grade (and a bank's verdict) no longer
# depends on the cores of the machine that computes it. The tests (conftest.py) and
# `make execute` use the same.
TENSORFLOW_THREADS = {"TF_NUM_INTRAOP_THREADS": "2", "TF_NUM_INTEROP_THREADS": "2"}
# TensorFlow in every grading kernel: quiet (its C++ notices go to stderr, which would cost a
# test cell its points), without oneDNN's kernels (as the notebooks run), on those threads.
KERNEL_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", **TENSORFLOW_THREADS}


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    ``memory_bytes`` bounds all its processes together; each process may allocate 1 GiB
    less (at least 1 GiB), so a runaway allocation raises MemoryError in the notebook
    before the whole submission has to be stopped. ``disk_bytes`` bounds what it writes to
    its home and ``/tmp`` together; ``tasks`` its processes and threads.
    """

    seconds: float = 600.0
    memory_bytes: int = 4 * 2**30
    cell_seconds: int = 120
    disk_bytes: int = 2**30
    tasks: int = 1024

    @property
    def process_bytes(self) -> int:
        return max(self.memory_bytes - 2**30, 2**30)


@dataclass(frozen=True)
class Outcome:
    """How a limited run ended: ``failure`` is empty when it finished normally."""

    seconds: float
    peak_memory_bytes: int
    failure: str = ""


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux only), so that none escapes being stopped."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _limit_child(memory_bytes: int):
    """Return the function that sets a limited process's limits just before it starts."""
    def limit() -> None:
        become_subreaper()
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return limit


def grading_environment(home: Path) -> dict[str, str]:
    """The environment of a grading process: ``home`` as HOME and for every Jupyter,
    IPython and Matplotlib folder, so no user configuration (``~/.jupyter``) is loaded."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("JUPYTER", "JPY_", "IPYTHON", "PYTHONSTARTUP"))}
    env.update({
        "HOME": str(home),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / ".runtime"),
        "MPLCONFIGDIR": str(home / FONT_CACHE),
        "KERAS_HOME": str(home / ".keras"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TMPDIR": str(home / "tmp"),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",  # a fresh .pyc in the course would look like tampering
        **KERNEL_TENSORFLOW,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def seed_font_cache(folder: Path) -> None:
    """Put Matplotlib's font cache in ``folder`` (a kernel's ``MPLCONFIGDIR``), so that a
    kernel in a new home does not rebuild it: seconds on a loaded machine with many fonts."""
    name, content = _font_cache()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)


@functools.cache
def _font_cache() -> tuple[str, bytes]:
    """The cache file's name and content, made once per process from this one's fonts."""
    from matplotlib import font_manager  # a second or so: only where a kernel will start

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fontlist.json"
        font_manager.json_dump(font_manager.fontManager, path)
        return f"fontlist-v{font_manager.FontManager.__version__}.json", path.read_bytes()


class PidsCgroup:
    """A pids cgroup (v1 or v2) capping tasks, where this process may create one."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, max_tasks: int) -> PidsCgroup | None:
        """A new cgroup below this process's own, or None where that is not allowed."""
        for parent in _own_pids_cgroups():
            path = parent / f"grader-{uuid.uuid4().hex[:12]}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(max_tasks))
                return cls(path)
            except OSError:
                if path.is_dir():
                    path.rmdir()
        return None

    def remove(self) -> None:
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:  # still has members: they are being killed
                time.sleep(0.1)


def _own_pids_cgroups() -> list[Path]:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):
            found.append(Path("/sys/fs/cgroup/pids") / path.lstrip("/"))
        elif controllers == "":
            found.append(Path("/sys/fs/cgroup") / path.lstrip("/"))
    return [path for path in found if (path / "cgroup.procs").exists()]


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def _usage(processes: list[psutil.Process]) -> tuple[int, int]:
    """Memory (PSS) and tasks (processes and threads) of ``processes``."""
    memory = tasks = 0
    for process in processes:
        try:
            memory += process.memory_full_info().pss
            tasks += process.num_threads()
        except psutil.Error:
            pass
    return memory, tasks


def folder_bytes(folder: Path) -> int:
    """Bytes of the files below ``folder`` (allocated blocks, so sparse files count as used)."""
    total, pending = 0, [str(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total


def stop_tree(process: psutil.Process, adopted: bool = False) -> None:
    """Freeze, then kill, ``process`` and every descendant, however fast they fork; with
    ``adopted``, also every orphan this (subreaper) process adopted."""
    frozen: dict[int, psutil.Process] = {}
    for _ in range(100):  # stop until a pass finds nothing new: then nothing can fork
        orphans = psutil.Process().children(recursive=True) if adopted else []
        found = [p for p in _tree(process) + orphans if p.pid not in frozen]
        if not found:
            break
        for victim in found:
            frozen[victim.pid] = victim
            try:
                victim.send_signal(signal.SIGSTOP)
            except psutil.Error:
                pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    for victim in frozen.values():
        try:
            victim.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(list(frozen.values()), timeout=10)


def run_limited(command: list[str], cwd: Path, env: dict[str, str], limits: Limits,
                log_path: Path, writable: tuple[Path, ...] = (), adopted: bool = False,
                spawn: Callable | None = None) -> Outcome:
    """Run ``command`` under ``limits``, its output to ``log_path``; ``writable`` are the
    folders whose size counts against ``limits.disk_bytes``; ``adopted`` as in `stop_tree`.
    ``spawn(command, cwd, env, log_path, memory_bytes)``, if given, starts the process in
    place of ``subprocess.Popen`` (`grader.worker.ForkServer.spawn`: the same process,
    forked from one that has imported nbgrader already)."""
    start = time.monotonic()
    peak, failure, polls = 0, "", 0
    with open(log_path, "ab") as log:
        if spawn is not None:
            child = spawn(command, cwd, env, log_path, limits.process_bytes)
        else:
            child = subprocess.Popen(
                command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_limit_child(limits.process_bytes))
        try:
            watched: psutil.Process | None = psutil.Process(child.pid)
        except psutil.NoSuchProcess:  # it ended, and the worker reaped it, before it was watched
            watched = None
        while watched is not None and child.poll() is None:
            memory, tasks = _usage(_tree(watched))
            peak = max(peak, memory)
            polls += 1
            written = sum(map(folder_bytes, writable)) if polls % 4 == 0 else 0
            if memory > limits.memory_bytes:
                failure = f"used more than {limits.memory_bytes / 2**30:.1f} GiB of memory"
            elif tasks > limits.tasks:
                failure = f"started more than {limits.tasks} processes and threads"
            elif written > limits.disk_bytes:
                failure = f"wrote more than {limits.disk_bytes / 2**20:.0f} MiB of files"
            elif time.monotonic() - start > limits.seconds:
                failure = f"ran past the {limits.seconds:.0f} s limit"
            if failure:
                break
            time.sleep(POLL_SECONDS)
        if watched is not None:
            stop_tree(watched, adopted)
        else:  # what it started, if anything, is in its own process group
            with contextlib.suppress(OSError):
                os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    if not failure and child.returncode != 0:
        failure = f"the grading process ended with exit status {child.returncode}"
    return Outcome(time.monotonic() - start, peak, failure)
