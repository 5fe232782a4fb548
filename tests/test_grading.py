"""Grade real submissions with nbgrader: full marks, zero, and partial credit in between."""

from __future__ import annotations

import csv

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT, grade_id, make_course_copy, read_notebook, run_nbgrader

WEEK = "week1_sequential"
PARTIAL_ANSWERS = ["w1_scale_images", "w1_count_dense_parameters", "w1_build_mlp"]
PARTIAL_POINTS = 4 + 3 + 4


def _answered(release, solution, grade_ids):
    """The released notebook with the solution's answers pasted into the given cells."""
    answers = {grade_id(cell): cell.source for cell in solution.cells}
    for cell in release.cells:
        if grade_id(cell) in grade_ids:
            cell.source = answers[grade_id(cell)]
    return release


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course_copy(tmp_path_factory.mktemp("grading"), [WEEK])
    solution = read_notebook(ROOT / "solutions" / WEEK / "assignment.ipynb")
    release = read_notebook(course / "course" / WEEK / "assignment.ipynb")
    submissions = {
        "solution": solution,
        "blank": release,
        "partial": _answered(read_notebook(course / "course" / WEEK / "assignment.ipynb"),
                             solution, PARTIAL_ANSWERS),
    }
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / WEEK
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "assignment.ipynb")
    run_nbgrader(course, "autograde", WEEK, "--notebook=assignment")
    run_nbgrader(course, "generate_feedback", WEEK, "--notebook=assignment")
    return course


def _score(course, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="tf2-course") as gradebook:
        submission = gradebook.find_submission(WEEK, student)
        return submission.score, submission.max_score


def test_the_solution_scores_full_marks(graded):
    score, max_score = _score(graded, "solution")
    assert max_score >= 20 and score == max_score


def test_the_blank_release_scores_zero(graded):
    assert _score(graded, "blank")[0] == 0


def test_a_partial_answer_scores_exactly_its_exercises(graded):
    assert _score(graded, "partial")[0] == PARTIAL_POINTS


def test_feedback_shows_visible_tests_but_never_hidden_ones(graded):
    feedback = (graded / "feedback" / "solution" / WEEK / "assignment.html").read_text()
    # The HTML splits code into highlighted tokens: look for single tokens.
    assert "check_layers" in feedback  # a visible test of w1_build_mlp_tests
    assert "BEGIN HIDDEN TESTS" not in feedback
    assert "103_562" not in feedback  # a hidden test of w1_build_cnn_tests


def test_export_writes_one_row_per_student(graded):
    run_nbgrader(graded, "export")
    with open(graded / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == {"solution": _score(graded, "solution")[1], "blank": 0.0,
                    "partial": float(PARTIAL_POINTS)}
