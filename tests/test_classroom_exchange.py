"""The classroom loop, as on a JupyterHub: the instructor releases an assignment through
nbgrader's exchange, two students fetch, answer and submit it from their own home folders,
the instructor collects and runs `make grade`, releases feedback, and each student fetches
their own feedback. One student submits after the due date and loses points per day late.
Then the instructor grades by hand in the formgrader, and `make grade` keeps that grade."""

from __future__ import annotations

import csv
import html
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from testkit import small_class
from testkit.browser import SECONDS, chromium, formgrader, running_lab, screenshot, students_table
from grader.config import CourseConfig
from testkit.course import ROOT, answered, assignment_points, make_course_copy, read_notebook, run_nbgrader
from grader.sandbox import grading_environment

WEEK = "week5_weights"  # the manually graded exercise and the scores below are week 5's
MAX_POINTS = assignment_points(WEEK)
POINTS = f"{MAX_POINTS:g}"
COURSE_ID = "tf2-course"
POINTS_PER_DAY = 2.0


def student_nbgrader(home: Path, student: str, exchange: Path, *args: str) -> str:
    """Run an nbgrader command as ``student`` would on the hub: in their home folder, with
    no course configuration, only the exchange and the course id. On a hub each student is
    their own system user; here one user plays both, so the student id is given explicitly."""
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--course={COURSE_ID}",
         f"--Exchange.root={exchange}", f"--CourseDirectory.student_id={student}"],
        cwd=home, env=grading_environment(home / ".config-home"), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{student}: nbgrader {args[0]}:\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def make_grade(course: Path, *options: str) -> None:
    """`make grade` of the week on ``course``, as the instructor runs it."""
    graded = subprocess.run(
        ["make", "-C", str(ROOT), "grade", f"ASSIGNMENT={WEEK}",
         f"GRADE_OPTIONS=--root {course} {' '.join([*options, *small_class.LIMITS])}"],
        env=small_class.grader_env(), capture_output=True, text=True, timeout=1200)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-3000:]


def answer(notebook_path: Path, grade_ids: list[str] | None) -> None:
    """Type the reference answers of ``grade_ids`` (None: all) into the fetched notebook."""
    solution = read_notebook(ROOT / "solutions" / WEEK / "assignment.ipynb")
    nbformat.write(answered(read_notebook(notebook_path), solution, grade_ids), notebook_path)


def hidden_test_lines() -> list[str]:
    """The lines only the week's hidden tests hold (not its answers or visible tests)."""
    solution = read_notebook(ROOT / "solutions" / WEEK / "assignment.ipynb")
    hidden = r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS"
    source = "\n".join(cell.source for cell in solution.cells)
    shown = re.sub(hidden, "", source, flags=re.S)
    lines = {line.strip() for block in re.findall(hidden, source, re.S)
             for line in block.splitlines() if len(line.strip()) > 25}
    lines = sorted(line for line in lines if line not in shown)
    assert lines, "the week has hidden tests"
    return lines


def text_of(feedback_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", feedback_html))


@pytest.fixture(scope="module")
def classroom(tmp_path_factory, bwrap):
    """Release, fetch, answer, submit (ben late), collect, grade, release and fetch feedback."""
    top = tmp_path_factory.mktemp("classroom")
    exchange = top / "exchange"
    exchange.mkdir(mode=0o777)
    course = make_course_copy(top / "instructor", [WEEK])
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    run_nbgrader(course, "release_assignment", WEEK)

    answers = {"ana": None, "ben": ["w5_prune_by_magnitude"]}  # None: every answer
    homes = {student: top / "home" / student for student in answers}
    for student, grade_ids in answers.items():
        homes[student].mkdir(parents=True)
        student_nbgrader(homes[student], student, exchange, "fetch_assignment", WEEK)
        answer(homes[student] / WEEK / "assignment.ipynb", grade_ids)
        student_nbgrader(homes[student], student, exchange, "submit", WEEK)
        time.sleep(1.5)  # ben submits clearly after ana

    run_nbgrader(course, "collect", WEEK)
    stamps = {student: parse_utc((course / "submitted" / student / WEEK / "timestamp.txt")
                                 .read_text().strip()) for student in answers}
    assert stamps["ana"] < stamps["ben"]
    due = stamps["ana"] + (stamps["ben"] - stamps["ana"]) / 2  # between the two submissions
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.LatePolicy.due_dates = {{{WEEK!r}: {due.isoformat()!r}}}\n"
                     f"c.LatePolicy.points_per_day = {POINTS_PER_DAY}\n")

    make_grade(course, "--jobs", "2")

    run_nbgrader(course, "release_feedback", WEEK)
    feedback = {}
    for student, home in homes.items():
        student_nbgrader(home, student, exchange, "fetch_feedback", WEEK)
        files = list((home / WEEK / "feedback").glob("*/assignment.html"))
        assert len(files) == 1, f"{student} fetched {files}"
        feedback[student] = files[0].read_text()
    return course, due, feedback


