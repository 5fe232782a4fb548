"""After grading: the class report that `make grade` writes, the progress report, and the
Canvas and Moodle exports, checked against the gradebook of a real grading run (the small
week 5 class: solution, partial and blank)."""

from __future__ import annotations

import csv
import html
import re
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from testkit import small_class
from testkit.browser import chromium, screenshot
from grader.config import CourseConfig
from grader.export import RosterError, read_roster

WEEK = small_class.WEEK
POINTS = f"{small_class.POINTS:g}"


def max_scores(course) -> dict[str, float]:
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        return {cell.name: cell.max_score
                for notebook in gradebook.find_assignment(WEEK).notebooks
                for cell in notebook.grade_cells}


def table_rows(page: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    return [[html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows]


def run_module(module: str, course, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args, "--root", str(course)],
                          capture_output=True, text=True, timeout=300, env=small_class.grader_env())


def test_make_grade_writes_a_report_whose_numbers_are_the_gradebooks(sqlite_class):
    course, found = sqlite_class
    page = (course / "reports" / WEEK / "report.html").read_text()
    totals = [sum(grades.values()) for grades in found.values()]
    assert f"{len(found)} students; mean {sum(totals) / len(totals):.1f} of {POINTS} points" in page
    points = max_scores(course)
    rows = {row[1]: row for row in table_rows(page) if len(row) == 5}
    assert sorted(rows) == sorted(points)
    for name, maximum in points.items():
        scores = [grades[name] for grades in found.values()]
        full = sum(score == maximum for score in scores) / len(scores)
        assert rows[name][2:4] == [f"{sum(scores) / len(scores):.2f} / {maximum:g}", f"{full:.0%}"], name
    for figure in ("scores", "exercises", "seconds"):
        assert (course / "reports" / WEEK / f"{figure}.png").read_bytes().startswith(b"\x89PNG")
    assert page.count('src="data:image/png;base64,') == 3
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page), "the page loads nothing"


def test_the_report_lists_the_commonest_failing_messages_but_no_test_source(sqlite_class):
    course, _ = sqlite_class
    page = (course / "reports" / WEEK / "report.html").read_text()
    messages = {row[1]: row[4] for row in table_rows(page) if len(row) == 5}
    # blank fails every exercise; partial answered only the first, so its other tests fail too
    # (each failure counted under its message: "NameError: ... (1); NotImplementedError (1)")
    first = f"{small_class.first_answer()}_tests"
    assert messages[first] == "NotImplementedError (1)"
    failures = {name: sum(int(count) for count in re.findall(r"\((\d+)\)(?=; |$)", text))
                for name, text in messages.items()}
    assert failures == {name: 1 if name == first else 2 for name in messages}, messages
    assert "BEGIN HIDDEN TESTS" not in page and "checks.check_" not in page


@pytest.mark.browser
def test_the_report_renders_with_no_network_in_chromium(sqlite_class):
    course, _ = sqlite_class
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        requested = []
        page.route("**/*", lambda route: (requested.append(route.request.url),
                                          route.continue_() if route.request.url.startswith(("file:", "data:"))
                                          else route.abort()))
        page.goto((course / "reports" / WEEK / "report.html").as_uri())
        widths = page.locator("img").evaluate_all("images => images.map(image => image.naturalWidth)")
        assert len(widths) == 3 and all(width > 300 for width in widths), widths
        assert [url for url in requested if not url.startswith(("file:", "data:"))] == []
        screenshot(page, "07-class-report", full_page=True)


def test_the_progress_report_shows_every_student_in_every_graded_week(sqlite_class):
    course, found = sqlite_class
    result = run_module("grader.report", course)
    assert result.returncode == 0, result.stderr
    page = (course / "reports" / "progress" / "report.html").read_text()
    rows = {row[0]: row[1:] for row in table_rows(page) if row}
    assert rows == {student: [f"{sum(grades.values()):g} / {POINTS}"] for student, grades in found.items()}
    assert (course / "reports" / "progress" / "progress.png").read_bytes().startswith(b"\x89PNG")


def test_a_report_of_an_ungraded_assignment_says_so(sqlite_class):
    course, _ = sqlite_class
    result = run_module("grader.report", course, "week9_missing")
    assert result.returncode == 2 and "no assignment 'week9_missing'" in result.stderr


@pytest.fixture
def roster(tmp_path):
    """The class on the platform: partial and solution, plus dana who never submitted;
    blank, who was graded, is missing."""
    path = tmp_path / "roster.csv"
    path.write_text("student_id,platform_id,name,email,section\n"
                    "partial,1001,Pat Partial,pat@example.edu,A\n"
                    "solution,1002,Sol Solution,sol@example.edu,B\n"
                    "dana,1003,Dana Absent,dana@example.edu,A\n")
    return path


@pytest.mark.parametrize("platform", ["canvas", "moodle"])
def test_exports_match_the_gradebook_and_list_who_is_missing(sqlite_class, roster, tmp_path, platform):
    course, found = sqlite_class
    output = tmp_path / f"{platform}.csv"
    result = run_module("grader.export", course, platform, "--roster", str(roster),
                        "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert "graded but not on the roster, so not exported: blank" in result.stderr
    assert f"no submission of {WEEK} (empty cell): dana" in result.stderr
    rows = list(csv.reader(open(output, newline="")))
    total = {student: f"{sum(grades.values()):g}" for student, grades in found.items()}
    if platform == "canvas":
        assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", WEEK]
        assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == POINTS
        assert rows[2:] == [["Pat Partial", "1001", "", "", "A", total["partial"]],
                            ["Sol Solution", "1002", "", "", "B", total["solution"]],
                            ["Dana Absent", "1003", "", "", "A", ""]]
    else:
        assert rows == [["ID number", "Email address", "Full name", WEEK],
                        ["1001", "pat@example.edu", "Pat Partial", total["partial"]],
                        ["1002", "sol@example.edu", "Sol Solution", total["solution"]],
                        ["1003", "dana@example.edu", "Dana Absent", ""]]


@pytest.mark.parametrize("text, problem", [
    ("student,name\nana,Ana\n", "needs the columns student_id, platform_id, name; it has student, name"),
    ("student_id,platform_id,name\nana,,Ana\n", "line 2: student_id and platform_id must not be empty"),
    ("student_id,platform_id,name\nana,1,Ana\nben,1,Ben\n", "platform_id appears more than once: 1"),
])
def test_a_roster_the_export_cannot_use_is_refused_with_the_reason(tmp_path, text, problem):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(RosterError, match=re.escape(problem)):
        read_roster(path)
