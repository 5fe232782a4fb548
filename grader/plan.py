"""Grading a class, phase 1: the run's plan, made once and then only read.

`prepare` registers the assignment (``nbgrader generate_assignment``), backs up the
gradebook, writes the due date from the config, and builds the files of the private course
every sandbox grades in. The `Plan` it returns is everything the later phases need.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
from nbgrader.api import Gradebook

from grader import gradebook as gradebook_db
from grader import heldout
from grader.config import CourseConfig
from grader.grade_one import ISOLATIONS, Job, remove_folder
from grader.layout import CONFIG_FILE, CourseLayout
from grader.sandbox import Limits, grading_environment, stop_tree
from grader.submissions import Submission
from grader.worker import spawner

log = logging.getLogger(__name__)


class GradingError(Exception):
    """The run itself cannot go on (not one student's problem)."""


def nbgrader(root: Path, env: Mapping[str, str], *args: str, timeout: float = 600,
             log_path: Path | None = None) -> subprocess.CompletedProcess:
    """Run an nbgrader command on the course in ``root``; no student code runs in it.
    It is forked by the grading worker (`grader.worker`), which has imported nbgrader
    already, where the worker runs. Its output (in ``stderr``) is appended to ``log_path``
    when one is given."""
    command = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}"]
    start = time.monotonic()
    spawn = spawner()
    if spawn is None:
        try:
            result = subprocess.run(command, cwd=root, env=dict(env), capture_output=True,
                                    text=True, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise GradingError(f"nbgrader {args[0]} ran past {timeout:.0f} s") from error
    else:
        result = _forked(spawn, command, root, env, timeout)
    log.debug("nbgrader %s %s: %.1f s", args[0], args[1] if len(args) > 1 else "",
              time.monotonic() - start)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(f"$ nbgrader {' '.join(args)}\n{result.stdout}{result.stderr}"
                         f"(exit status {result.returncode})\n\n")
    return result


def _forked(spawn, command: list[str], root: Path, env: Mapping[str, str],
            timeout: float) -> subprocess.CompletedProcess:
    """``command`` as a child of the grading worker; its output is all in ``stderr``."""
    with tempfile.TemporaryDirectory(prefix="nbgrader-output-") as folder:
        output = Path(folder) / "output.log"
        child = spawn(command, root, dict(env), output, resource.RLIM_INFINITY)
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired as error:
            with contextlib.suppress(psutil.Error):
                stop_tree(psutil.Process(child.pid))
            raise GradingError(f"nbgrader {command[3]} ran past {timeout:.0f} s") from error
        text = output.read_text(encoding="utf-8", errors="replace") if output.exists() else ""
    return subprocess.CompletedProcess(command, code, "", text)


@dataclass(frozen=True)
class Plan:
    """What one run grades, and how."""

    config: CourseConfig
    assignment: str
    limits: Limits
    jobs: int
    isolation: str
    scheduler: str | None
    graded: tuple[str, ...]  # the notebooks that carry points (tutorials carry none)
    released: tuple[str, ...]  # every file of the release (tutorials come with a submission)
    work: Path  # this run's private folder, removed at the end
    env: Mapping[str, str]  # for nbgrader commands: no user configuration
    backup: Path  # the gradebook as it was before the run
    template: Mapping[str, bytes]  # the private course each sandbox grades in
    grader_data: Mapping[str, bytes]  # held-out data, read-only in each sandbox (grader.heldout)

    @property
    def layout(self) -> CourseLayout:
        return self.config.layout

    @property
    def recording_log(self) -> Path:
        return self.layout.recording_log(self.assignment)

    def gradebook(self) -> Gradebook:
        return Gradebook(self.config.db_url, course_id=self.config.course_id)

    def notebook_option(self) -> list[str]:
        """nbgrader's --notebook when one notebook is graded (the tutorials are not)."""
        return [f"--notebook={self.graded[0]}"] if len(self.graded) == 1 else []

    def job(self, submission: Submission) -> Job:
        """The job that grades ``submission`` in its sandbox."""
        return Job(submission.student, self.assignment,
                   {name: nbformat.writes(notebook) for name, notebook in submission.notebooks.items()},
                   dict(self.template), self.limits, self.work / "jobs" / submission.student,
                   self.layout.log(self.assignment, submission.student), submission.timestamp,
                   self.isolation, dict(self.grader_data))


def prepare(root: Path, assignment: str, limits: Limits, jobs: int = 1,
            isolation: str = "bwrap", scheduler: str | None = None) -> Plan:
    """Register ``assignment``, back up the gradebook and build the sandboxes' course."""
    if isolation not in ISOLATIONS:
        raise GradingError(f"isolation must be one of {ISOLATIONS}, got {isolation!r}")
    if scheduler and isolation == "none":
        raise GradingError("--isolation none grades on this machine, one at a time: it "
                           "cannot be combined with --scheduler")
    config = CourseConfig.load(root)
    layout = config.layout
    if not (layout.root / layout.source / assignment).is_dir():
        raise GradingError(f"no assignment {assignment!r} in {layout.root / layout.source}")
    work = Path(tempfile.mkdtemp(prefix=f"grade-{assignment}-"))
    try:
        env = grading_environment(work / "nbgrader-home")
        layout.recording_log(assignment).unlink(missing_ok=True)
        with ThreadPoolExecutor(max_workers=1) as pool:  # the sandboxes' course, meanwhile
            template = pool.submit(sandbox_template, layout, assignment, work, env)
            released = nbgrader(layout.root, env, "generate_assignment", assignment, "--force",
                                log_path=layout.recording_log(assignment))
            if released.returncode != 0:
                raise GradingError(f"generate_assignment failed:\n{released.stderr[-3000:]}")
            backup = backup_gradebook(config, assignment)
            set_due_date(config, assignment)
            return Plan(config, assignment, limits, 1 if isolation == "none" else jobs, isolation,
                        scheduler, graded_notebooks(config, assignment),
                        tuple(sorted(path.name for path in layout.release_folder(assignment).iterdir())),
                        work, env, backup, template.result(), heldout.grader_files(layout, assignment))
    except BaseException:
        remove_folder(work)
        raise


def backup_gradebook(config: CourseConfig, assignment: str) -> Path:
    try:
        gradebook_db.check_reachable(config.db_url)
        return gradebook_db.backup(config, assignment)
    except gradebook_db.GradebookError as error:
        raise GradingError(f"{error}; nothing was graded") from error


def set_due_date(config: CourseConfig, assignment: str) -> None:
    """Write the assignment's due date from the config, if it names one, where nbgrader's
    late penalties and the formgrader read it (one set there or with `nbgrader db` stays
    when the config names none)."""
    if assignment in config.due_dates:
        with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
            gradebook.update_or_create_assignment(assignment, duedate=config.due_dates[assignment])


def graded_notebooks(config: CourseConfig, assignment: str) -> tuple[str, ...]:
    """The notebooks of the assignment that carry points, as the gradebook has them."""
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        notebooks = gradebook.find_assignment(assignment).notebooks
        return tuple(sorted(notebook.name for notebook in notebooks if notebook.max_score > 0))


def sandbox_template(layout: CourseLayout, assignment: str, work: Path,
                     env: Mapping[str, str]) -> dict[str, bytes]:
    """Files of a course holding only ``assignment``: config, source, gradebook, release."""
    template = work / "template"
    template.mkdir()
    shutil.copy(layout.root / CONFIG_FILE, template)
    shutil.copytree(layout.root / layout.source / assignment, template / layout.source / assignment)
    result = nbgrader(template, env, "generate_assignment", assignment, "--force",
                      "--CourseDirectory.db_url=sqlite:///gradebook.db")
    if result.returncode != 0:
        raise GradingError(f"generate_assignment failed in the sandbox:\n{result.stderr[-3000:]}")
    files = {str(path.relative_to(template)): path.read_bytes()
             for path in template.rglob("*") if path.is_file()}
    shutil.rmtree(template)
    return files
