"""nbgrader's file-system exchange on a machine students share (a JupyterHub), made safe.

nbgrader's exchange trusts its users. Its root must be writable by everyone, so a student
could rename the course's folder and put their own in its place (nbgrader issue 1225); any
student can write into the inbound folder under any student's name (1097); a submission
lands in a folder everyone may write, and feedback is protected only by its file name
(1202). This module closes those holes; `grader.serve` uses it:

- `secure` lays the exchange out: the root sticky, as ``/tmp`` is, so nobody removes or
  renames what another made; the course's folder open to the course's group only; released
  assignments writable by the course account only; inbound writable by the class but
  listable by nobody but the course account, and sticky; feedback traversable only.
- `receive` takes a submission out of inbound only if every file in it belongs to the
  student it names (a file the student did not write is a forgery: refused, with the
  reason), opening each file without following links, so that nothing the student swaps in
  between the check and the copy is read.
- `release_feedback` writes a student's feedback readable by that student alone (mode
  0600 and a POSIX ACL entry for the student), then renames it into place.

Ownership is the proof of who submitted: on a hub each student is their own Unix user, and
only root can give a file to another user.
"""

from __future__ import annotations

import grp
import html
import os
import pwd
import stat
import struct
import sys
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nbgrader.utils import notebook_hash, parse_utc

MAX_SUBMISSION_BYTES = 100 * 2**20  # a week's notebooks weigh about 1 MB
CLOCK_SLACK = timedelta(minutes=5)  # how far a claimed time may precede the files' own


class Refused(Exception):
    """A submission the course will not take, and why (said to the instructor)."""


@dataclass(frozen=True)
class Exchange:
    """The exchange folders of one course."""

    root: Path
    course_id: str

    @property
    def course(self) -> Path:
        return self.root / self.course_id

    @property
    def outbound(self) -> Path:
        return self.course / "outbound"

    @property
    def inbound(self) -> Path:
        return self.course / "inbound"

    @property
    def feedback(self) -> Path:
        return self.course / "feedback"

    @property
    def received(self) -> Path:
        """Where submissions go from inbound as they arrive: the course account's alone."""
        return self.course / "received"

    def entries(self, assignment: str) -> list[str]:
        """Names of the submissions of ``assignment`` in inbound or received, oldest first."""
        names = {name for folder in (self.inbound, self.received) for name in os.listdir(folder)
                 if len(parts := name.split("+")) in (3, 4) and parts[1] == assignment}
        return sorted(names, key=lambda name: (name.split("+")[2], name))

    def take_out(self, entry: str) -> None:
        """Move ``entry`` from inbound, where nbgrader leaves it writable by everyone (hidden
        only by its name), into received. A folder that cannot be moved (its owner took away
        write permission, which moving a folder needs) is read where it is."""
        try:
            os.rename(self.inbound / entry, self.received / entry)
        except (FileNotFoundError, PermissionError):  # taken out before, or not movable
            pass

    def check_owner(self, entry: str) -> None:
        """Refuse ``entry`` at once if its folder is not the named student's (a forgery):
        then it cannot displace the student's own submissions while it waits."""
        student = student_of(entry)[0]
        info = os.lstat(self.location(entry))
        if not stat.S_ISDIR(info.st_mode):
            raise Refused(f"{entry} is not a folder")
        if info.st_uid != uid_of(student):
            raise Refused(f"{entry}: . belongs to {_user_name(info.st_uid)}, not to the student "
                          f"the submission names ({student}): submitted by someone else")

    def location(self, entry: str) -> Path:
        moved = self.received / entry
        return moved if os.path.lexists(moved) else self.inbound / entry


# Who may do what (nbgrader needs the root writable by everyone, for every command).
ROOT_MODE = 0o1777
COURSE_MODE = 0o750  # the course account, and the class through the group
OUTBOUND_MODE = 0o755  # readable by the class (the course folder admits only the class)
INBOUND_MODE = 0o1730  # the class writes; nobody else lists, and nobody removes another's
FEEDBACK_MODE = 0o710  # the class may open a file it knows the name of: each its own (ACL)
RECEIVED_MODE = 0o700  # the course account's only


