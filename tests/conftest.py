"""Fixtures shared by the tests (the tools they share with the benchmark: testkit)."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from testkit import small_class
from testkit.course import make_course_copy
from grader.jail import why_no_bwrap
from testkit.servers import PostgresCluster, free_port, fresh_database, unavailable


@pytest.fixture(scope="session")
def bwrap() -> None:
    """Skip a test that needs the bubblewrap sandbox where it cannot run; under CI, fail."""
    reason = why_no_bwrap()
    if reason:
        unavailable(reason)


@pytest.fixture(scope="session")
def hub_python() -> Path:
    """The Python of the class's environment on a shared machine (`make hub-env`): other
    users cannot run the one in root's home. Built the first time a test needs it."""
    venv = Path(__file__).resolve().parents[1] / ".venv-hub"
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".installed").exists():
            built = subprocess.run(["make", "-C", str(venv.parent), "hub-env"],
                                   capture_output=True, text=True, timeout=1800)
            if built.returncode != 0:
                unavailable(f"make hub-env failed:\n{built.stdout[-1500:]}{built.stderr[-1500:]}")
    return venv / "bin" / "python"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a PostgreSQL server to create test databases on (.ci/run starts one)."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        unavailable("TEST_POSTGRES_URL is not set: start a PostgreSQL server and set it to "
                     "postgresql://user@127.0.0.1:port/postgres (.ci/run does)")
    if importlib.util.find_spec("psycopg2") is None:  # the driver nbgrader's SQLAlchemy needs
        unavailable("psycopg2 is not installed: pip install -e '.[postgres]'")
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
    folder = Path(tempfile.mkdtemp(prefix="own-postgres-"))
    try:
        cluster = PostgresCluster(folder, free_port())
        cluster.start()
        yield cluster
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def session_folder(tmp_path_factory) -> Path:
    """A folder of this test session that every pytest-xdist worker sees."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def sqlite_class(tmp_path_factory, bwrap) -> tuple[Path, dict[str, dict[str, float]]]:
    """The small class graded by the local pool into SQLite: its course and its grades.
    Graded once per session: the first worker to need it grades it, the others wait for it
    and read it (only test_class_report.py reads the course; the others take the grades)."""
    folder = session_folder(tmp_path_factory) / "sqlite-class"
    folder.mkdir(exist_ok=True)
    grades = folder / "grades.json"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not grades.exists():
            course = make_course_copy(folder / "course", [small_class.WEEK])
            small_class.write_class(course)
            result = small_class.grade(course)
            assert result.returncode == 0, result.stderr[-3000:]
            found = small_class.scores(course)
            small_class.check_spread(found)
            grades.write_text(json.dumps(found))
    return folder / "course", json.loads(grades.read_text())


@pytest.fixture(scope="session")
def sqlite_scores(sqlite_class) -> dict[str, dict[str, float]]:
    """The small class's grades in SQLite: what other setups must match."""
    return sqlite_class[1]
