"""Grade submissions on a Dask cluster (``python -m grader ... --scheduler tcp://host:8786``).

Each worker runs the same `grader.grade_one.grade_submission` as the local pool, so the
sandbox and the limits are enforced on the worker, around each submission (Dask itself
watches only the worker process). A worker grades in a temporary folder of its own and
sends back the executed notebooks and the log as text; only the main process writes the
course and records grades. Every worker needs the course's environment: the same Python
packages (``pip install -e '.[cluster]'``), bubblewrap, and no other files of the course.

A submission whose worker is lost is first rescheduled by Dask itself (up to the
scheduler's ``distributed.scheduler.allowed-failures``, 3 by default); when Dask gives up
with ``KilledWorker``, it is sent once more, then fails with the reason.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from grader.grade_one import Graded, Job, grade_submission

CONNECT_SECONDS = 30
INSTALL_HINT = "install the cluster extra: pip install -e '.[cluster]'"


class ClusterError(RuntimeError):
    """The cluster cannot be used (not installed, or no scheduler at the address)."""


def grade_on_worker(job: Job) -> Graded:
    """Grade ``job`` in a folder of this worker's own; return the log as text too."""
    base = Path(tempfile.mkdtemp(prefix=f"grade-{job.student}-"))
    local = dataclasses.replace(job, work=base / "job", log_path=base / "grading.log")
    try:
        graded = grade_submission(local)
        log = local.log_path.read_text(errors="replace") if local.log_path.exists() else ""
        return dataclasses.replace(graded, log=log, log_path=str(job.log_path))
    finally:
        shutil.rmtree(base, ignore_errors=True)


class Cluster:
    """A connection to a Dask scheduler that grades jobs on its workers."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as error:
            raise ClusterError(f"Dask distributed is not installed: {INSTALL_HINT}") from error
        try:
            self.client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"no Dask scheduler answers at {address} ({error})") from error
        workers = self.client.scheduler_info().get("workers", {})
        if not workers:
            self.client.close()
            raise ClusterError(f"the Dask scheduler at {address} has no workers")
        self.address, self.workers = address, len(workers)

    def grade(self, jobs: list[Job]) -> Iterator[tuple[Job, Graded | None, str]]:
        """Yield ``(job, graded, note)`` as each finishes; ``graded`` is None when the job
        could not be graded, and ``note`` then says why (or notes a retry)."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        futures = {self._submit(job): job for job in jobs}
        retried: set[str] = set()
        pending = as_completed(list(futures), loop=self.client.loop)
        for future in pending:
            job = futures.pop(future)
            try:
                graded = future.result()
            except KilledWorker as error:
                if job.student not in retried:
                    retried.add(job.student)
                    again = self._submit(job)
                    futures[again] = job
                    pending.add(again)
                    continue
                yield job, None, (f"its worker was lost twice, so it was not graded ({error})")
                continue
            except Exception as error:  # the grader's own failure on a worker
                yield job, None, (f"the grader failed on a worker ({type(error).__name__}: {error})")
                continue
            note = "graded again after its worker was lost" if job.student in retried else ""
            yield job, graded, note

    def _submit(self, job: Job):
        return self.client.submit(grade_on_worker, job, pure=False,
                                  key=f"grade-{job.student}-{uuid.uuid4().hex[:8]}")

    def close(self) -> None:
        self.client.close()
