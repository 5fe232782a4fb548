"""Time feedback on submit (`grader.serve`) with real users: ``make bench-service`` (as root).

A week 1 class of Unix users (`testkit.hub`) submits into a secured exchange while the feedback
service runs as the course account (``--jobs 2``, ``--batch`` as given, the course's own limits):

1. idle: one submission at a time, ``--idle`` times (default 5): seconds from the submission
   landing in inbound to its feedback being released; median and worst;
2. burst: ``--burst`` submissions (default 100; the synthetic class of bench.py: solutions,
   partial, blank, hostile) arriving evenly within 60 s: minutes from the first arrival to the
   last feedback released, median and 95th-percentile latency.

Each figure is also given as a multiple of the floor (kernel start + ``import tensorflow``)
measured in the same run. Nothing is printed unless every submission scored as it was
written. Targets (issue 27): idle under 30 s, the burst under 15 minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # testkit, beside benchmarks/
from bench import HOSTILE, KINDS, PARTIAL, execute_in_child  # noqa: E402
from testkit import small_class  # noqa: E402
from testkit.course import grade_id, points  # noqa: E402
from testkit.hub import HubClass, why_no_users  # noqa: E402

from grader import serve  # noqa: E402

WEEK = "week1_sequential"
SOLUTION = None  # every answer


def submission(hub: HubClass, index: int):
    """The notebook of the class's ``index``th student and the score it must get."""
    kind = KINDS[index % len(KINDS)]
    answers = {"solution": SOLUTION, "partial": list(PARTIAL)}.get(kind, [])
    notebook = hub.answer(answers)
    if kind == "hostile":
        attack = list(HOSTILE.values())[index // len(KINDS) % len(HOSTILE)]
        next(cell for cell in notebook.cells
             if grade_id(cell) == "w1_count_dense_parameters").source = attack
    exercise = points(WEEK)
    want = (sum(exercise.values()) if kind == "solution" else
            sum(exercise[f"{name}_tests"] for name in PARTIAL) if kind == "partial" else 0.0)
    return notebook, want


def wait_released(hub: HubClass, entries: dict[str, datetime], timeout: float) -> dict[str, float]:
    """Seconds from each entry's arrival to its feedback's release, waiting for all."""
    deadline = time.monotonic() + timeout
    while True:
        rows = {row.entry: row for rows in hub.queue().values() for row in rows}
        done = {entry: rows[entry] for entry in entries
                if entry in rows and rows[entry].state in (serve.RELEASED, serve.REFUSED, serve.FAILED)}
        if len(done) == len(entries):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(done)} of {len(entries)} released in {timeout:.0f} s")
        time.sleep(1)
    bad = {entry: (row.state, row.detail) for entry, row in done.items() if row.state != serve.RELEASED}
    if bad:
        raise SystemExit(f"not released: {bad}")
    return {entry: (row.released_at - entries[entry]).total_seconds() for entry, row in done.items()}


def check_scores(hub: HubClass, wants: dict[str, float]) -> None:
    scores = small_class.scores(hub.course, WEEK)
    wrong = {student: (sum(scores.get(student, {}).values()), want) for student, want in wants.items()
             if sum(scores.get(student, {}).values()) != want}
    if wrong:
        raise SystemExit(f"{len(wrong)} submissions did not score as written (got, want): "
                         f"{dict(list(wrong.items())[:8])}: no time is printed")


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=5, help="single submissions on an idle service")
    parser.add_argument("--burst", type=int, default=100, help="submissions in the burst")
    parser.add_argument("--within", type=float, default=60, help="seconds the burst arrives in")
    parser.add_argument("--batch", type=int, default=serve.Service.batch,
                        help="the service's --batch: the most submissions one grading run takes")
    options = parser.parse_args()
    reason = why_no_users()
    if reason:
        raise SystemExit(reason)
    floor = execute_in_child(Path("floor"))["seconds"]
    count = max(options.idle, options.burst)
    hub = HubClass(WEEK, [f"s{index:03d}" for index in range(count)], per_day=10)
    hub.create()
    try:
        notebooks = [submission(hub, index) for index in range(count)]
        with hub.service("--batch", str(options.batch)):
            idle, wants = [], {}
            for index in range(options.idle):  # solutions, one at a time
                notebook, want = submission(hub, 0)
                student = hub.students[index]
                arrival = now()
                entries = {hub.drop(student, notebook): arrival}
                idle += wait_released(hub, entries, 900).values()
                wants[student] = want
            check_scores(hub, wants)
            entries, wants, start = {}, {}, time.monotonic()
            for index in range(options.burst):
                time.sleep(max(0.0, start + index * options.within / options.burst - time.monotonic()))
                notebook, want = notebooks[index]
                arrival = now()
                entries[hub.drop(hub.students[index], notebook)] = arrival
                wants[hub.students[index]] = want
            latency = wait_released(hub, entries, 7200)
            check_scores(hub, wants)
    finally:
        hub.remove()
    first = min(entries.values())
    last = max(entries[entry] + timedelta(seconds=seconds) for entry, seconds in latency.items())
    minutes = (last - first).total_seconds() / 60
    ordered = sorted(latency.values())
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    print(f"floor (kernel start + import tensorflow): {floor:.1f} s; service --jobs 2 --batch {options.batch}")
    print(f"idle, submit to feedback, {options.idle} solutions: median {statistics.median(idle):.1f} s "
          f"({statistics.median(idle) / floor:.1f}x), worst {max(idle):.1f} s "
          f"({max(idle) / floor:.1f}x) (target 30 s)")
    print(f"burst of {options.burst} within {options.within:.0f} s: last feedback after "
          f"{minutes:.1f} min ({minutes * 60 / floor:.0f}x), latency median "
          f"{statistics.median(ordered) / 60:.1f} min, 95th percentile {p95 / 60:.1f} min "
          "(target 15 min)")


if __name__ == "__main__":
    main()
