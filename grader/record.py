"""Grading a class, phase 3: every outcome recorded in the real gradebook, by nbgrader itself.

nbgrader's ``autograde`` runs the course's own pipeline with the execute step replaced by
`grader.preprocessors.ReplayOutputs`, which replays the executed notebooks (or shows, in
every cell, why a notebook did not run) instead of running anything. A submission nbgrader
cannot take scores zero and says why. Only this process writes the gradebook, and it never
reads a path a sandbox could write; nbgrader's output goes to the run's recording log.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass

import nbformat
from nbgrader.api import InvalidEntry, MissingEntry
from sqlalchemy.exc import IntegrityError

from grader import gradebook as gradebook_db
from grader.integrity import CourseSnapshot
from grader.outcome import Line, Outcome
from grader.plan import GradingError, Plan, nbgrader

REPLAY = "grader.preprocessors.ReplayOutputs"
STAGED, REPLAYED = "staged", "replay"  # in the run's private folder
RECORDING_STOPPED = ("while grades were recorded: each notebook holds all of its new scores "
                     "or none of them")


@dataclass(frozen=True)
class Recorded:
    """What recording gave: each student's line, and what went wrong with the run."""

    lines: tuple[Line, ...]
    problems: tuple[str, ...] = ()


def check_gradebook(plan: Plan, when: str) -> None:
    """Stop the run, saying what was recorded, if the gradebook cannot be reached."""
    try:
        gradebook_db.check_reachable(plan.config.db_url)
    except gradebook_db.GradebookError as error:
        raise GradingError(
            f"{error} {when}. Grade again when it is back: every submission is graded and "
            "recorded anew") from error


def record(plan: Plan, outcomes: list[Outcome], snapshot: CourseSnapshot) -> Recorded:
    """Score every outcome that has a submission; then read back every student's scores.

    All at once first; if nbgrader fails without naming who, one student at a time, so that
    only the submission nbgrader cannot take is zeroed. Any change to the course during
    recording, other than what nbgrader and the grader write, is undone.
    """
    check_gradebook(plan, "before recording: nothing from this run was recorded")
    failures, staged = {}, []
    for outcome in outcomes:
        if outcome.submission is None:
            continue
        try:
            stage(plan, outcome)
            staged.append(outcome.student)
        except Exception as error:
            failures[outcome.student] = (f"could not be staged for recording "
                                         f"({type(error).__name__}: {error})")
    problems = []
    if staged:
        failed, problems = _record_staged(plan, staged)
        failures.update(dict.fromkeys(failed, "nbgrader could not record it (see its log)"))
    problems += _undo_changes_while_recording(plan, snapshot)
    return Recorded(_lines(plan, outcomes, failures), tuple(problems))


def _record_staged(plan: Plan, students: list[str]) -> tuple[list[str], list[str]]:
    """Record the staged students; return who could not be recorded (they score zero) and
    what went wrong with the run."""
    register_students(plan, students)
    failed, stderr = _run_autograde(plan, len(students))
    problems = []
    if failed is None:
        problems.append(f"recording all at once failed, so one at a time:\n{stderr[-2000:]}")
        check_gradebook(plan, RECORDING_STOPPED)
        failed = {student for student in students
                  if _run_autograde(plan, 1, only=student)[0] is not None}
    if failed:
        check_gradebook(plan, RECORDING_STOPPED)
    for student in sorted(failed):
        record_zero(plan, student)
    return sorted(failed), problems


def register_students(plan: Plan, students: list[str]) -> None:
    """Add the students to the gradebook first. Another run recording the same students
    at the same time (another assignment) may add them too; the loser of that race
    retries and finds them there."""
    for attempt in range(5):
        try:
            with plan.gradebook() as gradebook:
                for student in students:
                    gradebook.update_or_create_student(student)
            return
        except (IntegrityError, InvalidEntry):  # nbgrader wraps the IntegrityError
            time.sleep(0.5 * (attempt + 1))
    raise GradingError("could not add the students to the gradebook: another run kept "
                       "adding the same ones")


