"""Grading on a real Dask cluster: a `dask scheduler` and two `dask worker`s on 127.0.0.1.

The scheduler runs with ``allowed-failures`` 0, so when a worker dies Dask gives up on its
task at once and the grader's own retry is what the test sees.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testkit.course import make_course_copy
from testkit.servers import free_port, unavailable
from testkit.small_class import WEEK, grader_command, grader_env, scores, write_class

START_SECONDS = 120


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Dask scheduler exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.5)
    raise RuntimeError(f"no Dask scheduler on port {port} after {START_SECONDS} s")


class DaskCluster:
    """A scheduler and workers, each its own process group, so a test can kill one."""

    def __init__(self, folder: Path):
        self.dask = str(Path(sys.executable).parent / "dask")
        self.folder, self.port = folder, free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        env = dict(grader_env(), DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
        self.scheduler = self._start([self.dask, "scheduler", "--host", "127.0.0.1", "--port",
                                      str(self.port), "--no-dashboard"], "scheduler", env)
        _wait_for_port(self.port, self.scheduler)
        self.workers = [self._start([self.dask, "worker", self.address, "--nthreads", "1",
                                     "--no-dashboard", "--memory-limit", "0",
                                     "--name", f"worker-{index}"], f"worker-{index}", env)
                        for index in range(2)]
        self._wait_for_workers(2)

    def _start(self, command: list[str], name: str, env: dict[str, str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        return subprocess.Popen(command, cwd=self.folder, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_for_workers(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=START_SECONDS) as client:
            client.wait_for_workers(count, timeout=START_SECONDS)

    def busy_worker(self) -> subprocess.Popen:
        """The process of a worker that holds a submission now."""
        from distributed import Client

        with Client(self.address, timeout=START_SECONDS) as client:
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline:
                workers = client.scheduler_info()["workers"]
                for address, keys in client.processing().items():
                    if keys and address in workers:
                        return self.workers[int(workers[address]["name"].split("-")[1])]
                time.sleep(0.2)
        raise RuntimeError("no worker held a submission")

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            self.kill(process)


@pytest.fixture
def dask_cluster(tmp_path, bwrap):
    if importlib.util.find_spec("distributed") is None:
        unavailable("Dask distributed is not installed: pip install -e '.[cluster]'")
    cluster = DaskCluster(tmp_path)
    yield cluster
    cluster.close()


def summary(course: Path) -> dict[str, str]:
    with open(course / f"grading-summary-{WEEK}.csv", newline="") as handle:
        return {row["student"]: row["status"] for row in csv.DictReader(handle)}


def test_a_class_graded_on_the_cluster_gets_the_local_grades_though_a_worker_dies(
        tmp_path, dask_cluster, sqlite_scores):
    course = make_course_copy(tmp_path / "course", [WEEK])
    write_class(course)
    run = subprocess.Popen(grader_command(course, WEEK, "--scheduler", dask_cluster.address),
                           cwd=course, env=grader_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    seen = []
    for line in run.stdout:  # once one is graded, kill a worker that holds another
        seen.append(line)
        if line.startswith("[1/3]"):
            dask_cluster.kill(dask_cluster.busy_worker())
            break
    stdout, stderr = run.communicate(timeout=1800)
    stdout = "".join(seen) + stdout
    assert run.returncode == 0, stdout[-2000:] + stderr[-3000:]
    assert f"grading on 2 Dask worker(s) at {dask_cluster.address}" in stdout
    assert scores(course) == sqlite_scores
    notes = summary(course)
    assert any("graded again after its worker was lost" in status for status in notes.values()), notes
    for student in sqlite_scores:  # written by this process from the text the workers sent
        assert (course / "grading-logs" / WEEK / f"{student}.log").stat().st_size > 0
