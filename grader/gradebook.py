"""The gradebook's database, SQLite or PostgreSQL: back it up, restore it, check it is there.

nbgrader reaches the gradebook through SQLAlchemy at ``CourseDirectory.db_url``. A SQLite
gradebook is copied with SQLite's backup API; a PostgreSQL one is dumped with ``pg_dump`` in
its custom format and restored with ``pg_restore`` (both from PostgreSQL's client tools, and
the driver from ``pip install -e '.[postgres]'``).

    python -m grader.gradebook restore gradebook-backups/gradebook-week1_sequential-....dump
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from grader.config import CourseConfig

CLIENT_HINT = "install PostgreSQL's client tools (apt-get install postgresql-client)"


class GradebookError(RuntimeError):
    """The gradebook cannot be backed up, restored or reached."""


def kind(db_url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``; anything else is refused with the URL shown."""
    backend = make_url(db_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise GradebookError(f"expected a sqlite:/// or postgresql:// gradebook URL, got "
                             f"{shown(db_url)}")
    return backend


def shown(db_url: str) -> str:
    """The URL with any password masked, fit for messages and logs."""
    return make_url(db_url).render_as_string(hide_password=True)


def libpq_url(db_url: str) -> str:
    """The URL as PostgreSQL's own tools take it (no ``+driver`` part)."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def check_reachable(db_url: str, timeout: int = 10) -> None:
    """Raise GradebookError, saying why, unless the gradebook answers a query."""
    arguments = {"connect_timeout": timeout} if kind(db_url) == "postgresql" else {}
    engine = create_engine(db_url, connect_args=arguments)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise GradebookError(f"the gradebook at {shown(db_url)} cannot be reached ({reason})") \
            from error
    finally:
        engine.dispose()


def backup(config: CourseConfig, label: str) -> Path:
    """Copy the gradebook into ``gradebook-backups/`` before anything changes; return the copy."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = config.layout.root / config.layout.gradebook_backups
    folder.mkdir(exist_ok=True)
    if kind(config.db_url) == "sqlite":
        copy = folder / f"gradebook-{label}-{stamp}.db"
        _sqlite_copy(config.sqlite_path, copy)
    else:
        copy = folder / f"gradebook-{label}-{stamp}.dump"
        _run_client("pg_dump", "--format=custom", "--no-owner", f"--file={copy}",
                    f"--dbname={libpq_url(config.db_url)}")
    return copy


def restore(config: CourseConfig, copy: Path) -> None:
    """Put a backup made by :func:`backup` back in place of the current gradebook."""
    if not copy.is_file():
        raise GradebookError(f"expected a gradebook backup file, got {copy}, which does not exist")
    if kind(config.db_url) == "sqlite":
        if copy.suffix != ".db":
            raise GradebookError(f"expected a SQLite backup (.db) for {shown(config.db_url)}, got {copy}")
        _sqlite_copy(copy, config.sqlite_path)
    else:
        if copy.suffix != ".dump":
            raise GradebookError(f"expected a pg_dump backup (.dump) for {shown(config.db_url)}, "
                                 f"got {copy}")
        _run_client("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                    f"--dbname={libpq_url(config.db_url)}", str(copy))


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy, even while nbgrader holds the file open."""
    reader, writer = sqlite3.connect(source), sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        reader.close()
        writer.close()


def _run_client(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise GradebookError(f"{tool} is not installed: {CLIENT_HINT}")
    result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise GradebookError(f"{tool} failed: {result.stderr.strip()[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradebook",
                                     description="Restore the course's gradebook from a backup.")
    commands = parser.add_subparsers(dest="command", required=True)
    restoring = commands.add_parser("restore", help="replace the gradebook with a backup")
    restoring.add_argument("backup", type=Path, help="a file in gradebook-backups/")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    options = parser.parse_args(argv)
    config = CourseConfig.load(options.root)
    try:
        restore(config, options.backup)
    except GradebookError as error:
        print(f"restore failed: {error}", file=sys.stderr)
        return 1
    print(f"restored {shown(config.db_url)} from {options.backup}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
