"""A throwaway copy of the course with a fresh gradebook: what tests and the benchmark grade in."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import nbformat

from grader.layout import CourseLayout
from grader.points import cell_points
from grader.sandbox import grading_environment

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = CourseLayout.at(ROOT)
WEEKS = LAYOUT.assignments()


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited with an error; the message holds its log."""


def run_nbgrader(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run one nbgrader command in ``course``, with no user configuration; raise if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
        cwd=course, env=grading_environment(course / ".nbgrader-home"), capture_output=True,
        text=True, timeout=timeout)
    if result.returncode != 0:
        raise NbgraderFailed(f"nbgrader {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stderr[-4000:]}")
    return result


def make_course_copy(destination: Path, weeks: list[str], db_url: str | None = None) -> Path:
    """Copy the config and the given weeks' sources, and register them in a new gradebook
    (SQLite beside the config, or the database at ``db_url``)."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", destination)
    if db_url:
        with open(destination / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    for week in weeks:
        shutil.copytree(ROOT / "solutions" / week, destination / "solutions" / week)
        run_nbgrader(destination, "generate_assignment", week, "--force")
    return destination


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def points(week: str) -> dict[str, float]:
    """The points of each graded cell of ``week``'s assignment, by grade id."""
    return cell_points(read_notebook(LAYOUT.source_notebook(week)))


def assignment_points(week: str) -> float:
    """All the points of ``week``'s graded assignment, as nbgrader counts them."""
    return sum(points(week).values())


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def answered(release: nbformat.NotebookNode, solution: nbformat.NotebookNode,
             grade_ids: Iterable[str] | None = None) -> nbformat.NotebookNode:
    """``release`` with the solution's answers typed into the answer cells ``grade_ids``
    names (every answer cell when it is None)."""
    answers = {grade_id(cell): cell.source for cell in solution.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    wanted = set(answers if grade_ids is None else grade_ids)
    for cell in release.cells:
        if grade_id(cell) in wanted:
            cell.source = answers[grade_id(cell)]
    return release
