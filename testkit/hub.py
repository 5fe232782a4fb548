"""A class on one machine, as on its JupyterHub, with real Linux users (needs root): the
users (`grader.hub_users`), a private course directory owned by the course account, a
secured exchange with the week released, and ways to act as each user. Used by
tests/test_hub_class.py and benchmarks/feedback_service.py."""

from __future__ import annotations

import base64
import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from grader import hub_users, serve
from grader.config import CourseConfig
from grader.exchange import Exchange
from testkit.course import ROOT, answered, make_course_copy, read_notebook

HUB_PYTHON = ROOT / ".venv-hub" / "bin" / "python"  # every user can run it (make hub-env)


def why_no_users() -> str:
    """Empty if this process can create real users; otherwise why not."""
    if os.geteuid() != 0:
        return "creating real users needs root (CI runs as root)"
    missing = [tool for tool in ("useradd", "userdel", "runuser", "chpasswd") if not shutil.which(tool)]
    return f"{', '.join(missing)} not found" if missing else ""


def as_user(user: str, *command: str, cwd: Path | str = "/", check: bool = False,
            timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``command`` as the Unix user ``user``, with a clean environment and their home."""
    env = ["env", "-i", f"HOME={pwd.getpwnam(user).pw_dir}", f"USER={user}",
           f"PATH={HUB_PYTHON.parent}:/usr/bin:/bin", "LANG=C.UTF-8", "TF_CPP_MIN_LOG_LEVEL=3"]
    result = subprocess.run(["runuser", "-u", user, "--", *env, *command], cwd=cwd,
                            capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{user}: {' '.join(command)}\n{result.stderr[-3000:]}"
    return result


class HubClass:
    """The users, folders and exchange of one class (names start with a fresh tag)."""

    def __init__(self, week: str, students: list[str], per_day: int):
        self.tag = f"t{uuid.uuid4().hex[:5]}"
        self.week, self.per_day = week, per_day
        self.top = Path(f"/tmp/{self.tag}-hub")  # not in pytest's folders: root's only
        self.group, self.grader = f"{self.tag}-class", f"{self.tag}-grader"
        self.students = [f"{self.tag}-{name}" for name in students]
        self.course = self.top / "course"
        self.exchange = Exchange(self.top / "exchange", CourseConfig.load(ROOT).course_id)

    def create(self) -> None:
        """Users (passwords in top/passwords.csv), the course, the exchange, the release."""
        self.top.mkdir(mode=0o755)
        hub_users.write_passwords(hub_users.create(self.students, self.group, self.grader),
                                  self.top / "passwords.csv")
        self.exchange.root.mkdir(mode=0o755)
        os.chmod(self.exchange.root, 0o1777)  # as the README has root make it
        make_course_copy(self.course, [self.week])
        with open(self.course / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.Exchange.root = {str(self.exchange.root)!r}\n"
                         f"c.FeedbackOnSubmit.per_day = {self.per_day}\n")
        subprocess.run(["chown", "-R", f"{self.grader}:{self.grader}", str(self.course)], check=True)
        os.chmod(self.course, 0o700)
        self.instructor(str(HUB_PYTHON), "-m", "grader.exchange", "--group", self.group)
        self.instructor(str(HUB_PYTHON), "-m", "nbgrader", "release_assignment", self.week)

    def add_week(self, week: str) -> None:
        """Generate and release another assignment, as the course account does."""
        shutil.copytree(ROOT / "solutions" / week, self.course / "solutions" / week)
        subprocess.run(["chown", "-R", f"{self.grader}:{self.grader}", str(self.course / "solutions")],
                       check=True)
        self.instructor(str(HUB_PYTHON), "-m", "nbgrader", "generate_assignment", week, "--force")
        self.instructor(str(HUB_PYTHON), "-m", "nbgrader", "release_assignment", week)

    def remove(self) -> None:
        hub_users.remove(self.students, self.group, self.grader)
        shutil.rmtree(self.top, ignore_errors=True)

    def nbgrader(self, user: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """An nbgrader exchange command as a student runs it from their Assignment List."""
        return as_user(user, str(HUB_PYTHON), "-m", "nbgrader", *args,
                       f"--course={self.exchange.course_id}",
                       f"--Exchange.root={self.exchange.root}", cwd=f"/home/{user}", check=check)

    def instructor(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return as_user(self.grader, *command, cwd=self.course, check=check)

    def serve_command(self, *extra: str, grade_options: tuple[str, ...] = ()) -> list[str]:
        return [str(HUB_PYTHON), "-m", "grader.serve", self.week, "--root", str(self.course),
                "--jobs", "2", "--poll", "1", "--grade-options", " ".join(grade_options), *extra]

    def answer(self, grade_ids: list[str] | None) -> nbformat.NotebookNode:
        """The release with the reference answers of ``grade_ids`` (None: all) typed in."""
        solution = read_notebook(ROOT / "solutions" / self.week / "assignment.ipynb")
        release = read_notebook(self.course / "course" / self.week / "assignment.ipynb")
        return answered(release, solution, grade_ids)

    def submit(self, student: str, grade_ids: list[str] | None, *extra: str) -> None:
        """Answer the student's fetched notebook and submit it with ``nbgrader submit``."""
        notebook = Path(f"/home/{student}") / self.week / "assignment.ipynb"
        solution = read_notebook(ROOT / "solutions" / self.week / "assignment.ipynb")
        nbformat.write(answered(read_notebook(notebook), solution, grade_ids), notebook)
        shutil.chown(notebook, student, student)
        self.nbgrader(student, "submit", self.week, *extra)

    def drop(self, student: str, notebook: nbformat.NotebookNode) -> str:
        """Put ``notebook`` into inbound as ``student`` at once, as ``nbgrader submit`` lays a
        submission out (its folder, timestamp and secret, with nbgrader's modes), in a child
        process that is that user; return the entry's name. For bursts: no interpreter start."""
        user = pwd.getpwnam(student)
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        entry = (f"{student}+{self.week}+{stamp}+"
                 f"{base64.urlsafe_b64encode(secrets.token_bytes(9)).decode()}")
        data = nbformat.writes(notebook).encode()
        child = os.fork()
        if child == 0:  # pragma: no cover -- the child
            code = 1
            try:
                os.initgroups(user.pw_name, user.pw_gid)
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)
                folder = self.exchange.inbound / entry
                folder.mkdir()
                for name, content in (("assignment.ipynb", data), ("timestamp.txt", stamp.encode()),
                                      ("submission_secret.txt", secrets.token_hex(64).encode())):
                    (folder / name).write_bytes(content)
                    os.chmod(folder / name, 0o644)
                os.chmod(folder, 0o777)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0, f"{student} could not submit"
        return entry

    def queue(self) -> dict[str, list]:
        """The service's queue: student -> rows, oldest first."""
        rows: dict[str, list] = {}
        for row in serve.Queue(CourseConfig.load(self.course).db_url).rows():
            rows.setdefault(row.student, []).append(row)
        return rows

    def queue_state(self, student: str, week: str) -> str | None:
        """The state of ``student``'s latest submission of ``week`` in the service's queue."""
        rows = [row for row in self.queue().get(student, []) if row.assignment == week]
        return rows[-1].state if rows else None

    @contextlib.contextmanager
    def service(self, *extra: str, grade_options: tuple[str, ...] = ()) -> Iterator[subprocess.Popen]:
        """The feedback service running as the course account, stopped afterwards."""
        process = subprocess.Popen(["runuser", "-u", self.grader, "--",
                                    *self.serve_command(*extra, grade_options=grade_options)],
                                   cwd=self.course, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            yield process
        finally:
            self.kill_service()
            process.wait(timeout=60)

    def kill_service(self) -> None:
        """SIGKILL the service (runuser passes no SIGKILL on: the service itself is killed)."""
        import psutil

        for process in psutil.process_iter(["username", "cmdline"]):
            if process.info["username"] == self.grader and \
                    "grader.serve" in " ".join(process.info["cmdline"] or []):
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()

