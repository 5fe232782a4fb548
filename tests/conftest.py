"""Fixtures shared by the tests (the tools they share with the benchmark: grader.course_copy)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

import small_class
from grader.course_copy import make_course_copy
from grader.jail import why_no_bwrap
from postgres_cluster import PostgresCluster, fresh_database


@pytest.fixture(scope="session")
def bwrap() -> None:
    """Skip a test that needs the bubblewrap sandbox where it cannot run; under CI, fail."""
    reason = why_no_bwrap()
    if reason:
        _unavailable(reason)


def _unavailable(reason: str) -> None:
    """Skip a test whose real component is missing; under CI, where it must be there, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a PostgreSQL server to create test databases on (.ci/run starts one)."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        _unavailable("TEST_POSTGRES_URL is not set: start a PostgreSQL server and set it to "
                     "postgresql://user@127.0.0.1:port/postgres (.ci/run does)")
    if importlib.util.find_spec("psycopg2") is None:  # the driver nbgrader's SQLAlchemy needs
        _unavailable("psycopg2 is not installed: pip install -e '.[postgres]'")
    return url


@pytest.fixture
def postgres_database(postgres_server):
    """A fresh, empty database on the server, dropped afterwards; yields its SQLAlchemy URL."""
    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture
def own_postgres(postgres_server):
    """A cluster on a free port, started; stopped (if still running) and removed after the test.
    Its folder sits directly in /tmp: the postgres user cannot enter pytest's private folders."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="own-postgres-"))
    try:
        cluster = PostgresCluster(folder, port, _unavailable)
        cluster.start()
        yield cluster
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_scores(tmp_path_factory, bwrap):
    """The small class graded by the local pool into SQLite: what other setups must match."""
    course = make_course_copy(tmp_path_factory.mktemp("sqlite-class"), [small_class.WEEK])
    small_class.write_class(course)
    result = small_class.grade(course)
    assert result.returncode == 0, result.stderr[-3000:]
    found = small_class.scores(course)
    small_class.check_spread(found)
    return found
