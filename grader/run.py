"""Grade a whole class: ``python -m grader ASSIGNMENT`` (what ``make grade`` runs).

Four phases, each a module that takes values and returns values:

1. `grader.plan.prepare`: register the assignment (``nbgrader generate_assignment``), back
   up the gradebook (SQLite or PostgreSQL: `grader.gradebook`), build the private course each
   sandbox grades in.
2. `grader.dispatch.grade_all`: grade the submissions, ``--jobs`` at a time, or on a Dask
   cluster's workers with ``--scheduler`` (`grader.cluster`): each is one call of
   `grader.grade_one.grade_submission`, which runs the student's notebooks in a bubblewrap
   sandbox (`grader.jail`) under a wall-clock limit, a memory ceiling and a process cap.
   Each gives one frozen `grader.outcome.Outcome`; a line is printed as each finishes.
3. `grader.record.record`: record every outcome in the real gradebook with nbgrader itself,
   replaying the executed notebooks instead of running anything; a submission that could not
   run, or could not be recorded, scores zero and says why.
4. `grader.publish`: feedback (without hidden tests, sanitised), ``grades.csv``, the summary
   and the class report (`grader.report`).

Only this process writes the gradebook, and it never reads a path a sandbox could write; if
the gradebook cannot be reached, the run stops and says what was recorded. nbgrader's output
is kept in ``grading-logs/<assignment>/``: one log per student, and ``_recording.log``.
With ``--isolation none`` (no bwrap) notebooks run unsandboxed, one at a time, and every
change one makes to the course directory is undone and costs it its grade.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from grader import publish
from grader.config import ConfigError
from grader.dispatch import grade_all
from grader.grade_one import remove_folder
from grader.integrity import CourseSnapshot, environment_folders
from grader.jail import why_no_bwrap
from grader.outcome import Line, Outcome, outcome_of
from grader.plan import GradingError, Plan, prepare
from grader.record import record
from grader.sandbox import Limits

log = logging.getLogger("grader")


@dataclass(frozen=True)
class Run:
    """What a run gave: a line per student, what went wrong with the run, and why it
    stopped before everyone was graded, if it did."""

    lines: tuple[Line, ...]
    problems: tuple[str, ...] = ()
    stopped: str = ""


def grade_class(plan: Plan, students: list[str] | None = None) -> Run:
    """Phases 2-4 of the module docstring, for every submission or the named ``students``'."""
    folders = find(plan, students)
    layout = plan.layout
    snapshot = CourseSnapshot.take(layout.root, environment_folders(),
                                   regenerated=(layout.autograded, layout.feedback))
    outcomes: list[Outcome] = []
    stopped = ""
    try:
        for outcome in grade_all(plan, folders, snapshot):
            outcomes.append(outcome)
    except GradingError as error:
        stopped = str(error)
        done = {outcome.student for outcome in outcomes}
        outcomes += [outcome_of(folder.parent.name, failures=["not graded: the run stopped first"])
                     for folder in folders if folder.parent.name not in done]
    finally:  # record what was graded, even when a submission stopped the run
        log.debug("graded %d submissions", len(outcomes))
        recorded = record(plan, outcomes, snapshot)
    log.debug("recorded")
    problems = recorded.problems + tuple(
        publish.feedback_and_grades(plan, recorded.lines, only_these=bool(students)))
    return Run(recorded.lines, problems, stopped)


def find(plan: Plan, students: list[str] | None) -> list[Path]:
    """The submission folders to grade: every student's, or the named students'."""
    folders = plan.layout.submission_folders(plan.assignment)
    if students:
        missing = sorted(set(students) - {folder.parent.name for folder in folders})
        if missing:
            raise GradingError(f"no submission of {plan.assignment} from {', '.join(missing)}")
        folders = [folder for folder in folders if folder.parent.name in students]
    return folders


def choose_jobs(requested: int, limits: Limits) -> tuple[int, str]:
    """``requested``, lowered so that every job can use its whole memory limit at once."""
    fit = max(1, psutil.virtual_memory().available // limits.memory_bytes)
    if requested <= fit:
        return requested, ""
    return fit, (f"grading {fit} at a time, not {requested}: {requested} x "
                 f"{limits.memory_bytes / 2**30:.1f} GiB is more memory than is available "
                 f"({psutil.virtual_memory().available / 2**30:.1f} GiB)")


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
    parser.add_argument("--verbose", action="store_true",
                        help="print what the grader does, with times, as it does it")
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
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    log.addHandler(handler)  # the grader's modules log below "grader"; other libraries stay quiet
    log.setLevel(logging.DEBUG if options.verbose else logging.WARNING)
    start = time.monotonic()
    try:
        log.debug("starting")
        plan = prepare(options.root, options.assignment, limits, jobs, options.isolation,
                       options.scheduler)
    except (GradingError, ConfigError, FileNotFoundError) as error:
        print(f"grading stopped: {error}", file=sys.stderr)
        return 1
    log.debug("prepared")
    try:
        run = grade_class(plan, options.student)
    except GradingError as error:
        print(f"grading stopped: {error}", file=sys.stderr)
        return 1
    finally:
        remove_folder(plan.work)
    publish.write_summary(run.lines, plan.layout.summary_file(plan.assignment))
    print(publish.summary_table(plan, run.lines, time.monotonic() - start))
    problems = [*run.problems, *publish.report(plan)]  # after the summary, whose seconds it plots
    log.debug("reported")
    if run.stopped:
        problems.insert(0, f"grading stopped before everyone was graded: {run.stopped}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0
