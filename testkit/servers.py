"""Real servers for the tests: skipping (or, under CI, failing) without them, free ports,
fresh PostgreSQL databases, and PostgreSQL clusters a test owns."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def unavailable(reason: str) -> None:
    """Skip a test whose real component is missing; under CI, where it must be there, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server at ``server_url``; yield its SQLAlchemy URL;
    drop it afterwards, even if connections to it are still open."""
    import psycopg2
    from sqlalchemy.engine import make_url

    name = f"gradebook_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        url = make_url(server_url).set(drivername="postgresql+psycopg2", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


class PostgresCluster:
    """A throwaway cluster on 127.0.0.1:``port`` that a test may stop and start again."""

    def __init__(self, folder: Path, port: int):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if not bins or not (bins[-1] / "initdb").exists():
            unavailable("PostgreSQL's server programs are not installed (apt-get install postgresql)")
        self.bin, self.data, self.port = bins[-1], folder / "data", port
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres user
            shutil.chown(folder, "postgres")
        self._run("initdb", "--auth=trust", "--username=postgres", "-D", str(self.data))

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["su", "postgres", "-c", shlex.join(command)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"), "-w",
                  "-o", f"-h 127.0.0.1 -p {self.port} -k {self.data}", "start")

    def stop(self) -> None:
        """Stop at once, as a crash or a lost network would (no clean shutdown)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
