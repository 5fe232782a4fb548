"""Grade real submissions with nbgrader: full marks, zero, and partial credit in between."""

from __future__ import annotations

import csv
import re

import nbformat
import pytest
from nbgrader.api import Gradebook

from testkit.course import (ROOT, WEEKS, answered, make_course_copy, points,
                            read_notebook, run_nbgrader)

# Per week: answers pasted into the partial submission, a single code token that only a
# visible test holds, and one that only a hidden test holds. Week 1 is graded, with the
# same checks and many more, by `python -m grader` in test_hostile_grading.py, and week 6,
# with its hand-graded reflection, in test_capstone_grading.py.
CASES = {
    "week2_validation": (["w2_one_hot_encode", "w2_standardize", "w2_build_baseline_model"],
                         "check_param_count", "first_kernel"),
    "week3_saving": (["w3_make_epoch_checkpoint", "w3_make_best_checkpoint", "w3_train"],
                     "steps_before", "ManyVariables"),
    "week4_transfer": (["w4_prepare_digits", "w4_make_feature_extractor", "w4_build_transfer_model"],
                       "check_param_count", "catch_warnings"),
    "week5_weights": (["w5_prune_by_magnitude", "w5_quantize_int8", "w5_prune_choice"],
                      "check_dtype", "too_deep"),
}


def test_every_week_has_a_grading_case():
    assert sorted([*CASES, "week1_sequential", "week6_capstone"]) == WEEKS


def _points_of(week, answer_ids):
    return sum(points(week)[f"{answer}_tests"] for answer in answer_ids)


@pytest.fixture(scope="module", params=sorted(CASES))
def graded(request, tmp_path_factory):
    week = request.param
    course = make_course_copy(tmp_path_factory.mktemp(week), [week])
    solution = read_notebook(ROOT / "solutions" / week / "assignment.ipynb")
    release_path = course / "course" / week / "assignment.ipynb"
    submissions = {
        "solution": solution,
        "blank": read_notebook(release_path),
        "partial": answered(read_notebook(release_path), solution, CASES[week][0]),
    }
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / week
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "assignment.ipynb")
    run_nbgrader(course, "autograde", week, "--notebook=assignment")
    run_nbgrader(course, "generate_feedback", week, "--notebook=assignment")
    return course, week, _points_of(week, CASES[week][0])


def _score(course, week, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="tf2-course") as gradebook:
        submission = gradebook.find_submission(week, student)
        return submission.score, submission.max_score


def test_the_solution_scores_full_marks(graded):
    course, week, _ = graded
    score, max_score = _score(course, week, "solution")
    assert max_score >= 20 and score == max_score


def test_the_blank_release_scores_zero(graded):
    course, week, _ = graded
    assert _score(course, week, "blank")[0] == 0


def test_a_partial_answer_scores_exactly_its_exercises(graded):
    course, week, partial_points = graded
    assert 0 < partial_points < _score(course, week, "solution")[1]
    assert _score(course, week, "partial")[0] == partial_points


def test_feedback_shows_visible_tests_but_never_hidden_ones(graded):
    course, week, _ = graded
    _, visible_token, hidden_token = CASES[week]
    # Each token is where this test needs it: only a hidden test holds the hidden one.
    source = (ROOT / "solutions" / week / "assignment.ipynb").read_text()
    release = (ROOT / "course" / week / "assignment.ipynb").read_text()
    assert hidden_token in source and hidden_token not in release and visible_token in release
    # The HTML splits code into highlighted tokens: look for single tokens. Failed tests
    # (in the blank and partial submissions) must not quote hidden lines in tracebacks.
    for student in ("solution", "blank", "partial"):
        feedback = (course / "feedback" / student / week / "assignment.html").read_text()
        assert visible_token in feedback
        assert "BEGIN HIDDEN TESTS" not in feedback, student
        assert hidden_token not in feedback, student


def test_feedback_opens_offline(graded):
    """Nothing in the feedback is fetched from the network (nbconvert loads MathJax from a CDN)."""
    course, week, _ = graded
    feedback = (course / "feedback" / "solution" / week / "assignment.html").read_text()
    assert "<html" in feedback
    assert re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
                      feedback, flags=re.IGNORECASE) == []


def test_export_writes_one_row_per_student(graded):
    course, week, partial_points = graded
    run_nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == {"solution": _score(course, week, "solution")[1], "blank": 0.0,
                    "partial": float(partial_points)}
