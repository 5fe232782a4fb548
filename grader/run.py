"""Grade a whole class: ``python -m grader ASSIGNMENT`` (what ``make grade`` runs).

1. Register the assignment (``nbgrader generate_assignment``) and back up the gradebook.
2. Run each submission in its own sandbox (`grader.sandbox`), one after the other, under a
   wall-clock limit and a memory ceiling; after each, undo any change it made to the
   course directory (`grader.integrity`).
3. Record every result in the real gradebook with nbgrader itself, replaying the sandbox
   outputs instead of executing anything (`grader.preprocessors.ReplayOutputs`); a
   submission that could not run scores zero, and its feedback says why.
4. Write feedback (without hidden tests) and ``grades.csv``, then print a summary.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from grader.integrity import CourseSnapshot, environment_folders
from grader.preprocessors import AFTER_EXECUTE
from grader.sandbox import Limits, become_subreaper, run_limited
from grader.submissions import Submission, is_student_id, read_notebook, read_submission

COURSE_ID = "tf2-course"  # as in nbgrader_config.py
SOURCE = "solutions"
GRADEBOOK = "gradebook.db"
BACKUPS = "gradebook-backups"


@dataclass
class Result:
    """One student's line in the summary."""

    student: str
    seconds: float = 0.0
    peak_memory_bytes: int = 0
    failure: str = ""
    notes: list[str] = field(default_factory=list)
    score: float | None = None
    max_score: float | None = None

    @property
    def status(self) -> str:
        status = f"failed: {self.failure}" if self.failure else "graded"
        return "; ".join([status, *self.notes])


class GradingError(Exception):
    """The run itself cannot go on (not one student's problem)."""