def _run_autograde(plan: Plan, count: int, only: str = "") -> tuple[set[str] | None, str]:
    """Run nbgrader's recording; return who failed (None if it failed as a whole), and
    nbgrader's error output."""
    outcome = nbgrader(
        plan.layout.root, plan.env, "autograde", plan.assignment, "--force", *plan.notebook_option(),
        *([f"--student={only}"] if only else []),
        f"--CourseDirectory.submitted_directory={plan.work / STAGED}",
        *(f"--Autograde.autograde_preprocessors={name}"
          for name in plan.config.recording_preprocessors(REPLAY)),
        f"--ReplayOutputs.replay_directory={plan.work / REPLAYED}",
        timeout=600 + 5 * count, log_path=plan.recording_log)
    failed = set(re.findall(r"error processing assignment '[^']*' for student '([^']*)'",
                            outcome.stderr))
    if outcome.returncode != 0 and not failed:
        return None, outcome.stderr
    return failed, outcome.stderr


def stage(plan: Plan, outcome: Outcome) -> None:
    """Stage the notebooks to record and the outputs (or the failure) to replay."""
    submission = outcome.submission
    inbox = plan.work / STAGED / outcome.student / plan.assignment
    replayed = plan.work / REPLAYED / outcome.student
    inbox.mkdir(parents=True)
    replayed.mkdir(parents=True)
    if submission.timestamp:
        (inbox / "timestamp.txt").write_text(submission.timestamp)
    if submission.secret:
        (inbox / "submission_secret.txt").write_text(submission.secret)
    for name in plan.graded:
        notebook = submission.notebooks.get(name)
        if notebook is not None:
            nbformat.write(notebook, inbox / f"{name}.ipynb")
        else:  # unreadable or missing: record the blank release
            shutil.copy(plan.layout.release_notebook(plan.assignment, name), inbox)
        if notebook is not None and name in outcome.executed:
            (replayed / f"{name}.ipynb").write_text(outcome.executed[name], encoding="utf-8")
        else:  # the reason is shown in every cell
            reason = outcome.problems.get(name, "not graded")
            (replayed / f"{name}.failed.json").write_text(json.dumps({"reason": reason}))


def record_zero(plan: Plan, student: str) -> None:
    """Give a submission nbgrader could not record zero points, rather than none."""
    with plan.gradebook() as gradebook:
        submission = gradebook.update_or_create_submission(plan.assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score, grade.needs_manual_grade = 0, True
        gradebook.db.commit()


def _undo_changes_while_recording(plan: Plan, snapshot: CourseSnapshot) -> list[str]:
    """Undo any change to the course during recording, other than what is written on purpose:
    by nbgrader and the grader, in this run or in another run grading another assignment at
    the same time."""
    layout, sqlite = plan.layout, plan.config.sqlite_path
    expected = [layout.root / name for name in (*layout.written_by_grading, layout.release)]
    changed = [path for path in snapshot.changes_since()
               if not any(path.is_relative_to(folder) for folder in expected)
               and not (sqlite and path.name.startswith(sqlite.name))
               and not (path.parent == layout.root and layout.OUTPUT_FILES.fullmatch(path.name))]
    if not changed:
        return []
    lost = snapshot.restore(changed)
    return [f"files changed while grades were recorded, and were restored: "
            f"{', '.join(map(str, changed[:5]))}" + (f"; not restorable: {lost[:5]}" if lost else "")]


def _lines(plan: Plan, outcomes: list[Outcome], failures: Mapping[str, str]) -> tuple[Line, ...]:
    """Each student's summary line, with the scores the gradebook now holds."""
    lines = []
    with plan.gradebook() as gradebook:
        for outcome in outcomes:
            line = Line(outcome, failures.get(outcome.student, ""))
            try:
                submission = gradebook.find_submission(plan.assignment, outcome.student)
            except MissingEntry:
                lines.append(line)
                continue
            # a failed submission's zeros are marked manual too: they are not to grade by hand
            by_hand = () if line.failure else tuple(sorted(
                grade.name for notebook in submission.notebooks for grade in notebook.grades
                if grade.needs_manual_grade and grade.manual_score is None))
            lines.append(Line(outcome, line.recording_failure, submission.score,
                              submission.max_score, by_hand))
    return tuple(lines)
