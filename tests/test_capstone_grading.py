"""The capstone graded as a class with `python -m grader`: its outcome tests score the
solution in full, and its written reflection waits for the instructor, whose grade counts."""

from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from grader.config import CourseConfig
from testkit.course import make_course_copy, points
from testkit.small_class import grade, scores, write_class

WEEK = "week6_capstone"
REFLECTION = "w6_reflection"
POINTS = points(WEEK)
# Training two models in a sandbox beside another grading job: a generous cell limit.
SLOW_CELLS = ("--jobs", "2", "--cell-timeout", "300", "--timeout", "900")


@pytest.fixture(scope="module")
def capstone(tmp_path_factory, bwrap):
    course = make_course_copy(tmp_path_factory.mktemp("capstone"), [WEEK])
    write_class(course, WEEK)  # solution, partial (the first answer) and blank
    return course, grade(course, WEEK, *SLOW_CELLS)


def waiting_for_hand_grading(course) -> dict[str, bool]:
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        return {submission.student.id: grade.needs_manual_grade
                for submission in gradebook.assignment_submissions(WEEK)
                for notebook in submission.notebooks for grade in notebook.grades
                if grade.name == REFLECTION}


def test_the_solution_earns_every_automatic_point(capstone):
    course, run = capstone
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    found = scores(course, WEEK)
    assert found["solution"] == {**POINTS, REFLECTION: 0}
    assert sum(found["partial"].values()) == POINTS["w6_build_model_tests"]
    assert sum(found["blank"].values()) == 0


def test_make_grade_lists_the_written_reflections_for_the_instructor(capstone):
    course, run = capstone
    assert waiting_for_hand_grading(course) == {"solution": True, "partial": False, "blank": False}
    solution_line = next(line for line in run.stdout.splitlines() if line.startswith("solution "))
    assert f"to grade by hand: {REFLECTION}" in solution_line, run.stdout
    assert "Answers to grade by hand (formgrader > Manual Grading" in run.stdout
    assert "to grade by hand" not in next(line for line in run.stdout.splitlines()
                                          if line.startswith("blank "))


def test_the_instructors_grade_counts_after_grading_again(capstone):
    course, _ = capstone
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        gradebook.find_grade(REFLECTION, "assignment", WEEK, "solution").manual_score = 3
        gradebook.db.commit()
    again = grade(course, WEEK, *SLOW_CELLS, "--student", "solution")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-3000:]
    assert scores(course, WEEK)["solution"][REFLECTION] == 3
    assert "to grade by hand" not in again.stdout, again.stdout
    total = sum(POINTS.values())
    assert f"{total - POINTS[REFLECTION] + 3:g} / {total:g}" in again.stdout