def nbgrader(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run an nbgrader command on the course in ``root``; no student code runs in it."""
    command = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}"]
    try:
        return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise GradingError(f"nbgrader {args[0]} ran past {timeout:.0f} s") from error


def backup_gradebook(root: Path, assignment: str) -> Path:
    """Copy the gradebook (consistently, with SQLite's backup API) before anything changes."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    backup = root / BACKUPS / f"gradebook-{assignment}-{stamp}.db"
    backup.parent.mkdir(exist_ok=True)
    source, target = sqlite3.connect(root / GRADEBOOK), sqlite3.connect(backup)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return backup


def graded_notebooks(root: Path, assignment: str) -> list[str]:
    """The notebooks of ``assignment`` that carry points (tutorials carry none)."""
    with Gradebook(f"sqlite:///{root / GRADEBOOK}", course_id=COURSE_ID) as gradebook:
        notebooks = gradebook.find_assignment(assignment).notebooks
        return sorted(notebook.name for notebook in notebooks if notebook.max_score > 0)


def sandbox_template(root: Path, assignment: str, work: Path) -> dict[str, bytes]:
    """Files of a course holding only ``assignment``: config, source, gradebook, release."""
    template = work / "template"
    template.mkdir()
    shutil.copy(root / "nbgrader_config.py", template)
    shutil.copytree(root / SOURCE / assignment, template / SOURCE / assignment)
    result = nbgrader(template, "generate_assignment", assignment, "--force")
    if result.returncode != 0:
        raise GradingError(f"generate_assignment failed in the sandbox:\n{result.stderr[-3000:]}")
    files = {str(path.relative_to(template)): path.read_bytes()
             for path in template.rglob("*") if path.is_file()}
    shutil.rmtree(template)
    return files


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _remove_sandbox(sandbox: Path) -> None:
    """Delete a sandbox even where the notebook took away permissions."""
    def allow_and_retry(function, path, _):
        Path(path).chmod(0o700)
        Path(path).parent.chmod(0o700)
        function(path)
    shutil.rmtree(sandbox, onerror=allow_and_retry)


INCIDENTS = ("KernelDied", "CellTimeoutError", "GraderError")


def _incidents(notebook: nbformat.NotebookNode) -> list[str]:
    """What GuardedExecute had to step in for, as notes for the summary."""
    found = [output.get("evalue") or "a cell ran past the time limit and was interrupted"
             for cell in notebook.cells
             for output in cell.get("outputs", [])
             if output.get("output_type") == "error" and output.get("ename") in INCIDENTS]
    return list(dict.fromkeys(found))


class ClassGrader:
    """Grade every submission of one assignment; see the module docstring."""

    def __init__(self, root: Path, assignment: str, limits: Limits):
        self.root, self.assignment, self.limits = root.resolve(), assignment, limits
        self.executed: dict[str, dict[str, nbformat.NotebookNode]] = {}
        self.submissions: dict[str, Submission] = {}
        self.stopped = ""  # why the run stopped before grading everyone, if it did

    def run(self, students: list[str] | None = None) -> tuple[list[Result], Path]:
        if not (self.root / SOURCE / self.assignment).is_dir():
            raise GradingError(f"no assignment {self.assignment!r} in {self.root / SOURCE}")
        released = nbgrader(self.root, "generate_assignment", self.assignment, "--force")
        if released.returncode != 0:
            raise GradingError(f"generate_assignment failed:\n{released.stderr[-3000:]}")
        backup = backup_gradebook(self.root, self.assignment)
        self.graded = graded_notebooks(self.root, self.assignment)
        self.work = Path(tempfile.mkdtemp(prefix=f"grade-{self.assignment}-"))
        results: list[Result] = []
        try:
            self.template = sandbox_template(self.root, self.assignment, self.work)
            self.grade_in_sandboxes(self.find(students), results)
        except GradingError as error:
            self.stopped = str(error)
        finally:  # record what was graded, even when a submission stopped the run
            self.record([result for result in results if result.student in self.submissions])
            self.read_scores(results)
            shutil.rmtree(self.work, ignore_errors=True)
        return results, backup

    def find(self, students: list[str] | None) -> list[Path]:
        """The submission folders to grade: every student's, or the named students'."""
        folders = sorted(path for path in (self.root / "submitted").glob(f"*/{self.assignment}")
                         if path.is_dir())
        if students:
            found = {folder.parent.name for folder in folders}
            missing = sorted(set(students) - found)
            if missing:
                raise GradingError(f"no submission of {self.assignment} from {', '.join(missing)}")
            folders = [folder for folder in folders if folder.parent.name in students]
        return folders

    def grade_in_sandboxes(self, folders: list[Path], results: list[Result]) -> None:
        """Run each submission in its own sandbox; stop if one breaks the environment."""
        become_subreaper()
        snapshot = CourseSnapshot.take(self.root, environment_folders())
        for folder in folders:
            result = Result(folder.parent.name)
            results.append(result)
            if not is_student_id(result.student):
                result.failure = "not graded: the folder name is not a valid student id"
                continue
            submission = read_submission(folder, self.graded)
            self.submissions[result.student] = submission
            result.notes = submission.notes
            if submission.notebooks:
                self.run_sandbox(submission, result)
            problems = list(submission.problems.values())
            result.failure = "; ".join(dict.fromkeys(filter(None, [result.failure, *problems])))
            changed = snapshot.changes_since()
            if changed:
                self.undo(snapshot, changed, submission, result)

    def run_sandbox(self, submission: Submission, result: Result) -> None:
        sandbox = self.work / "sandbox"
        _write_files(sandbox, self.template)
        inbox = sandbox / "submitted" / submission.student / self.assignment
        inbox.mkdir(parents=True)
        for name, notebook in submission.notebooks.items():
            nbformat.write(notebook, inbox / f"{name}.ipynb")
        if submission.timestamp:
            (inbox / "timestamp.txt").write_text(submission.timestamp)
        command = [sys.executable, "-m", "nbgrader", "autograde", self.assignment,
                   f"--student={submission.student}", "--force",
                   f"--CourseDirectory.root={sandbox}",
                   f"--Execute.timeout={self.limits.cell_seconds}",
                   "--GuardedExecute.stop_stray_processes=True", *self.notebook_option()]
        outcome = run_limited(command, sandbox, self.limits)
        result.seconds, result.peak_memory_bytes = outcome.seconds, outcome.peak_memory_bytes
        result.failure = outcome.failure
        executed = {}
        for name in submission.notebooks:
            path = sandbox / "autograded" / submission.student / self.assignment / f"{name}.ipynb"
            notebook, problem = read_notebook(path)
            if outcome.failure or notebook is None:
                submission.problems[name] = outcome.failure or "the grading process wrote no result"
            else:
                executed[name] = notebook
                result.notes.extend(_incidents(notebook))
        self.executed[submission.student] = executed
        _remove_sandbox(sandbox)

    def undo(self, snapshot: CourseSnapshot, changed: list[Path], submission: Submission,
             result: Result) -> None:
        """Restore what a submission changed; zero it; stop if the environment is touched."""
        lost = snapshot.restore(changed)
        shown = ", ".join(str(path) for path in changed[:3]) + (" ..." if len(changed) > 3 else "")
        reason = f"changed files outside its sandbox ({shown})"
        result.failure = "; ".join(filter(None, [result.failure, reason]))
        self.executed[submission.student] = {}
        for name in self.graded:
            submission.problems[name] = f"not graded: the notebook {reason}"
        environment = [path for path in lost
                       if any(path.is_relative_to(folder) for folder in environment_folders())]
        if environment:
            raise GradingError(
                f"{submission.student}'s notebook changed the Python environment "
                f"({', '.join(map(str, environment[:5]))}): reinstall it (make clean && make test) "
                "before grading again; the gradebook holds only the results recorded so far")
        if lost:
            result.notes.append(f"could not restore {', '.join(map(str, lost[:5]))}")

    def notebook_option(self) -> list[str]:
        return [f"--notebook={self.graded[0]}"] if len(self.graded) == 1 else []

    def record(self, results: list[Result]) -> None:
        """Score every result in the real gradebook with nbgrader, replaying the outputs."""
        staged, replay = self.work / "staged", self.work / "replay"
        for result in results:
            submission = self.submissions[result.student]
            inbox = staged / result.student / self.assignment
            inbox.mkdir(parents=True)
            if submission.timestamp:
                (inbox / "timestamp.txt").write_text(submission.timestamp)
            for name in self.graded:
                self._stage(submission, name, inbox, replay / result.student)
        if not results:
            return
        outcome = nbgrader(
            self.root, "autograde", self.assignment, "--force", *self.notebook_option(),
            f"--CourseDirectory.submitted_directory={staged}",
            *(f"--Autograde.autograde_preprocessors={name}"
              for name in ["grader.preprocessors.ReplayOutputs", *AFTER_EXECUTE]),
            f"--ReplayOutputs.replay_directory={replay}",
            timeout=600 + 5 * len(results))
        failed = set(re.findall(r"error processing assignment '[^']*' for student '([^']*)'",
                                outcome.stderr))
        for result in results:
            if result.student in failed:
                result.failure = "; ".join(filter(None, [result.failure,
                                                         "nbgrader could not record it (see its log)"]))
                self._record_zero(result.student)
        if outcome.returncode != 0 and not failed:
            raise GradingError(f"recording the grades failed:\n{outcome.stderr[-3000:]}")

    def _record_zero(self, student: str) -> None:
        """Give a submission nbgrader could not record zero points, rather than none."""
        with Gradebook(f"sqlite:///{self.root / GRADEBOOK}", course_id=COURSE_ID) as gradebook:
            submission = gradebook.update_or_create_submission(self.assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score, grade.needs_manual_grade = 0, True
            gradebook.db.commit()

    def _stage(self, submission: Submission, name: str, inbox: Path, replay: Path) -> None:
        """Stage the notebook to record and the outputs (or the failure) to replay."""
        replay.mkdir(parents=True, exist_ok=True)
        executed = self.executed.get(submission.student, {}).get(name)
        if name in submission.notebooks and executed is not None:
            nbformat.write(submission.notebooks[name], inbox / f"{name}.ipynb")
            nbformat.write(executed, replay / f"{name}.ipynb")
            return
        # Unreadable or missing: record the blank release, with the reason in every cell.
        release = self.template[f"course/{self.assignment}/{name}.ipynb"]
        notebook = submission.notebooks.get(name)
        if notebook is not None:
            nbformat.write(notebook, inbox / f"{name}.ipynb")
        else:
            (inbox / f"{name}.ipynb").write_bytes(release)
        reason = submission.problems.get(name, "not graded")
        (replay / f"{name}.failed.json").write_text(json.dumps({"reason": reason}))

    def read_scores(self, results: list[Result]) -> None:
        with Gradebook(f"sqlite:///{self.root / GRADEBOOK}", course_id=COURSE_ID) as gradebook:
            for result in results:
                try:
                    submission = gradebook.find_submission(self.assignment, result.student)
                except MissingEntry:
                    continue
                result.score, result.max_score = submission.score, submission.max_score


def write_feedback_and_grades(root: Path, assignment: str, notebook_option: list[str]) -> list[str]:
    """Feedback HTML for every graded student, and grades.csv; return what went wrong."""
    problems = []
    feedback = nbgrader(root, "generate_feedback", assignment, "--force", *notebook_option)
    if feedback.returncode != 0:
        problems.append(f"generate_feedback reported errors:\n{feedback.stderr[-2000:]}")
    export = nbgrader(root, "export")
    if export.returncode != 0:
        problems.append(f"export failed:\n{export.stderr[-2000:]}")
    return problems


def summarise(assignment: str, results: list[Result], seconds: float, backup: Path,
              summary_path: Path) -> str:
    """The table printed at the end of a run; also written to ``summary_path`` as CSV."""
    with open(summary_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max_score", "seconds", "peak_memory_mib", "status"])
        for result in results:
            writer.writerow([result.student, result.score, result.max_score,
                             f"{result.seconds:.1f}", f"{result.peak_memory_bytes / 2**20:.0f}",
                             result.status])
    failed = sum(1 for result in results if result.failure)
    width = max([len(result.student) for result in results] + [7])
    lines = [f"{assignment}: {len(results) - failed} graded, {failed} failed, "
             f"in {seconds:.0f} s. Gradebook backup: {backup}", ""]
    lines.append(f"{'student':<{width}}  {'score':>11}  {'seconds':>7}  status")
    for result in results:
        score = "-" if result.score is None else f"{result.score:g} / {result.max_score:g}"
        lines.append(f"{result.student:<{width}}  {score:>11}  {result.seconds:7.1f}  {result.status}")
    lines += ["", f"Summary: {summary_path}; grades: grades.csv; feedback: feedback/"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader", description="Autograde every submission of an assignment, "
        "each in its own sandbox under time and memory limits.")
    parser.add_argument("assignment", help="for example week1_sequential")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--timeout", type=float, default=Limits.seconds,
                        help="seconds one submission may run in all (default %(default)s)")
    parser.add_argument("--cell-timeout", type=int, default=Limits.cell_seconds,
                        help="seconds one cell may run (default %(default)s)")
    parser.add_argument("--memory", type=float, default=Limits.memory_bytes / 2**30,
                        help="GiB of memory one submission may use (default %(default)s)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    options = parser.parse_args(argv)
    limits = Limits(options.timeout, int(options.memory * 2**30), options.cell_timeout)
    start = time.monotonic()
    grader = ClassGrader(options.root, options.assignment, limits)
    try:
        results, backup = grader.run(options.student)
    except GradingError as error:
        print(f"grading stopped: {error}", file=sys.stderr)
        return 1
    problems = write_feedback_and_grades(grader.root, options.assignment, grader.notebook_option())
    if grader.stopped:
        problems.insert(0, f"grading stopped before everyone was graded: {grader.stopped}")
    summary_path = grader.root / f"grading-summary-{options.assignment}.csv"
    print(summarise(options.assignment, results, time.monotonic() - start, backup, summary_path))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0
