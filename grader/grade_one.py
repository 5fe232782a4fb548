"""Grade one submission: a function of the submission and the limits, sharing nothing.

`grade_submission` builds a private course in ``job.work`` that holds only this
assignment (config, source, a gradebook, the student's notebooks) and runs ``nbgrader
autograde`` there under `grader.sandbox.run_limited`. nbgrader is trusted and runs outside
the sandbox; the kernel it starts runs inside ``bwrap`` (`grader.jail`) and sees only its
own home and ``/tmp`` in ``job.work/box`` (and its IPC folder, see `grader.jail.Box`), and
reads the data only the grader has (`grader.heldout`) from a read-only folder. The
executed notebooks are read back as data and returned; ``job.work`` is removed. With
``isolation="none"`` the kernel runs unsandboxed (the caller then watches the course
directory for changes instead).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.jail import DATA_VARIABLE, Box
from grader.worker import spawner
from grader.sandbox import (FONT_CACHE, Limits, PidsCgroup, grading_environment, run_limited,
                            seed_font_cache)
from grader.submissions import read_notebook

ISOLATIONS = ("bwrap", "none")


@dataclass(frozen=True)
class Job:
    """Everything needed to grade one submission (notebooks as JSON text)."""

    student: str
    assignment: str
    notebooks: dict[str, str]
    template: dict[str, bytes]  # the course files for this assignment alone
    limits: Limits
    work: Path  # a folder for this job only
    log_path: Path
    timestamp: str = ""
    isolation: str = "bwrap"
    grader_data: dict[str, bytes] = field(default_factory=dict)  # see grader.heldout


@dataclass(frozen=True)
class Graded:
    """What grading one submission gave: ``executed`` notebooks as JSON text."""

    student: str
    executed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    peak_memory_bytes: int = 0
    failure: str = ""
    problems: dict[str, str] = field(default_factory=dict)  # notebook -> why not executed
    log_path: str = ""
    log: str = ""  # the log's text, from a cluster worker (the local pool writes log_path)


def grade_submission(job: Job) -> Graded:
    """Run ``job``'s notebooks in a sandbox under its limits; see the module docstring."""
    if job.isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {ISOLATIONS}, got {job.isolation!r}")
    job.work.mkdir(parents=True)
    job.log_path.parent.mkdir(parents=True, exist_ok=True)
    cgroup = PidsCgroup.create(job.limits.tasks) if job.isolation == "bwrap" else None
    try:
        course = _write_course(job)
        data = _write_grader_data(job)
        box = Box(job.work / "box").create()
        seed_font_cache(box.home / FONT_CACHE)
        command = _autograde_command(job, course, box, cgroup, data)
        if job.isolation == "bwrap":
            env = grading_environment(job.work / "trusted-home")
        else:  # the kernel inherits this environment: its home is the box's
            env = grading_environment(box.home)
            if data is not None:
                env[DATA_VARIABLE] = str(data)
        outcome = run_limited(command, course, env, job.limits, job.log_path,
                              writable=box.writable, adopted=job.isolation == "none",
                              spawn=spawner() if job.isolation == "bwrap" else None)
        executed, problems = {}, {}
        folder = course / "autograded" / job.student / job.assignment
        for name in job.notebooks:
            notebook, problem = read_notebook(folder / f"{name}.ipynb", clear_outputs=False)
            if outcome.failure or notebook is None:
                problems[name] = outcome.failure or f"the grading process wrote no result ({problem})"
            else:
                executed[name] = nbformat.writes(notebook)
        return Graded(job.student, executed, outcome.seconds, outcome.peak_memory_bytes,
                      outcome.failure, problems, str(job.log_path))
    finally:
        if cgroup is not None:
            cgroup.remove()
        remove_folder(job.work)
        Box(job.work / "box").remove()


def _write_course(job: Job) -> Path:
    course = job.work / "course"
    for relative, content in job.template.items():
        path = course / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    inbox = course / "submitted" / job.student / job.assignment
    inbox.mkdir(parents=True)
    for name, text in job.notebooks.items():
        (inbox / f"{name}.ipynb").write_text(text, encoding="utf-8")
    if job.timestamp:
        (inbox / "timestamp.txt").write_text(job.timestamp)
    return course


def _write_grader_data(job: Job) -> Path | None:
    """``job.grader_data`` as ``<folder>/<assignment>/<name>``, outside the box; the folder."""
    if not job.grader_data:
        return None
    folder = job.work / "grader-data"
    (folder / job.assignment).mkdir(parents=True)
    for name, content in job.grader_data.items():
        (folder / job.assignment / Path(name).name).write_bytes(content)
    return folder


def _autograde_command(job: Job, course: Path, box: Box, cgroup: PidsCgroup | None,
                       data: Path | None) -> list[str]:
    command = [sys.executable, "-m", "nbgrader", "autograde", job.assignment,
               f"--student={job.student}", "--force", f"--CourseDirectory.root={course}",
               # the private course's own gradebook, whatever the course's config names
               f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
               f"--Execute.timeout={job.limits.cell_seconds}"]
    if len(job.notebooks) == 1:
        command.append(f"--notebook={next(iter(job.notebooks))}")
    if job.isolation == "bwrap":
        command += ["--Execute.kernel_manager_class=grader.jail.SandboxedKernelManager",
                    f"--SandboxedKernelManager.box={box.folder}"]
        if data is not None:
            command.append(f"--SandboxedKernelManager.data={data}")
        if cgroup is not None:
            command.append(f"--SandboxedKernelManager.cgroup={cgroup.path}")
    else:
        command.append("--GuardedExecute.stop_stray_processes=True")
    return command


def remove_folder(folder: Path) -> None:
    """Delete ``folder`` even where the notebook took away permissions."""
    def allow_and_retry(function, path, _):
        Path(path).parent.chmod(0o700)
        if Path(path).exists() and not Path(path).is_symlink():
            Path(path).chmod(0o700)
        function(path)
    if folder.exists():
        shutil.rmtree(folder, onerror=allow_and_retry)
