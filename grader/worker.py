"""A grading worker: one long-lived process that has imported nbgrader once, and forks a
fresh process for each submission.

Starting ``python -m nbgrader autograde`` costs about 3 s of imports before it grades
anything. `ForkServer` starts ``python -m grader.worker`` once per grading process; it
imports nbgrader, nbconvert, jupyter_client and the course's preprocessors, then waits for
requests. For each, it forks a child that is exactly what `grader.sandbox.run_limited`
would have started: a new session, the same resource limits, its output to the log, the
job's environment and folder, and then the command's ``main``. The caller watches and stops
the child as it would its own (`Forked` answers ``poll`` and ``wait`` like ``Popen``), so the
limits, the sandboxed kernel and every guarantee stay as they were. Only the imports are
shared, and only with the trusted nbgrader side: student code runs in the kernel, which is
started afresh, inside bwrap, for every submission.

Requests come only from the grading process, through the worker's stdin. The worker speaks JSON lines on its stdin and stdout: a request
``{"argv": [...], "cwd": ..., "env": {...}, "log": ..., "memory": bytes}`` is answered by
``{"started": pid}``, and each child's end by ``{"exited": pid, "status": code}``.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
from pathlib import Path

# What `nbgrader autograde` imports before it grades: loaded once, before any fork.
PRELOAD = ("nbgrader.apps.nbgraderapp", "nbgrader.converters.autograde", "nbconvert",
           "nbclient", "jupyter_client.manager", "zmq", "grader.preprocessors", "grader.jail",
           "grader.late", "sqlalchemy", "alembic")


class WorkerError(RuntimeError):
    """The worker could not start a child (it is gone, or refused the request)."""


def _child(request: dict, own_fds: tuple[int, ...]) -> None:
    """In the forked child: become what run_limited starts, then run the module. Never returns."""
    from grader.sandbox import _limit_child

    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for fd in own_fds:
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        _limit_child(request["memory"])()
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        import tempfile
        tempfile.tempdir = None  # TMPDIR is the job's
        option, target, *args = request["argv"]
        sys.argv = [target if option == "-m" else "-c", *args]
        if option == "-m":
            import runpy
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    """The worker's loop: fork a child per request, report each child's end."""
    import importlib
    for name in PRELOAD:
        importlib.import_module(name)
    if threading.active_count() > 1:  # forking a process with threads can deadlock the child
        sys.exit(f"the grading worker has {threading.active_count()} threads after its imports")
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.buffer.raw, selectors.EVENT_READ, "request")
    selector.register(wakeup_read, selectors.EVENT_READ, "child")
    pending = b""
    reply = _replier()
    reply({"ready": os.getpid()})
    while True:
        for key, _ in selector.select():
            if key.data == "child":
                os.read(wakeup_read, 4096)
                _reap(reply)
                continue
            data = os.read(key.fd, 65536)
            if not data:  # the grading process is gone
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    _child(json.loads(line), (wakeup_read, wakeup_write))
                reply({"started": pid})
        _reap(reply)  # a SIGCHLD may have come while forking


def _replier():
    out = sys.stdout.buffer

    def reply(message: dict) -> None:
        out.write(json.dumps(message).encode() + b"\n")
        out.flush()
    return reply


def _reap(reply) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reply({"exited": pid, "status": os.waitstatus_to_exitcode(status)})


class Forked:
    """A child of the worker, answering like ``subprocess.Popen``."""

    def __init__(self, server: ForkServer, pid: int):
        self.server, self.pid, self.returncode = server, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.server.status(self.pid, wait=True, timeout=timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"worker child {self.pid}", timeout)
        return self.returncode


class ForkServer:
    """The grading process's side of the worker: start it once, ask it for children."""

    _shared: ForkServer | None = None
    _shared_lock = threading.Lock()

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "grader.worker"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        start_new_session=True)
        self.lock, self.changed = threading.Lock(), threading.Condition()
        self.started: list[int] = []
        self.exited: dict[int, int] = {}
        self.ready = False
        threading.Thread(target=self._read, daemon=True, name="grader-worker").start()
        with self.changed:
            if not self.changed.wait_for(lambda: self.ready or self.process.poll() is not None,
                                         timeout=120) or not self.ready:
                self.close()
                raise WorkerError("the grading worker did not start")

    @classmethod
    def shared(cls) -> ForkServer:
        """This process's worker, started on first use and stopped at exit."""
        with cls._shared_lock:
            if cls._shared is None or cls._shared.process.poll() is not None:
                cls._shared = cls()
                atexit.register(cls._shared.close)
            return cls._shared

    def _read(self) -> None:
        for line in self.process.stdout:
            message = json.loads(line)
            with self.changed:
                if "ready" in message:
                    self.ready = True
                elif "started" in message:
                    self.started.append(message["started"])
                else:
                    self.exited[message["exited"]] = message["status"]
                self.changed.notify_all()
        with self.changed:  # the worker is gone
            self.changed.notify_all()

    def spawn(self, command: list[str], cwd: Path, env: dict[str, str], log_path: Path,
              memory_bytes: int) -> Forked:
        """Start ``command`` (``python -m nbgrader ...``, or ``python -c CODE``) as a limited
        child of the worker; only this process's own commands reach the worker."""
        if command[0] != sys.executable or command[1:2] not in (["-m"], ["-c"]) or len(command) < 3:
            raise WorkerError(f"the worker runs `{sys.executable} -m MODULE` or `-c CODE`, "
                              f"not {command[:3]}")
        request = {"argv": command[1:], "cwd": str(cwd), "env": env, "log": str(log_path),
                   "memory": memory_bytes}
        with self.lock, self.changed:
            count = len(self.started)
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            if not self.changed.wait_for(lambda: len(self.started) > count
                                         or self.process.poll() is not None, timeout=60) \
                    or len(self.started) <= count:
                raise WorkerError("the grading worker did not start the submission's process")
            return Forked(self, self.started[count])

    def status(self, pid: int, wait: bool = False, timeout: float | None = None) -> int | None:
        """The child's exit status, or None while it runs (waiting up to ``timeout`` if asked)."""
        with self.changed:
            if wait:
                self.changed.wait_for(lambda: pid in self.exited or self.process.poll() is not None,
                                      timeout=timeout)
            if pid in self.exited:
                return self.exited.pop(pid)
            if self.process.poll() is not None:  # the worker died: no status will come
                return -signal.SIGKILL
            return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def spawner():
    """``ForkServer.shared().spawn``, or None where the worker cannot run (then processes
    start afresh, as they also do with ``GRADER_WORKER=0``, for comparing)."""
    if os.environ.get("GRADER_WORKER") == "0":
        return None
    try:
        return ForkServer.shared().spawn
    except (WorkerError, OSError):
        return None


if __name__ == "__main__":
    serve()
