"""Grading into a PostgreSQL gradebook, against a real server (.ci/run starts one).

A small class of week 5 (the fastest assignment): the solution, a partial answer and the
blank release, so full, partial and zero scores all go through the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from grader import gradebook as gradebook_db
from grader.config import CourseConfig
from grader.course_copy import ROOT, grade_id, make_course_copy, read_notebook
from postgres_cluster import fresh_database

WEEK = "week5_weights"
OTHER_WEEK = "week3_saving"
LIMITS = ["--timeout", "400", "--cell-timeout", "60", "--memory", "3"]


def write_class(course: Path, week: str) -> None:
    """Submissions of ``week`` from solution, partial (first answer only) and blank."""
    solution = read_notebook(ROOT / "solutions" / week / "assignment.ipynb")
    answers = {grade_id(cell): cell.source for cell in solution.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    first = next(iter(answers))
    for student, answered in (("solution", answers), ("partial", [first]), ("blank", [])):
        notebook = read_notebook(course / "course" / week / "assignment.ipynb")
        for cell in notebook.cells:
            if grade_id(cell) in answered:
                cell.source = answers[grade_id(cell)]
        folder = course / "submitted" / student / week
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "assignment.ipynb")


def grader_command(course: Path, week: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", week, "--root", str(course), *LIMITS, *extra]


def grader_env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def grade(course: Path, week: str = WEEK, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(grader_command(course, week, "--jobs", "2", *extra), cwd=course,
                          env=grader_env(), capture_output=True, text=True, timeout=1200)


def scores(course: Path, week: str = WEEK) -> dict[str, dict[str, float]]:
    """Every recorded grade of ``week``: student -> grade id -> score."""
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        return {submission.student.id: {grade.name: grade.score
                                        for notebook in submission.notebooks
                                        for grade in notebook.grades}
                for submission in gradebook.assignment_submissions(week)}


@pytest.fixture(scope="module")
def sqlite_scores(tmp_path_factory, bwrap):
    course = make_course_copy(tmp_path_factory.mktemp("sqlite-class"), [WEEK])
    write_class(course, WEEK)
    result = grade(course)
    assert result.returncode == 0, result.stderr[-3000:]
    return scores(course)


@pytest.fixture(scope="module")
def postgres_class(tmp_path_factory, bwrap, postgres_server):
    """The class graded into a fresh PostgreSQL database: (course, the grader's run)."""
    with fresh_database(postgres_server) as url:
        course = make_course_copy(tmp_path_factory.mktemp("postgres-class"), [WEEK], db_url=url)
        write_class(course, WEEK)
        yield course, grade(course)


def test_a_class_graded_into_postgresql_gets_the_sqlite_grades(postgres_class, sqlite_scores):
    course, result = postgres_class
    assert result.returncode == 0, result.stderr[-3000:]
    found = scores(course)
    assert found == sqlite_scores
    assert sum(found["solution"].values()) > sum(found["partial"].values()) > 0
    assert sum(found["blank"].values()) == 0
    assert list((course / gradebook_db.BACKUPS).glob(f"gradebook-{WEEK}-*.dump")), \
        "a PostgreSQL gradebook is backed up with pg_dump before the run"


def test_a_pg_dump_backup_restores_the_gradebook(postgres_class, sqlite_scores):
    course, _ = postgres_class
    config = CourseConfig.load(course)
    backup = gradebook_db.backup(config, "after-grading")
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        gradebook.remove_submission(WEEK, "solution")
    assert "solution" not in scores(course)
    restored = subprocess.run([sys.executable, "-m", "grader.gradebook", "--root", str(course),
                               "restore", str(backup)], capture_output=True, text=True, timeout=300)
    assert restored.returncode == 0, restored.stderr
    assert scores(course) == sqlite_scores


def test_two_runs_of_different_assignments_at_once_lose_nothing(tmp_path, bwrap, postgres_database):
    course = make_course_copy(tmp_path, [WEEK, OTHER_WEEK], db_url=postgres_database)
    for week in (WEEK, OTHER_WEEK):
        write_class(course, week)
    runs = [subprocess.Popen(grader_command(course, week, "--jobs", "1"), cwd=course,
                             env=grader_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for week in (WEEK, OTHER_WEEK)]
    outputs = [run.communicate(timeout=1800) for run in runs]
    for run, (_, stderr) in zip(runs, outputs):
        assert run.returncode == 0, stderr[-3000:]
    for week in (WEEK, OTHER_WEEK):
        found = scores(course, week)
        assert sorted(found) == ["blank", "partial", "solution"], week
        assert sum(found["solution"].values()) > sum(found["partial"].values()) > 0, week
        assert sum(found["blank"].values()) == 0, week
        for student in found:
            assert (course / "feedback" / student / week / "assignment.html").is_file()


def test_a_server_that_goes_away_stops_the_run_and_records_nothing(tmp_path, bwrap, own_postgres):
    course = make_course_copy(tmp_path, [WEEK], db_url=own_postgres.url)
    write_class(course, WEEK)
    run = subprocess.Popen(grader_command(course, WEEK, "--jobs", "1"), cwd=course,
                           env=grader_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    for line in run.stdout:  # the first progress line: grading has started, nothing recorded
        if line.startswith("[1/3]"):
            own_postgres.stop()
            break
    stdout, stderr = run.communicate(timeout=1200)
    assert run.returncode == 1, stdout + stderr
    assert "cannot be reached" in stderr and "nothing from this run was recorded" in stderr, stderr
    assert "Traceback" not in stderr, stderr[-3000:]
    own_postgres.start()
    time.sleep(1)
    assert scores(course) == {}, "no grade of this run may be in the gradebook"