def secure(exchange: Exchange, group: str) -> None:
    """Create or repair the exchange of the course: owned by the user who runs this (the
    course account), the course's folders open to ``group`` (the class) as the module
    docstring says. Run as root it may create the root; otherwise the root must exist."""
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise Refused(f"no group {group!r} on this machine: make hub-users creates the "
                      "class's group") from None
    if not exchange.root.exists():
        exchange.root.mkdir(parents=True)
        os.chmod(exchange.root, ROOT_MODE)
    info = exchange.root.stat()
    if info.st_mode & 0o7777 != ROOT_MODE:
        if info.st_uid != os.getuid():
            raise Refused(f"the exchange root {exchange.root} has mode "
                          f"{oct(info.st_mode & 0o7777)}, it needs {oct(ROOT_MODE)} (sticky, as "
                          "/tmp): ask its owner (root) to run chmod 1777 on it")
        os.chmod(exchange.root, ROOT_MODE)
    for folder, mode in ((exchange.course, COURSE_MODE), (exchange.outbound, OUTBOUND_MODE),
                         (exchange.inbound, INBOUND_MODE), (exchange.feedback, FEEDBACK_MODE),
                         (exchange.received, RECEIVED_MODE)):
        folder.mkdir(exist_ok=True)
        if folder.stat().st_uid != os.getuid():
            raise Refused(f"{folder} belongs to user {folder.stat().st_uid}, not to the course "
                          f"account ({os.getuid()}) that runs the exchange: a student may have "
                          "made it; remove it (as root) and run again")
        os.chown(folder, -1, gid)
        os.chmod(folder, mode)


@dataclass(frozen=True)
class Received:
    """A submission taken out of inbound into ``submitted/<student>/<assignment>``."""

    entry: str  # its inbound folder's name
    student: str
    assignment: str
    timestamp: str  # as the gradebook records it
    note: str = ""  # what the instructor should know (a claimed time that was corrected)


def student_of(entry: str) -> tuple[str, str, str]:
    """``(student, assignment, claimed timestamp)`` of an inbound folder's name."""
    parts = entry.split("+")
    if len(parts) not in (3, 4) or not all(parts[:3]):
        raise Refused(f"{entry!r} is not an nbgrader submission's name "
                      "(student+assignment+timestamp[+random])")
    return parts[0], parts[1], parts[2]


def uid_of(student: str) -> int:
    try:
        return pwd.getpwnam(student).pw_uid
    except KeyError:
        raise Refused(f"no user {student!r} on this machine: a submission must come from the "
                      "student it names") from None


def receive(exchange: Exchange, entry: str, submitted: Path) -> Received:
    """Check the submission ``entry`` and copy it to ``submitted/<student>/<assignment>``
    (replacing what was there); raise `Refused` for a submission the course will not take.

    Every file and folder in it must belong to the student it names, and be a plain file or
    folder (no links, devices or pipes).
    """
    student, assignment, claimed = student_of(entry)
    uid = uid_of(student)
    submitted.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=submitted, prefix=".receiving-") as staging:
        copy = Path(staging) / "copy"
        newest = _copy_owned(exchange.location(entry), copy, uid, entry)
        timestamp, note = _timestamp(copy, claimed, newest)
        (copy / "timestamp.txt").write_text(timestamp)
        destination = submitted / student / assignment
        destination.parent.mkdir(parents=True, exist_ok=True)
        old = Path(staging) / "old"
        if destination.exists():
            destination.rename(old)
        copy.rename(destination)
    return Received(entry, student, assignment, timestamp, note)


def _copy_owned(source: Path, destination: Path, uid: int, entry: str) -> float:
    """Copy the folder ``source``, every part of which ``uid`` owns; return the newest
    change time (ctime, which no unprivileged user can set back) of what it holds (not of
    the folder itself, whose ctime moving it changes)."""
    total = 0
    with ExitStack() as opened:
        def open_owned(name: str, where: str, folder: int | None = None) -> tuple[int, os.stat_result]:
            try:
                handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
            except OSError as error:  # a link (ELOOP), or gone
                raise Refused(f"{entry}: {where} cannot be read as a plain file or folder "
                              f"({error.strerror})") from None
            opened.callback(os.close, handle)
            info = os.fstat(handle)
            _check_owned(info, uid, entry, where)
            return handle, info

        top, info = open_owned(str(source), ".")
        if not stat.S_ISDIR(info.st_mode):
            raise Refused(f"{entry} is not a folder")
        newest = 0.0
        destination.mkdir()
        stack = [(top, destination, ".")]
        while stack:
            folder, target, where = stack.pop()
            for name in os.listdir(folder):
                handle, info = open_owned(name, f"{where}/{name}", folder)
                newest = max(newest, info.st_ctime)
                if stat.S_ISDIR(info.st_mode):
                    (target / name).mkdir()
                    stack.append((handle, target / name, f"{where}/{name}"))
                    continue
                total += info.st_size
                if total > MAX_SUBMISSION_BYTES:
                    raise Refused(f"{entry}: more than {MAX_SUBMISSION_BYTES // 2**20} MiB")
                with open(target / name, "wb") as copy:
                    while chunk := os.read(handle, 2**20):
                        copy.write(chunk)
    return newest