def test_each_submission_is_graded_as_collected(classroom):
    course, _, _ = classroom
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        assert sorted(s.student.id for s in gradebook.assignment_submissions(WEEK)) == ["ana", "ben"]
        ana = gradebook.find_submission(WEEK, "ana")
        assert ana.score == ana.max_score == MAX_POINTS
        assert (ana.total_seconds_late, ana.late_submission_penalty) == (0, 0)


def test_a_late_submission_loses_points_per_day_late(classroom):
    course, due, _ = classroom
    config = CourseConfig.load(course)
    assert config.due_dates[WEEK] == due
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        ben = gradebook.find_submission(WEEK, "ben")
        assert ben.duedate == due
        assert 0 < ben.total_seconds_late < 86400  # late by part of a day: one day's points
        assert ben.score == 5, "ben answered the first exercise (5 points) only"
        assert ben.late_submission_penalty == POINTS_PER_DAY  # nbgrader keeps it beside the score
    with open(course / "grades.csv", newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["student_id"] == "ben")
    assert float(row["late_submission_penalty"]) == POINTS_PER_DAY, row
    assert float(row["raw_score"]) == 5 and float(row["score"]) == 5 - POINTS_PER_DAY, row


def test_each_student_fetches_their_own_feedback_without_hidden_tests(classroom):
    _, _, feedback = classroom
    hidden = hidden_test_lines()
    for student, page in feedback.items():
        text = text_of(page)
        assert "BEGIN HIDDEN TESTS" not in page, student
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{student}'s feedback shows hidden test lines: {leaked[:3]}"
    assert re.search(rf"Score:\s*{POINTS}(\.0)?\s*/\s*{POINTS}", text_of(feedback["ana"])), "ana's score"
    ben = text_of(feedback["ben"])
    assert re.search(rf"Score:\s*3(\.0)?\s*/\s*{POINTS}", ben), "ben's score after the penalty"
    assert "Late submission penalty (Score: -2.0)" in ben
    assert "Late submission penalty" not in text_of(feedback["ana"])
    assert "NotImplementedError" in ben, "ben's feedback says why his unanswered cells failed"


def formgrader_at(page, address: str):
    """The formgrader of the JupyterLab at ``address``; return its frame."""
    page.goto(address)
    page.locator(".jp-DirListing-item").first.wait_for(timeout=120 * SECONDS)
    return formgrader(page)


def gradebook_state(course: Path, student: str) -> tuple[float, float | None, str | None]:
    """The student's score, the manual score of the int8 test and the manual comment."""
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        submission = gradebook.find_submission(WEEK, student)
        grade = gradebook.find_grade(f"{MANUALLY_GRADED}_tests", "assignment", WEEK, student)
        comment = gradebook.find_comment(MANUALLY_GRADED, "assignment", WEEK, student)
        return submission.score, grade.manual_score, comment.manual_comment


MANUALLY_GRADED = "w5_quantize_int8"
COMMENT = "Close: scale by the range over 255, then round."


@pytest.mark.browser
def test_a_formgrader_grade_and_comment_survive_the_next_make_grade(classroom, tmp_path):
    course, _, _ = classroom
    with chromium() as browser, running_lab(course, tmp_path / "home") as (_, address):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        frame = formgrader_at(page, address)
        table = students_table(frame, showing=POINTS)
        assert re.search(rf"\bana\b.*\b{POINTS} / {POINTS}\b", table) and re.search(rf"\bben\b.*\b5 / {POINTS}\b", table), table
        screenshot(page, "05-formgrader-students")

        frame.get_by_role("link", name="Manual Grading").click()
        frame.locator(f"a[href*='gradebook/{WEEK}']").first.click()
        frame.locator(f"a[href*='gradebook/{WEEK}/assignment']").first.click()
        submission = frame.locator("a.name-shown", has_text="ben").get_attribute("href")
        frame.locator(f"a[href='{submission}']:visible").click()
        score = frame.locator(f"input#{MANUALLY_GRADED}_tests")
        comment = frame.locator(f"textarea#{MANUALLY_GRADED}-comment")
        # The formgrader saves a field when it loses focus, once its scripts have bound the
        # field; on a loaded machine a field typed into earlier is not saved. Type again
        # what the gradebook does not hold yet, as a grader would who sees it unsaved.
        deadline = time.monotonic() + 60
        while (state := gradebook_state(course, "ben"))[1:] != (2, COMMENT) \
                and time.monotonic() < deadline:
            for field, value, saved in ((score, "2", state[1] == 2),
                                        (comment, COMMENT, state[2] == COMMENT)):
                if not saved:
                    field.fill(value)
                    field.press("Tab")
            page.wait_for_timeout(2000)
        screenshot(page, "06-formgrader-manual-grade")
    assert gradebook_state(course, "ben") == (7, 2, COMMENT)

    make_grade(course, "--student", "ben")
    assert gradebook_state(course, "ben") == (7, 2, COMMENT)
    feedback = text_of((course / "feedback" / "ben" / WEEK / "assignment.html").read_text())
    assert COMMENT in feedback and re.search(rf"Score:\s*5(\.0)?\s*/\s*{POINTS}", feedback), \
        "the regenerated feedback has the comment, and 7 points less the late penalty"
