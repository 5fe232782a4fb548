"""Feedback minutes after a student submits: ``python -m grader.serve ASSIGNMENT...`` (`make serve`).

Run by the course account on the machine that holds the exchange (a JupyterHub), the
service watches the exchange's inbound folder and, for each submission that arrives:

1. queues it in the gradebook's own database (table ``submission_queue``: SQLite by
   default, PostgreSQL when the course is configured so), so that a crash loses none;
2. takes it out of inbound with `grader.exchange.receive`, which refuses one whose files
   belong to anyone but the student it names (the refusal and its reason are logged and
   kept in the queue for the instructor: ``--status``);
3. grades it exactly as ``make grade`` does (``python -m grader --student ...``: the same
   sandbox and limits, ``--jobs`` here or ``--scheduler`` on a Dask cluster), up to
   ``--batch`` submissions waiting at that moment in one run, the first to arrive first;
4. releases that student's feedback, readable by them alone, which they fetch from the
   Assignment List (`grader.exchange.release_feedback`).

A student gets feedback at most ``FeedbackOnSubmit.per_day`` times an assignment in any 24
hours (``nbgrader_config.py``; default 3), so that hidden tests cannot be mined by
resubmitting. Submissions beyond that are held: the latest held one is graded when the
student may have feedback again, or when the assignment's due date passes (so that what
was submitted on time counts). Of several submissions waiting, only the latest is graded.

Killed at any moment and started again, the service loses nothing and grades nothing twice:
each step is recorded before the next begins; a run it had started is stopped first
(its process group is remembered in ``grading-logs/_service.pgid``), and a submission
found graded in the gradebook (the same student, assignment and time) is not graded again.
Only one service runs for a course (a lock file beside the gradebook).
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import parse_utc
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, create_engine, select

from grader.config import CourseConfig
from grader.exchange import Exchange, Refused, receive, release_feedback

log = logging.getLogger("grader.serve")

QUEUED, HELD, GRADING, GRADED, RELEASED = "queued", "held", "grading", "graded", "released"
REFUSED, FAILED, SUPERSEDED = "refused", "failed", "superseded"
WAITING = (QUEUED, HELD)
WINDOW = timedelta(hours=24)  # the feedback limit counts releases in any 24 hours

_metadata = MetaData()
QUEUE = Table(
    "submission_queue", _metadata,
    Column("entry", String(512), primary_key=True),  # the inbound folder's name
    Column("student", String(128), nullable=False, index=True),
    Column("assignment", String(128), nullable=False, index=True),
    Column("claimed", String(64), nullable=False),  # the time its name states
    Column("state", String(16), nullable=False, index=True),
    Column("received_at", DateTime, nullable=False),  # naive UTC, as nbgrader's times
    Column("timestamp", String(64)),  # as recorded in submitted/ and the gradebook
    Column("released_at", DateTime),
    Column("detail", Text, nullable=False, default=""),
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Service:
    """What the service serves, and how it grades."""

    config: CourseConfig
    assignments: tuple[str, ...]
    jobs: int = 2
    batch: int = 25  # the most submissions one grading run takes: feedback flows in a burst
    grade_options: tuple[str, ...] = ()  # passed on to python -m grader
    scheduler: str | None = None
    now: Callable[[], datetime] = field(default=utcnow, compare=False)  # tests move the clock

    @property
    def exchange(self) -> Exchange:
        if self.config.exchange_root is None:
            raise Refused(f"{self.config.root / 'nbgrader_config.py'} sets no Exchange.root: "
                          "feedback on submit needs the exchange students submit to")
        return Exchange(self.config.exchange_root, self.config.course_id)

    @property
    def pgid_file(self) -> Path:
        return self.config.layout.root / self.config.layout.logs / "_service.pgid"


class Queue:
    """The queue table in the gradebook's database."""

    def __init__(self, db_url: str):
        self.engine = create_engine(db_url)
        _metadata.create_all(self.engine)

    def rows(self, *states: str, assignment: str | None = None) -> list:
        query = select(QUEUE)
        if states:
            query = query.where(QUEUE.c.state.in_(states))
        if assignment:
            query = query.where(QUEUE.c.assignment == assignment)
        with self.engine.connect() as connection:
            return list(connection.execute(query.order_by(QUEUE.c.claimed, QUEUE.c.entry)))

    def known(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(connection.execute(select(QUEUE.c.entry)).scalars())

    def add(self, entry: str, student: str, assignment: str, claimed: str, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(QUEUE.insert().values(
                entry=entry, student=student, assignment=assignment, claimed=claimed,
                state=QUEUED, received_at=now, detail=""))

    def set(self, entry: str, state: str, **values) -> None:
        with self.engine.begin() as connection:
            connection.execute(QUEUE.update().where(QUEUE.c.entry == entry)
                               .values(state=state, **values))

    def released_since(self, student: str, assignment: str, since: datetime) -> int:
        return sum(1 for row in self.rows(RELEASED, assignment=assignment)
                   if row.student == student and row.released_at >= since)


def serve_once(service: Service, queue: Queue) -> None:
    """One pass: queue what arrived, choose what to grade, grade it, release feedback."""
    exchange = service.exchange
    for assignment in service.assignments:
        arrived(queue, exchange, assignment, service.now())
    chosen = sorted(choose(service, queue), key=lambda row: row.received_at)[:service.batch]
    received = [row for row in chosen if take(service, queue, row)]
    for assignment in sorted({row.assignment for row in received}):
        batch = [row for row in received if row.assignment == assignment]
        grade(service, batch)
        for row in batch:
            check_recorded(service, queue, row.entry)
    release_graded(service, queue)


def arrived(queue: Queue, exchange: Exchange, assignment: str, now: datetime) -> None:
    """Take every new submission of ``assignment`` out of inbound, and queue it."""
    known = queue.known()
    for entry in exchange.entries(assignment):
        if entry not in known:
            exchange.take_out(entry)
            student, _, claimed = entry.split("+")[:3]
            queue.add(entry, student, assignment, claimed, now)
            log.info("received %s", entry)
            try:
                exchange.check_owner(entry)
            except Refused as error:
                queue.set(entry, REFUSED, detail=str(error))
                log.warning("refused %s: %s", entry, error)


def choose(service: Service, queue: Queue) -> list:
    """The latest waiting submission of each student who may have feedback now (older ones
    are superseded); the others are held, with the reason."""
    now, chosen = service.now(), []
    waiting: dict[tuple[str, str], list] = {}
    for row in queue.rows(*WAITING):
        if row.assignment in service.assignments:
            waiting.setdefault((row.student, row.assignment), []).append(row)
    for (student, assignment), rows in waiting.items():
        *older, latest = rows
        for row in older:
            queue.set(row.entry, SUPERSEDED, detail=f"a later submission came: {latest.entry}")
        due = service.config.due_dates.get(assignment)
        released = queue.released_since(student, assignment, now - WINDOW)
        on_time_at_deadline = due is not None and now >= due and latest.received_at <= due
        if released < service.config.feedback_per_day or on_time_at_deadline:
            chosen.append(latest)
        elif latest.state != HELD:
            queue.set(latest.entry, HELD, detail=(
                f"feedback given {released} times in 24 hours, the most a day "
                f"({service.config.feedback_per_day}): graded when the student may have feedback "
                "again, or at the due date"))
            log.info("held %s", latest.entry)
    return chosen


def take(service: Service, queue: Queue, row) -> bool:
    """Take ``row``'s submission out of inbound into submitted/; False if it is refused."""
    layout = service.config.layout
    try:
        received = receive(service.exchange, row.entry, layout.root / layout.submitted)
    except (Refused, OSError) as error:
        queue.set(row.entry, REFUSED, detail=str(error))
        log.warning("refused %s: %s", row.entry, error)
        return False
    queue.set(row.entry, GRADING, timestamp=received.timestamp, detail=received.note)
    return True


def grade(service: Service, rows: list) -> None:
    """Grade ``rows`` (one assignment) with ``python -m grader``, in a process group that a
    restarted service can stop (`stop_previous_run`) and that dies with this process."""
    layout, assignment = service.config.layout, rows[0].assignment
    command = [sys.executable, "-m", "grader", assignment, "--root", str(layout.root),
               "--jobs", str(service.jobs), *service.grade_options]
    if service.scheduler:
        command += ["--scheduler", service.scheduler]
    for row in rows:
        command += ["--student", row.student]
    log_path = layout.root / layout.logs / assignment / "_service.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as output:
        output.write(f"\n== {utcnow():%Y-%m-%d %H:%M:%S} UTC: {' '.join(command)}\n")
        output.flush()
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                 start_new_session=True, preexec_fn=_die_with_parent)
        service.pgid_file.write_text(str(child.pid))
        child.wait()
    service.pgid_file.unlink(missing_ok=True)
    log.info("graded %s: %s (exit %s)", assignment, ", ".join(row.student for row in rows),
             child.returncode)


def _die_with_parent() -> None:
    """In the child: be killed when the service dies (Linux prctl PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def recorded(service: Service, student: str, assignment: str, timestamp: str) -> bool:
    """Whether the gradebook holds ``student``'s submission of that ``timestamp``, graded."""
    with Gradebook(service.config.db_url, course_id=service.config.course_id) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return False
        return submission.timestamp == parse_utc(timestamp)


def check_recorded(service: Service, queue: Queue, entry: str) -> None:
    row = next(row for row in queue.rows(GRADING) if row.entry == entry)
    if recorded(service, row.student, row.assignment, row.timestamp):
        queue.set(entry, GRADED)
    else:
        logs = service.config.layout.log(row.assignment, row.student)
        queue.set(entry, FAILED, detail=f"not recorded in the gradebook; see {logs} and "
                  f"{logs.parent / '_service.log'}")
        log.warning("could not grade %s: see %s", entry, logs)


def release_graded(service: Service, queue: Queue) -> None:
    """Release the feedback of every graded submission whose feedback is written."""
    layout = service.config.layout
    for row in queue.rows(GRADED):
        folder = layout.root / layout.feedback / row.student / row.assignment
        stamp = folder / "timestamp.txt"
        if not stamp.is_file() or parse_utc(stamp.read_text().strip()) != parse_utc(row.timestamp):
            queue.set(row.entry, FAILED, detail=f"no feedback for this submission in {folder}")
            continue
        submitted = layout.submission_folder(row.student, row.assignment)
        try:
            release_feedback(service.exchange, folder, row.student,
                             [notebook.stem for notebook in submitted.glob("*.ipynb")])
        except (OSError, Refused) as error:
            log.warning("could not release feedback of %s: %s", row.entry, error)
            continue  # stays graded: tried again on the next pass
        queue.set(row.entry, RELEASED, released_at=service.now())
        log.info("released feedback of %s", row.entry)


def recover(service: Service, queue: Queue) -> None:
    """After a crash: stop the run the last service started, then settle what it left."""
    stop_previous_run(service.pgid_file)
    for row in queue.rows(GRADING):
        if recorded(service, row.student, row.assignment, row.timestamp):
            queue.set(row.entry, GRADED, detail=row.detail)
            log.info("%s was graded before the restart", row.entry)
        else:
            queue.set(row.entry, QUEUED, detail=row.detail)
            log.info("%s was not graded before the restart: queued again", row.entry)


def stop_previous_run(pgid_file: Path) -> None:
    """Kill the process group a previous service's grading run left, and wait for it."""
    if not pgid_file.is_file():
        return
    pgid = int(pgid_file.read_text())
    members = [process for process in psutil.process_iter()
               if _pgid(process) == pgid]
    for process in members:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(members, timeout=30)
    pgid_file.unlink()


def _pgid(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None


def lock(config: CourseConfig):
    """Hold the course's service lock for this process's life; refuse if another holds it."""
    path = config.layout.root / ".serve.lock"
    handle = open(path, "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another service already serves {config.layout.root} "
                         f"(it holds {path})") from None
    return handle


def status(queue: Queue, assignments: Iterable[str]) -> str:
    """The queue as a table: what the instructor reads with ``--status``."""
    lines = [f"{'student':<16} {'state':<10} {'received (UTC)':<19}  entry / detail"]
    for assignment in assignments:
        for row in queue.rows(assignment=assignment):
            lines.append(f"{row.student:<16} {row.state:<10} {row.received_at:%Y-%m-%d %H:%M:%S}  "
                         f"{row.entry}" + (f"\n{'':<48}{row.detail}" if row.detail else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader.serve", description="Grade each submission as it arrives in "
        "the exchange and release its feedback to the student who submitted it.")
    parser.add_argument("assignments", nargs="+", help="for example week1_sequential")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    parser.add_argument("--batch", type=int, default=Service.batch,
                        help="the most submissions one grading run takes (default %(default)s): "
                             "the first to arrive are graded first, and their feedback released "
                             "before the next run")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="grade on a Dask cluster")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between looks at inbound")
    parser.add_argument("--once", action="store_true", help="one pass, then stop")
    parser.add_argument("--status", action="store_true", help="print the queue and stop")
    parser.add_argument("--grade-options", default="",
                        help="options for python -m grader, for example '--timeout 600'")
    options = parser.parse_args(argv)
    config = CourseConfig.load(options.root)
    queue = Queue(config.db_url)
    if options.status:
        print(status(queue, options.assignments))
        return 0
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    service = Service(config, tuple(options.assignments), options.jobs, options.batch,
                      tuple(options.grade_options.split()), options.scheduler)
    held = lock(config)  # noqa: F841 -- held until the process ends
    recover(service, queue)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        serve_once(service, queue)
        if options.once:
            break
        time.sleep(options.poll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
