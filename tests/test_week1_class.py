"""A week 1 class of three graded by `python -m grader` in the sandbox: the solution full
marks, the partial answer exactly its exercise, the blank release zero. Small on purpose:
with week 1's notebooks under nbval it is what CI runs on Python 3.12 and 3.13 (make smoke)."""

from __future__ import annotations

from testkit import small_class
from testkit.course import assignment_points, make_course_copy, points

WEEK = "week1_sequential"


def test_a_week1_class_gets_full_partial_and_zero_marks(tmp_path, bwrap):
    course = make_course_copy(tmp_path / "course", [WEEK])
    first = small_class.write_class(course, WEEK)
    result = small_class.grade(course, WEEK)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    totals = {student: sum(grades.values()) for student, grades in small_class.scores(course, WEEK).items()}
    assert totals == {"solution": assignment_points(WEEK), "partial": points(WEEK)[f"{first}_tests"],
                      "blank": 0}
