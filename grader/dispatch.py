"""Grading a class, phase 2: every submission graded, ``--jobs`` at a time or on a cluster.

Each submission is read (`grader.submissions`), graded by the pure
`grader.grade_one.grade_submission` in its own sandbox, and turned into one frozen
`grader.outcome.Outcome`; `grade_all` yields them as they finish and prints a progress line
for each. Without a sandbox (``--isolation none``) the course is compared with its snapshot
after each submission: what one changed is undone and costs it its grade.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from grader.cluster import Cluster, ClusterError
from grader.grade_one import Graded, Job, grade_submission
from grader.integrity import CourseSnapshot, environment_folders
from grader.outcome import Outcome, outcome_of
from grader.plan import GradingError, Plan
from grader.sandbox import become_subreaper
from grader.submissions import Submission, is_student_id, read_submission


def read(plan: Plan, folder: Path) -> Submission | Outcome:
    """The submission in ``folder``, or the outcome of one that cannot be read."""
    student = folder.parent.name
    if not is_student_id(student):
        return outcome_of(student, failures=["not graded: the folder name is not a valid student id"])
    try:
        return read_submission(folder, list(plan.graded), plan.released)
    except Exception as error:
        return outcome_of(student, failures=[
            f"the submission could not be read ({type(error).__name__}: {error})"])


def grade_all(plan: Plan, folders: list[Path], snapshot: CourseSnapshot) -> Iterator[Outcome]:
    """Grade every submission folder; yield each student's outcome as it is known."""
    become_subreaper()
    progress = Progress(len(folders))
    jobs: list[tuple[Job, Submission]] = []
    for folder in folders:
        submission = read(plan, folder)
        if isinstance(submission, Outcome) or not submission.notebooks:
            outcome = submission if isinstance(submission, Outcome) else \
                outcome_of(submission.student, submission)
            progress.finished(outcome)
            yield outcome
            continue
        plan.layout.log(plan.assignment, submission.student).unlink(missing_ok=True)
        jobs.append((plan.job(submission), submission))
    graded = _on_cluster(plan, jobs) if plan.scheduler else _here(plan, jobs, snapshot)
    for outcome in graded:
        progress.finished(outcome)
        yield outcome


def _log_path(plan: Plan, student: str) -> str:
    return str(plan.layout.log(plan.assignment, student).relative_to(plan.layout.root))


def _here(plan: Plan, jobs: list[tuple[Job, Submission]],
          snapshot: CourseSnapshot) -> Iterator[Outcome]:
    with ThreadPoolExecutor(max_workers=plan.jobs) as pool:
        running = {pool.submit(grade_submission, job): submission for job, submission in jobs}
        for future in as_completed(running):
            submission = running[future]
            student, log_path = submission.student, _log_path(plan, submission.student)
            try:
                graded = future.result()
            except Exception as error:  # the grader's own failure on one submission
                yield outcome_of(student, submission, log_path=log_path, failures=[
                    f"the grader failed on this submission ({type(error).__name__}: {error})"])
                continue
            changed, notes, environment = "", [], []
            if plan.isolation == "none":
                changed, notes, environment = undo_changes(snapshot, plan.layout.root / plan.layout.logs)
            yield outcome_of(student, submission, graded, notes=notes, log_path=log_path,
                             changed_outside=changed, graded_notebooks=plan.graded)
            if environment:
                raise GradingError(
                    f"{student}'s notebook changed the Python environment "
                    f"({', '.join(map(str, environment[:5]))}): reinstall it (make clean && "
                    "make test) before grading again; the gradebook holds only the results "
                    "recorded so far")


def _on_cluster(plan: Plan, jobs: list[tuple[Job, Submission]]) -> Iterator[Outcome]:
    """Grade the jobs on the Dask cluster's workers (see grader/cluster.py)."""
    try:
        cluster = Cluster(plan.scheduler)
    except ClusterError as error:
        raise GradingError(str(error)) from error
    submissions = {job.student: submission for job, submission in jobs}
    try:
        print(f"grading on {cluster.workers} Dask worker(s) at {cluster.address}", flush=True)
        for job, graded, note in cluster.grade([job for job, _ in jobs]):
            log_path = _log_path(plan, job.student)
            if graded is None:
                yield outcome_of(job.student, submissions[job.student], failures=[note],
                                 log_path=log_path)
                continue
            _keep_worker_log(plan, graded)
            yield outcome_of(job.student, submissions[job.student], graded, notes=[note],
                             log_path=log_path)
    finally:
        cluster.close()


def _keep_worker_log(plan: Plan, graded: Graded) -> None:
    """A cluster worker sends its log as text: this process writes the course's files."""
    if graded.log:
        path = plan.layout.log(plan.assignment, graded.student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(graded.log, encoding="utf-8")


def undo_changes(snapshot: CourseSnapshot, logs: Path) -> tuple[str, list[str], list[Path]]:
    """Without a sandbox: undo what a submission changed in the course (its log aside).
    Return what it changed (empty if nothing), notes, and the files of the Python
    environment it changed, which cannot be restored."""
    changed = [path for path in snapshot.changes_since() if not path.is_relative_to(logs)]
    if not changed:
        return "", [], []
    lost = snapshot.restore(changed)
    environment = [path for path in lost
                   if any(path.is_relative_to(folder) for folder in environment_folders())]
    shown = ", ".join(str(path) for path in changed[:3]) + (" ..." if len(changed) > 3 else "")
    notes = [f"could not restore {', '.join(map(str, lost[:5]))}"] if lost and not environment else []
    return shown, notes, environment


class Progress:
    """Prints a line as each student finishes: done/total, elapsed, estimated time left."""

    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.monotonic()

    def finished(self, outcome: Outcome) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        what = f"failed: {outcome.failure}" if outcome.failure else "ran"
        print(f"[{self.done}/{self.total}] {outcome.student}: {what} in {outcome.seconds:.1f} s "
              f"(elapsed {clock(elapsed)}, about {clock(left)} left)", flush=True)


def clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s"
