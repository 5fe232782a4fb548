"""A small class of week 3 for the gradebook, cluster, import and hub tests: the solution,
a partial answer and the blank release, so full, partial and zero scores. These tests grade
its solution often, and week 3's is the quickest assignment (README's notebook table): its
solution took 15.8 s in the sandbox, against 18.8, 22.4 and 30.8 s for weeks 2, 1 and 5
(`benchmarks/bench.py`'s `time_grading`, a quiet 2-core machine, 2026-12-07)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from grader.config import CourseConfig
from testkit.course import ROOT, answered, assignment_points, grade_id, read_notebook

WEEK = "week3_saving"
POINTS = assignment_points(WEEK)  # the most a student can score
# No --cell-timeout: the grader's own cell limit (grader.sandbox.Limits), since the
# assignment trains networks in its cells.
LIMITS = ["--timeout", "400", "--memory", "3"]
STUDENTS = ["blank", "partial", "solution"]


def first_answer(week: str = WEEK) -> str:
    """The grade id of ``week``'s first answer: the one the partial submission answers."""
    solution = read_notebook(ROOT / "solutions" / week / "assignment.ipynb")
    return next(grade_id(cell) for cell in solution.cells
                if cell.metadata.get("nbgrader", {}).get("solution"))


def write_class(course: Path, week: str = WEEK) -> str:
    """Submissions of ``week`` from solution, partial (first answer only) and blank; return
    the grade id of the partial submission's one answer."""
    solution = read_notebook(ROOT / "solutions" / week / "assignment.ipynb")
    first = first_answer(week)
    for student, grade_ids in (("solution", None), ("partial", [first]), ("blank", [])):
        notebook = answered(read_notebook(course / "course" / week / "assignment.ipynb"),
                            solution, grade_ids)
        folder = course / "submitted" / student / week
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "assignment.ipynb")
    return first


def grader_command(course: Path, week: str = WEEK, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", week, "--root", str(course), *LIMITS, *extra]


def grader_env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def grade(course: Path, week: str = WEEK, *extra: str) -> subprocess.CompletedProcess:
    """``python -m grader`` on the course, two submissions at a time unless ``extra`` says."""
    extra = extra or ("--jobs", "2")
    return subprocess.run(grader_command(course, week, *extra), cwd=course, env=grader_env(),
                          capture_output=True, text=True, timeout=1800)


def scores(course: Path, week: str = WEEK) -> dict[str, dict[str, float]]:
    """Every recorded grade of ``week``: student -> grade id -> score."""
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        return {submission.student.id: {grade.name: grade.score
                                        for notebook in submission.notebooks
                                        for grade in notebook.grades}
                for submission in gradebook.assignment_submissions(week)}


def check_spread(found: dict[str, dict[str, float]]) -> None:
    """Full, partial and zero scores, as the class was written."""
    assert sorted(found) == STUDENTS, sorted(found)
    assert sum(found["solution"].values()) > sum(found["partial"].values()) > 0
    assert sum(found["blank"].values()) == 0
