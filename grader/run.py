"""Grade a whole class: ``python -m grader ASSIGNMENT`` (what ``make grade`` runs).

1. Register the assignment (``nbgrader generate_assignment``) and back up the gradebook
   (SQLite or PostgreSQL: `grader.gradebook`).
2. Grade the submissions, ``--jobs`` at a time, or on a Dask cluster's workers with
   ``--scheduler`` (`grader.cluster`): each is one call of
   `grader.grade_one.grade_submission`, which runs the student's notebooks in a bubblewrap
   sandbox (`grader.jail`) under a wall-clock limit, a memory ceiling and a process cap, and
   returns the executed notebooks. A line is printed as each student finishes.
3. Record every result in the real gradebook with nbgrader itself, replaying the executed
   notebooks instead of running anything (`grader.preprocessors.ReplayOutputs`); a
   submission that could not run, or could not be recorded, scores zero and says why.
4. Write feedback (without hidden tests, sanitised) and ``grades.csv``, print a summary, and
   write the class report (`grader.report`).

Only this process writes the gradebook, and it never reads a path a sandbox could write; if
the gradebook cannot be reached, the run stops and says what was recorded.
With ``--isolation none`` (no bwrap) notebooks run unsandboxed, one at a time, and every
change one makes to the course directory is undone and costs it its grade.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from sqlalchemy.exc import IntegrityError

from grader import gradebook as gradebook_db
from grader.cluster import Cluster, ClusterError
from grader.config import ConfigError, CourseConfig
from grader.grade_one import Graded, Job, grade_submission, remove_folder
from grader.integrity import CourseSnapshot, environment_folders
from grader.jail import why_no_bwrap
from grader.report import REPORTS, write_assignment_report
from grader.sandbox import Limits, become_subreaper, grading_environment
from grader.submissions import Submission, is_student_id, read_submission

SOURCE = "solutions"
LOGS = "grading-logs"
REPLAY = "grader.preprocessors.ReplayOutputs"


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
    log_path: str = ""
    to_grade_by_hand: list[str] = field(default_factory=list)  # grade ids of answers

    def fail(self, reason: str) -> None:
        self.failure = "; ".join(dict.fromkeys(filter(None, [*self.failure.split("; "), reason])))

    @property
    def status(self) -> str:
        status = f"failed: {self.failure}" if self.failure else "graded"
        log = [f"log: {self.log_path}"] if self.failure and self.log_path else []
        by_hand = ([f"to grade by hand: {', '.join(self.to_grade_by_hand)}"]
                   if self.to_grade_by_hand else [])
        return "; ".join([status, *self.notes, *by_hand, *log])


class GradingError(Exception):
    """The run itself cannot go on (not one student's problem)."""


def nbgrader(root: Path, env: dict[str, str], *args: str,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """Run an nbgrader command on the course in ``root``; no student code runs in it."""
    command = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}"]
    try:
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise GradingError(f"nbgrader {args[0]} ran past {timeout:.0f} s") from error


OUTPUT_FILES = re.compile(r"grades(-canvas|-moodle)?\.csv|grading-summary-.*\.csv")
RECORDING_STOPPED = ("while grades were recorded: each notebook holds all of its new scores "
                     "or none of them")


def sandbox_template(root: Path, assignment: str, work: Path, env: dict[str, str]) -> dict[str, bytes]:
    """Files of a course holding only ``assignment``: config, source, gradebook, release."""
    template = work / "template"
    template.mkdir()
    shutil.copy(root / "nbgrader_config.py", template)
    shutil.copytree(root / SOURCE / assignment, template / SOURCE / assignment)
    result = nbgrader(template, env, "generate_assignment", assignment, "--force",
                      "--CourseDirectory.db_url=sqlite:///gradebook.db")
    if result.returncode != 0:
        raise GradingError(f"generate_assignment failed in the sandbox:\n{result.stderr[-3000:]}")
    files = {str(path.relative_to(template)): path.read_bytes()
             for path in template.rglob("*") if path.is_file()}
    shutil.rmtree(template)
    return files


INCIDENTS = ("KernelDied", "CellTimeoutError", "GraderError")


def _incidents(notebook: nbformat.NotebookNode) -> list[str]:
    """What GuardedExecute had to step in for, as notes for the summary."""
    found = [output.get("evalue") or "a cell ran past the time limit and was interrupted"
             for cell in notebook.cells
             for output in cell.get("outputs", [])
             if output.get("output_type") == "error" and output.get("ename") in INCIDENTS]
    return list(dict.fromkeys(found))


def choose_jobs(requested: int, limits: Limits) -> tuple[int, str]:
    """``requested``, lowered so that every job can use its whole memory limit at once."""
    fit = max(1, psutil.virtual_memory().available // limits.memory_bytes)
    if requested <= fit:
        return requested, ""
    return fit, (f"grading {fit} at a time, not {requested}: {requested} x "
                 f"{limits.memory_bytes / 2**30:.1f} GiB is more memory than is available "
                 f"({psutil.virtual_memory().available / 2**30:.1f} GiB)")


class Progress:
    """Prints a line as each student finishes: done/total, elapsed, estimated time left."""

    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.monotonic()

    def finished(self, result: Result) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        what = f"failed: {result.failure}" if result.failure else "ran"
        print(f"[{self.done}/{self.total}] {result.student}: {what} in {result.seconds:.1f} s "
              f"(elapsed {_clock(elapsed)}, about {_clock(left)} left)", flush=True)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s"


class ClassGrader:
    """Grade every submission of one assignment; see the module docstring."""

    def __init__(self, root: Path, assignment: str, limits: Limits, jobs: int = 1,
                 isolation: str = "bwrap", scheduler: str | None = None):
        self.config = CourseConfig.load(root)
        self.root, self.assignment, self.limits = self.config.root, assignment, limits
        self.jobs, self.isolation = (1 if isolation == "none" else jobs), isolation
        if scheduler and isolation == "none":
            raise GradingError("--isolation none grades on this machine, one at a time: it "
                               "cannot be combined with --scheduler")
        self.scheduler = scheduler
        self.submissions: dict[str, Submission] = {}
        self.graded_results: dict[str, Graded] = {}
        self.stopped = ""  # why the run stopped before grading everyone, if it did
        self.problems: list[str] = []  # what went wrong with the run (not one student)

    def run(self, students: list[str] | None = None) -> tuple[list[Result], Path]:
        if not (self.root / SOURCE / self.assignment).is_dir():
            raise GradingError(f"no assignment {self.assignment!r} in {self.root / SOURCE}")
        self.work = Path(tempfile.mkdtemp(prefix=f"grade-{self.assignment}-"))
        self.env = grading_environment(self.work / "nbgrader-home")
        results: list[Result] = []
        try:
            released = nbgrader(self.root, self.env, "generate_assignment", self.assignment, "--force")
            if released.returncode != 0:
                raise GradingError(f"generate_assignment failed:\n{released.stderr[-3000:]}")
            backup = self.backup_gradebook()
            self.set_due_date()
            self.graded = self.graded_notebooks()
            # the release's other files (tutorials) come along with an exchange submission
            release = self.root / "course" / self.assignment
            self.released = sorted(path.name for path in release.iterdir())
            snapshot = CourseSnapshot.take(self.root, environment_folders())
            try:
                template = sandbox_template(self.root, self.assignment, self.work, self.env)
                self.grade_all(self.find(students), template, snapshot, results)
            except GradingError as error:
                self.stopped = str(error)
            finally:  # record what was graded, even when a submission stopped the run
                self.check_gradebook("before recording: nothing from this run was recorded")
                self.record([result for result in results if result.student in self.submissions])
                self.check_after_recording(snapshot)
                self.read_scores(results)
            self.write_feedback_and_grades()
        finally:
            remove_folder(self.work)
        return results, backup

    def backup_gradebook(self) -> Path:
        try:
            gradebook_db.check_reachable(self.config.db_url)
            return gradebook_db.backup(self.config, self.assignment)
        except gradebook_db.GradebookError as error:
            raise GradingError(f"{error}; nothing was graded") from error

    def set_due_date(self) -> None:
        """Write the assignment's due date from the config, if it names one, where nbgrader's
        late penalties and the formgrader read it (one set there or with `nbgrader db` stays
        when the config names none)."""
        if self.assignment in self.config.due_dates:
            with self.gradebook() as gradebook:
                gradebook.update_or_create_assignment(
                    self.assignment, duedate=self.config.due_dates[self.assignment])

    def check_gradebook(self, when: str) -> None:
        """Stop the run, saying what was recorded, if the gradebook cannot be reached."""
        try:
            gradebook_db.check_reachable(self.config.db_url)
        except gradebook_db.GradebookError as error:
            raise GradingError(
                f"{error} {when}. Grade again when it is back: every submission is graded and "
                "recorded anew") from error

    def graded_notebooks(self) -> list[str]:
        """The notebooks of the assignment that carry points (tutorials carry none)."""
        with self.gradebook() as gradebook:
            notebooks = gradebook.find_assignment(self.assignment).notebooks
            return sorted(notebook.name for notebook in notebooks if notebook.max_score > 0)

    def gradebook(self) -> Gradebook:
        return Gradebook(self.config.db_url, course_id=self.config.course_id)

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

    def grade_all(self, folders: list[Path], template: dict[str, bytes],
                  snapshot: CourseSnapshot, results: list[Result]) -> None:
        """Grade every folder, ``self.jobs`` at a time, printing progress as each finishes."""
        become_subreaper()
        progress, jobs = Progress(len(folders)), []
        for folder in folders:
            result = Result(folder.parent.name)
            results.append(result)
            job = self.prepare(folder, template, result)
            if job is None:
                progress.finished(result)
            else:
                jobs.append((job, result))
        if self.scheduler:
            self.grade_on_cluster(jobs, progress)
            return
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            running = {pool.submit(grade_submission, job): result for job, result in jobs}
            for future in as_completed(running):
                result = running[future]
                try:
                    self.take(future.result(), result)
                except Exception as error:  # the grader's own failure on one submission
                    result.fail(f"the grader failed on this submission ({type(error).__name__}: {error})")
                if self.isolation == "none":
                    self.check_isolation_none(snapshot, result)
                progress.finished(result)

    def grade_on_cluster(self, jobs: list[tuple[Job, Result]], progress: Progress) -> None:
        """Grade the jobs on the Dask cluster's workers (see grader/cluster.py)."""
        try:
            cluster = Cluster(self.scheduler)
        except ClusterError as error:
            raise GradingError(str(error)) from error
        results = {job.student: result for job, result in jobs}
        try:
            print(f"grading on {cluster.workers} Dask worker(s) at {cluster.address}", flush=True)
            for job, graded, note in cluster.grade([job for job, _ in jobs]):
                result = results[job.student]
                if graded is None:
                    result.fail(note)
                else:
                    result.notes.extend([note] if note else [])
                    self.take(graded, result)
                progress.finished(result)
        finally:
            cluster.close()

    def prepare(self, folder: Path, template: dict[str, bytes], result: Result) -> Job | None:
        """Read one submission; return the job that grades it, or None if there is nothing to run."""
        if not is_student_id(result.student):
            result.fail("not graded: the folder name is not a valid student id")
            return None
        try:
            submission = read_submission(folder, self.graded, self.released)
        except Exception as error:
            result.fail(f"the submission could not be read ({type(error).__name__}: {error})")
            return None
        self.submissions[result.student] = submission
        result.notes = submission.notes
        for problem in submission.problems.values():
            result.fail(problem)
        if not submission.notebooks:
            return None
        log_path = self.root / LOGS / self.assignment / f"{result.student}.log"
        log_path.unlink(missing_ok=True)
        result.log_path = str(log_path.relative_to(self.root))
        return Job(result.student, self.assignment,
                   {name: nbformat.writes(notebook) for name, notebook in submission.notebooks.items()},
                   template, self.limits, self.work / "jobs" / result.student, log_path,
                   submission.timestamp, self.isolation)

    def take(self, graded: Graded, result: Result) -> None:
        """Keep what grading one submission gave."""
        result.seconds, result.peak_memory_bytes = graded.seconds, graded.peak_memory_bytes
        if graded.log:  # from a cluster worker: this process writes the course's files
            log_path = self.root / result.log_path
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(graded.log, encoding="utf-8")
        result.fail(graded.failure)
        self.graded_results[result.student] = graded
        self.submissions[result.student].problems.update(graded.problems)
        for text in graded.executed.values():
            result.notes.extend(_incidents(nbformat.reads(text, as_version=4)))

    def check_isolation_none(self, snapshot: CourseSnapshot, result: Result) -> None:
        """Without a sandbox: undo what the submission changed, zero it, stop if the
        Python environment was touched."""
        changed = self._unexpected(snapshot.changes_since())
        if not changed:
            return
        lost = snapshot.restore(changed)
        shown = ", ".join(str(path) for path in changed[:3]) + (" ..." if len(changed) > 3 else "")
        reason = f"changed files outside its sandbox ({shown})"
        result.fail(reason)
        self.graded_results.pop(result.student, None)
        for name in self.graded:
            self.submissions[result.student].problems[name] = f"not graded: the notebook {reason}"
        environment = [path for path in lost
                       if any(path.is_relative_to(folder) for folder in environment_folders())]
        if environment:
            raise GradingError(
                f"{result.student}'s notebook changed the Python environment "
                f"({', '.join(map(str, environment[:5]))}): reinstall it (make clean && make test) "
                "before grading again; the gradebook holds only the results recorded so far")
        if lost:
            result.notes.append(f"could not restore {', '.join(map(str, lost[:5]))}")

    def _unexpected(self, changed: list[Path], written: tuple[str, ...] = ()) -> list[Path]:
        """``changed`` less the grader's own writes: logs, and the folders in ``written``."""
        folders = [self.root / name for name in (LOGS, *written)]
        return [path for path in changed if not any(path.is_relative_to(f) for f in folders)]

    def check_after_recording(self, snapshot: CourseSnapshot) -> None:
        """Undo any change to the course during recording, other than the gradebook's."""
        gradebook = self.config.sqlite_path
        # What nbgrader and the grader write, in this run or in another run grading another
        # assignment at the same time, is expected; the check guards the rest of the course.
        written = ("autograded", "feedback", "course", gradebook_db.BACKUPS, REPORTS)
        changed = [path for path in self._unexpected(snapshot.changes_since(), written)
                   if not (gradebook and path.name.startswith(gradebook.name))
                   and not (path.parent == self.root and OUTPUT_FILES.fullmatch(path.name))]
        if changed:
            lost = snapshot.restore(changed)
            self.problems.append(
                f"files changed while grades were recorded, and were restored: "
                f"{', '.join(map(str, changed[:5]))}" + (f"; not restorable: {lost[:5]}" if lost else ""))

    def record(self, results: list[Result]) -> None:
        """Score every result in the real gradebook with nbgrader, replaying the outputs.

        All at once first; if nbgrader fails without naming who, one student at a time, so
        that only the submission nbgrader cannot take is zeroed.
        """
        staged_ok = [result for result in results if self._stage_safely(result)]
        if not staged_ok:
            return
        self.register_students([result.student for result in staged_ok])
        failed = self._record(staged_ok)
        if failed is None:
            self.check_gradebook(RECORDING_STOPPED)
            failed = set()
            for result in staged_ok:
                if self._record([result], only=result.student) is not None:
                    failed.add(result.student)
        if failed:
            self.check_gradebook(RECORDING_STOPPED)
        for result in staged_ok:
            if result.student in failed:
                result.fail("nbgrader could not record it (see its log)")
                self._record_zero(result.student)

    def register_students(self, students: list[str]) -> None:
        """Add the students to the gradebook first. Another run recording the same students
        at the same time (another assignment) may add them too; the loser of that race
        retries and finds them there."""
        for attempt in range(5):
            try:
                with self.gradebook() as gradebook:
                    for student in students:
                        gradebook.update_or_create_student(student)
                return
            except (IntegrityError, InvalidEntry):  # nbgrader wraps the IntegrityError
                time.sleep(0.5 * (attempt + 1))
        raise GradingError("could not add the students to the gradebook: another run kept "
                           "adding the same ones")

    def _record(self, results: list[Result], only: str = "") -> set[str] | None:
        """Run nbgrader's recording; return who failed, or None if it failed as a whole."""
        outcome = nbgrader(
            self.root, self.env, "autograde", self.assignment, "--force", *self.notebook_option(),
            *([f"--student={only}"] if only else []),
            f"--CourseDirectory.submitted_directory={self.work / 'staged'}",
            *(f"--Autograde.autograde_preprocessors={name}"
              for name in self.config.recording_preprocessors(REPLAY)),
            f"--ReplayOutputs.replay_directory={self.work / 'replay'}",
            timeout=600 + 5 * len(results))
        failed = set(re.findall(r"error processing assignment '[^']*' for student '([^']*)'",
                                outcome.stderr))
        if outcome.returncode != 0 and not failed:
            if not only:
                self.problems.append(f"recording all at once failed, so one at a time:\n"
                                     f"{outcome.stderr[-2000:]}")
            return None
        return failed

    def _stage_safely(self, result: Result) -> bool:
        try:
            self._stage(result.student)
            return True
        except Exception as error:
            result.fail(f"could not be staged for recording ({type(error).__name__}: {error})")
            return False

    def _stage(self, student: str) -> None:
        """Stage the notebooks to record and the outputs (or the failure) to replay."""
        submission = self.submissions[student]
        inbox = self.work / "staged" / student / self.assignment
        replay = self.work / "replay" / student
        inbox.mkdir(parents=True)
        replay.mkdir(parents=True)
        if submission.timestamp:
            (inbox / "timestamp.txt").write_text(submission.timestamp)
        if submission.secret:
            (inbox / "submission_secret.txt").write_text(submission.secret)
        executed = self.graded_results.get(student, Graded(student)).executed
        for name in self.graded:
            notebook = submission.notebooks.get(name)
            if notebook is not None:
                nbformat.write(notebook, inbox / f"{name}.ipynb")
            else:  # unreadable or missing: record the blank release
                shutil.copy(self.root / "course" / self.assignment / f"{name}.ipynb", inbox)
            if notebook is not None and name in executed:
                (replay / f"{name}.ipynb").write_text(executed[name], encoding="utf-8")
            else:  # the reason is shown in every cell
                reason = submission.problems.get(name, "not graded")
                (replay / f"{name}.failed.json").write_text(json.dumps({"reason": reason}))

    def _record_zero(self, student: str) -> None:
        """Give a submission nbgrader could not record zero points, rather than none."""
        with self.gradebook() as gradebook:
            submission = gradebook.update_or_create_submission(self.assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score, grade.needs_manual_grade = 0, True
            gradebook.db.commit()

    def notebook_option(self) -> list[str]:
        return [f"--notebook={self.graded[0]}"] if len(self.graded) == 1 else []

    def write_feedback_and_grades(self) -> None:
        """Feedback HTML for every graded student, and grades.csv."""
        feedback = nbgrader(self.root, self.env, "generate_feedback", self.assignment, "--force",
                            *self.notebook_option())
        if feedback.returncode != 0:
            self.problems.append(f"generate_feedback reported errors:\n{feedback.stderr[-2000:]}")
        export = nbgrader(self.root, self.env, "export")
        if export.returncode != 0:
            self.problems.append(f"export failed:\n{export.stderr[-2000:]}")

    def write_report(self) -> None:
        """The class report (grader.report); a report that cannot be written costs no grade."""
        try:
            write_assignment_report(self.config, self.assignment)
        except Exception as error:
            self.problems.append(f"the class report could not be written "
                                 f"({type(error).__name__}: {error})")

    def read_scores(self, results: list[Result]) -> None:
        with self.gradebook() as gradebook:
            for result in results:
                try:
                    submission = gradebook.find_submission(self.assignment, result.student)
                except MissingEntry:
                    continue
                result.score, result.max_score = submission.score, submission.max_score
                if not result.failure:  # a failed submission's zeros are marked manual too
                    result.to_grade_by_hand = sorted(
                        grade.name for notebook in submission.notebooks for grade in notebook.grades
                        if grade.needs_manual_grade and grade.manual_score is None)


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
    by_hand = [result.student for result in results if result.to_grade_by_hand]
    if by_hand:
        lines += ["", f"Answers to grade by hand (formgrader > Manual Grading, then grade again "
                      f"to update grades and feedback): {', '.join(by_hand)}"]
    lines += ["", f"Summary: {summary_path}; grades: grades.csv; feedback: feedback/; "
                  f"report: {REPORTS}/{assignment}/report.html"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader", description="Autograde every submission of an assignment, "
        "each in its own sandbox under time, memory and process limits.")
    parser.add_argument("assignment", help="for example week1_sequential")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of cores, %(default)s)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on a Dask cluster, for example tcp://10.0.0.5:8786 (needs "
                             "pip install -e '.[cluster]'); --jobs is then the workers' business")
    parser.add_argument("--isolation", choices=["bwrap", "none"], default="bwrap",
                        help="bwrap (default): student code runs in a bubblewrap sandbox; none: "
                             "unsandboxed, with your permissions, one submission at a time")
    parser.add_argument("--timeout", type=float, default=Limits.seconds,
                        help="seconds one submission may run in all (default %(default)s)")
    parser.add_argument("--cell-timeout", type=int, default=Limits.cell_seconds,
                        help="seconds one cell may run (default %(default)s)")
    parser.add_argument("--memory", type=float, default=Limits.memory_bytes / 2**30,
                        help="GiB of memory one submission may use (default %(default)s)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    options = parser.parse_args(argv)
    if options.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {options.jobs}")
    if options.isolation == "bwrap":
        reason = why_no_bwrap()
        if reason:
            print(f"cannot grade in a sandbox: {reason}; or grade without one (student code then "
                  "runs with your permissions): --isolation none", file=sys.stderr)
            return 2
    limits = Limits(options.timeout, int(options.memory * 2**30), options.cell_timeout)
    jobs, message = choose_jobs(options.jobs, limits)
    if message:
        print(message, file=sys.stderr)
    start = time.monotonic()
    try:
        grader = ClassGrader(options.root, options.assignment, limits, jobs, options.isolation,
                             options.scheduler)
        results, backup = grader.run(options.student)
    except (GradingError, ConfigError, FileNotFoundError) as error:
        print(f"grading stopped: {error}", file=sys.stderr)
        return 1
    summary_path = grader.root / f"grading-summary-{options.assignment}.csv"
    print(summarise(options.assignment, results, time.monotonic() - start, backup, summary_path))
    grader.write_report()  # after the summary, whose seconds it plots
    problems = list(grader.problems)
    if grader.stopped:
        problems.insert(0, f"grading stopped before everyone was graded: {grader.stopped}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0