def _check_owned(info: os.stat_result, uid: int, entry: str, path: str) -> None:
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise Refused(f"{entry}: {path} is not a plain file or folder")
    if info.st_uid != uid:
        owner = _user_name(info.st_uid)
        raise Refused(f"{entry}: {path} belongs to {owner}, not to the student the submission "
                      f"names ({entry.split('+')[0]}): submitted by someone else")


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"user {uid}"


def _timestamp(copy: Path, claimed: str, newest_ctime: float) -> tuple[str, str]:
    """The submission's time: the one it claims, unless its files were written more than
    `CLOCK_SLACK` after it (a student who writes an earlier time to escape a late penalty)."""
    written = datetime.fromtimestamp(newest_ctime, timezone.utc).replace(tzinfo=None)
    text = (copy / "timestamp.txt").read_text().strip() if (copy / "timestamp.txt").is_file() else claimed
    try:
        stated = parse_utc(text)
    except (ValueError, OverflowError):
        stated = None
    if stated is not None and written - stated <= CLOCK_SLACK:
        return text, ""
    actual = written.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    return actual, f"claimed {text!r}, its files were written at {actual}: recorded as written"


def release_feedback(exchange: Exchange, feedback_folder: Path, student: str,
                     notebooks: Iterable[str] = ()) -> list[Path]:
    """Publish the feedback pages in ``feedback_folder`` (``feedback/<student>/<assignment>``)
    where nbgrader's ``fetch_feedback`` finds them, each readable by ``student`` alone.

    ``notebooks`` names every notebook of the submission: one without a page (a tutorial,
    which carries no points) gets a page that says so, since the Assignment List offers a
    submission's feedback only when every notebook has some.
    """
    secret = (feedback_folder / "submission_secret.txt").read_text()
    uid = uid_of(student)
    pages = {page.stem: page.read_bytes() for page in feedback_folder.glob("*.html")}
    for notebook in notebooks:
        pages.setdefault(notebook, NO_POINTS_PAGE.format(notebook=html.escape(notebook)).encode())
    published = []
    for notebook, content in sorted(pages.items()):
        name = notebook_hash(secret=secret, notebook_id=notebook)
        fd, temporary = tempfile.mkstemp(dir=exchange.feedback, prefix=".releasing-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o600)
        grant_read(Path(temporary), uid)
        os.replace(temporary, exchange.feedback / f"{name}.html")
        published.append(exchange.feedback / f"{name}.html")
    return published


NO_POINTS_PAGE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>{notebook}</title>"
                  "</head><body><p>{notebook}.ipynb carries no points: it has no feedback. "
                  "Your feedback is in the graded notebook's page.</p></body></html>")


# POSIX ACLs as Linux stores them in the system.posix_acl_access attribute (acl_ea.h).
_ACL_VERSION, _USER_OBJ, _USER, _GROUP_OBJ, _MASK, _OTHER = 2, 0x01, 0x02, 0x04, 0x10, 0x20
_NO_ID = 0xFFFFFFFF


def grant_read(path: Path, uid: int) -> None:
    """Let user ``uid`` read ``path`` besides its owner, whatever its mode (a POSIX ACL, as
    ``setfacl -m u:UID:r`` sets it)."""
    mode = path.stat().st_mode
    entries = [(_USER_OBJ, (mode >> 6) & 7, _NO_ID), (_USER, 4, uid),
               (_GROUP_OBJ, (mode >> 3) & 7, _NO_ID), (_MASK, 4 | (mode >> 3) & 7, _NO_ID),
               (_OTHER, mode & 7, _NO_ID)]
    value = struct.pack("<I", _ACL_VERSION) + b"".join(struct.pack("<HHI", *entry)
                                                       for entry in entries)
    try:
        os.setxattr(path, "system.posix_acl_access", value)
    except OSError as error:
        raise OSError(f"cannot give user {uid} read access to {path}: the file system does not "
                      f"take POSIX ACLs here ({error.strerror}); put the exchange on one that "
                      "does (ext4, xfs, btrfs, NFSv4 with ACLs)") from None


def main(argv: list[str] | None = None) -> int:
    import argparse

    from grader.config import CourseConfig

    parser = argparse.ArgumentParser(
        prog="python -m grader.exchange", description="Create or repair the course's exchange "
        "(Exchange.root in nbgrader_config.py), safe for a class sharing one machine.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    parser.add_argument("--group", required=True, help="the class's Unix group")
    options = parser.parse_args(argv)
    config = CourseConfig.load(options.root)
    if config.exchange_root is None:
        parser.error(f"{config.root / 'nbgrader_config.py'} sets no Exchange.root")
    try:
        secure(Exchange(config.exchange_root, config.course_id), options.group)
    except Refused as error:
        print(f"cannot secure the exchange: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
