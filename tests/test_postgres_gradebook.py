"""Grading into a PostgreSQL gradebook, against a real server (.ci/run starts one), with
the small class of testkit/small_class.py."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from nbgrader.api import Gradebook

from grader import gradebook as gradebook_db
from grader.config import CourseConfig
from grader.layout import CourseLayout
from testkit.course import make_course_copy
from testkit.servers import fresh_database
from testkit.small_class import WEEK, check_spread, grade, grader_command, grader_env, scores, write_class

OTHER_WEEK = "week1_sequential"


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
    check_spread(found)
    assert list((course / CourseLayout.at(course).gradebook_backups).glob(f"gradebook-{WEEK}-*.dump")), \
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
        check_spread(found)
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
