"""What grading gave one student, as one frozen value built by one pure function.

`outcome_of` merges what was read (`grader.submissions.Submission`), what the sandbox
returned (`grader.grade_one.Graded`) and what went wrong on the way; `Line` adds what
recording gave, for the summary. Nothing here reads or writes a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import nbformat

from grader.grade_one import Graded
from grader.submissions import Submission

# Errors GuardedExecute writes into a notebook when it had to step in.
INCIDENTS = ("KernelDied", "CellTimeoutError", "GraderError")


def join_reasons(*reasons: str) -> str:
    """``"; "``-joined, each reason once, in order, empty ones left out."""
    parts = [part for reason in reasons for part in reason.split("; ")]
    return "; ".join(dict.fromkeys(filter(None, parts)))


@dataclass(frozen=True)
class Outcome:
    """One student's submission after grading, before recording.

    ``submission`` is None when nothing could be read (then nothing is recorded);
    ``executed`` holds the notebooks that ran, as JSON text; ``problems`` says, for each
    graded notebook that did not run, why (what recording shows in its cells).
    """

    student: str
    submission: Submission | None = None
    executed: Mapping[str, str] = field(default_factory=dict)
    problems: Mapping[str, str] = field(default_factory=dict)
    failure: str = ""
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    peak_memory_bytes: int = 0
    log_path: str = ""  # relative to the course, where nbgrader's output was kept


def outcome_of(student: str, submission: Submission | None = None, graded: Graded | None = None,
               failures: Iterable[str] = (), notes: Iterable[str] = (), log_path: str = "",
               changed_outside: str = "", graded_notebooks: Iterable[str] = ()) -> Outcome:
    """The outcome of ``student``'s submission.

    ``failures`` and ``notes`` are the grader's own (a run that stopped, a worker lost);
    ``changed_outside`` is why an unsandboxed notebook's run cannot count: then none of
    ``graded_notebooks`` counts, whatever it printed.
    """
    problems = dict(submission.problems) if submission else {}
    failure = join_reasons(*problems.values())
    found = [*submission.notes] if submission else []
    executed: dict[str, str] = {}
    seconds = memory = 0
    if graded is not None:
        seconds, memory = graded.seconds, graded.peak_memory_bytes
        failure = join_reasons(failure, graded.failure)
        problems.update(graded.problems)
        executed = dict(graded.executed)
    failure = join_reasons(failure, *failures)
    found += [note for note in notes if note]
    found += incidents(executed.values())
    if changed_outside:
        reason = f"changed files outside its sandbox ({changed_outside})"
        failure = join_reasons(failure, reason)
        executed = {}
        problems.update({name: f"not graded: the notebook {reason}" for name in graded_notebooks})
    return Outcome(student, submission, executed, problems, failure, tuple(found), seconds,
                   memory, log_path)


def incidents(executed: Iterable[str]) -> list[str]:
    """What GuardedExecute had to step in for in the executed notebooks, each once."""
    found = [output.get("evalue") or "a cell ran past the time limit and was interrupted"
             for text in executed
             for cell in nbformat.reads(text, as_version=4).cells
             for output in cell.get("outputs", [])
             if output.get("output_type") == "error" and output.get("ename") in INCIDENTS]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Line:
    """One student's line in the summary: the outcome, and what recording gave."""

    outcome: Outcome
    recording_failure: str = ""
    score: float | None = None
    max_score: float | None = None
    to_grade_by_hand: tuple[str, ...] = ()  # grade ids of written answers

    @property
    def student(self) -> str:
        return self.outcome.student

    @property
    def failure(self) -> str:
        return join_reasons(self.outcome.failure, self.recording_failure)

    @property
    def status(self) -> str:
        status = f"failed: {self.failure}" if self.failure else "graded"
        log = [f"log: {self.outcome.log_path}"] if self.failure and self.outcome.log_path else []
        by_hand = ([f"to grade by hand: {', '.join(self.to_grade_by_hand)}"]
                   if self.to_grade_by_hand else [])
        return "; ".join([status, *self.outcome.notes, *by_hand, *log])
