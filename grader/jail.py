"""Run a submission's kernel inside a bubblewrap sandbox (``bwrap``, the sandbox Flatpak uses).

The kernel and everything it starts get their own PID, network, IPC and user namespaces
and see a read-only system and Python environment, the course's ``helpers`` and ``grader``
packages, a writable home (the notebook's working folder), a private ``/tmp`` and, read-only,
the assignment's data only the grader has (`grader.heldout`): nothing else, so not the
course, its solutions, any gradebook, the grader's work folders or the instructor's HOME
(only the names of the folders above those it sees, such as ``/work``).
Its root and ``/dev`` are read-only; ``/tmp`` and ``/dev/shm`` are folders
of the box, so what is written there counts against the disk limit. The kernel talks to
nbgrader, which runs outside, over ZeroMQ IPC sockets in a folder both see (a short path
in ``/tmp``, counted against the disk limit like the others: see `Box`).

`SandboxedKernelManager` is the kernel manager nbgrader's `Execute` uses when the grader
asks for it (``--Execute.kernel_manager_class``); `Box` is the folder layout.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode

from grader.sandbox import FONT_CACHE, KERNEL_TENSORFLOW

INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; "
                "Fedora: sudo dnf install bubblewrap)")
SYSTEM_FOLDERS = ("/usr", "/etc", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
HOME = "/home/student"
IPC = "/ipc"  # where the sandbox sees the box's ipc folder
IPC_ROOT = "/tmp"  # short, so that socket paths fit (see Box)
DATA_MOUNT = "/grader-data"  # the data only the grader has (grader.heldout), read-only
DATA_VARIABLE = "GRADER_DATA"  # names that folder for the hidden tests, in or out of a box


@dataclass(frozen=True)
class Box:
    """A sandbox's folders on the host: ``home``, ``tmp``, ``shm`` (``/dev/shm``) and the IPC
    sockets' folder are all the sandbox can write, and all count against the disk limit.

    A Unix socket's path must fit in 107 bytes, so the IPC folder does not lie in ``folder``
    (whose depth depends on the temporary folder and the student id) but directly in
    ``/tmp``, under a name derived from ``folder``: the same for every process that names
    the box, and as long for every student.
    """

    folder: Path

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def tmp(self) -> Path:
        return self.folder / "tmp"

    @property
    def shm(self) -> Path:
        return self.folder / "shm"

    @property
    def ipc(self) -> Path:
        digest = hashlib.sha256(str(Path(self.folder).resolve()).encode()).hexdigest()[:16]
        return Path(IPC_ROOT) / f"grader-ipc-{digest}"

    @property
    def writable(self) -> tuple[Path, ...]:
        """Every folder the sandbox can write to: their sizes count against the disk limit."""
        return self.home, self.tmp, self.shm, self.ipc

    def create(self) -> Box:
        for path in (self.home, self.tmp, self.shm):
            path.mkdir(parents=True, exist_ok=True)
        _private_folder(self.ipc)
        return self

    def remove(self) -> None:
        """Remove the IPC folder (the rest goes with ``folder``)."""
        shutil.rmtree(self.ipc, ignore_errors=True)


def _private_folder(path: Path) -> None:
    """Create ``path`` for this user alone, or check that it already is: in a shared /tmp,
    another user could have made it first (or a link by its name)."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{path} must be a folder of this user's alone (mode 700); "
                              "something else is there: remove it and grade again")


def readable_folders() -> list[str]:
    """What the sandbox sees read-only: the system, Python, and the course's packages."""
    packages = [str(Path(importlib.util.find_spec(name).origin).resolve().parent)
                for name in ("helpers", "grader")]  # found, not imported: that takes seconds
    pythons = [str(Path(prefix).resolve()) for prefix in (sys.base_prefix, sys.prefix)]
    found = [path for path in (*SYSTEM_FOLDERS, *pythons, *packages) if os.path.exists(path)]
    return list(dict.fromkeys(found))


def bwrap_command(box: Box, data: Path | None = None) -> list[str]:
    """The ``bwrap`` arguments that put a command into ``box``, with ``data`` (a folder of
    data only the grader has) read-only at `DATA_MOUNT`."""
    command = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
               "--proc", "/proc", "--dev", "/dev"]
    command += ["--bind", str(box.home), HOME, "--bind", str(box.tmp), "/tmp",
                "--bind", str(box.shm), "/dev/shm", "--bind", str(box.ipc), IPC]
    # Read-only folders go on top of the writable ones: a Python environment or checkout
    # under /tmp (as CI may clone there) must stay visible through the private /tmp.
    for folder in readable_folders():
        command += ["--ro-bind", folder, folder]
    if data is not None:
        command += ["--ro-bind", str(data), DATA_MOUNT]
    command += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", HOME]
    environment = {
        "HOME": HOME, "TMPDIR": "/tmp", "LANG": "C.UTF-8",
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{HOME}/{FONT_CACHE}", "PYTHONDONTWRITEBYTECODE": "1",
        **KERNEL_TENSORFLOW,
        **({DATA_VARIABLE: DATA_MOUNT} if data is not None else {}),
    }
    for name, value in environment.items():
        command += ["--setenv", name, value]
    return [*command, "--"]


def why_no_bwrap() -> str:
    """Empty if ``bwrap`` can sandbox a process here; otherwise why not, and what to do."""
    if shutil.which("bwrap") is None:
        return f"bwrap is not installed: {INSTALL_HINT}"
    probe = ["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent",
             "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap cannot run here ({error})"
    if result.returncode != 0:
        return (f"bwrap cannot create namespaces here ({result.stderr.strip()[:200]}): allow "
                "unprivileged user namespaces, or run the grader where they are allowed")
    return ""


class SandboxedKernelManager(AsyncKernelManager):
    """Start the kernel inside ``bwrap``, connected over IPC sockets in the box's ipc folder.

    The kernel reads a copy of the connection file that names the sockets by their path in
    the sandbox (``/ipc``), so it never learns where the box is on the host. Interrupts go as
    messages: the kernel is not in a process group the grader can signal.
    ``cgroup`` (optional) is a pids cgroup the sandbox joins before it starts, so the
    process cap holds from its first fork.
    """

    box = Unicode("", help="The sandbox folder (see grader.jail.Box).").tag(config=True)
    cgroup = Unicode("", help="A cgroup folder the sandbox joins, or empty.").tag(config=True)
    data = Unicode("", help="A folder of data only the grader has, or empty.").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.box:
            raise ValueError("SandboxedKernelManager needs --SandboxedKernelManager.box=FOLDER")
        box = Box(Path(self.box)).create()
        self.transport = "ipc"
        self.ip = str(box.ipc / "kernel")
        self.connection_file = str(box.folder / "kernel.json")  # not visible inside

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"
        return spec

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        """The kernel command inside bwrap; called once the connection file is written."""
        box = Box(Path(self.box))
        inside = dict(self.get_connection_info(session=False), ip=f"{IPC}/kernel")
        inside = {key: value.decode() if isinstance(value, bytes) else value
                  for key, value in inside.items()}
        (box.ipc / "sandbox.json").write_text(json.dumps(inside))
        kernel = [f"{IPC}/sandbox.json" if part == self.connection_file else part
                  for part in super().format_kernel_cmd(extra_arguments)]
        command = [*bwrap_command(box, Path(self.data) if self.data else None), *kernel]
        if self.cgroup:
            join = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
            command = ["/bin/sh", "-c", join, "sh", self.cgroup, *command]
        return command
