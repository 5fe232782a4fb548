"""Late submissions: a due date per assignment and points off per day late.

Both are set in ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "grader.late.LatePolicy"
    c.LatePolicy.due_dates = {"week1_sequential": "2026-10-09 17:00:00 Europe/London"}
    c.LatePolicy.points_per_day = 2

``python -m grader`` writes each assignment's due date into the gradebook before it records
(nbgrader keeps due dates there, and the formgrader shows them). nbgrader then compares the
submission's ``timestamp.txt`` (written by ``nbgrader submit`` and kept by ``collect``) with the
due date, plus any extension the student was given, and asks `LatePolicy` for the penalty of
each graded notebook.
"""

from __future__ import annotations

import math
from datetime import datetime

from dateutil import tz
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.utils import parse_utc
from traitlets import Dict, Float, Unicode

SECONDS_PER_DAY = 24 * 3600


class LatePolicy(LateSubmissionPlugin):
    """Take ``points_per_day`` off a notebook's score for every day, or part of a day, late;
    never more than the score."""

    due_dates = Dict(value_trait=Unicode(), key_trait=Unicode(), help=(
        "Due date of each assignment, for example {'week1_sequential': '2026-10-09 17:00:00 "
        "Europe/London'}; a time with no zone is UTC. An assignment not listed has none.")
    ).tag(config=True)
    points_per_day = Float(0.0, min=0.0, help="Points off per started day late.").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float) -> float:
        """The points to take off ``score`` for a notebook ``total_seconds_late`` late.

        Parameters
        ----------
        student_id : str
            The student (the same policy applies to everyone).
        score : float
            The notebook's score before the penalty.
        total_seconds_late : float
            Seconds past the due date, extensions included; 0 when on time.
        """
        days_late = math.ceil(total_seconds_late / SECONDS_PER_DAY)
        return min(score, days_late * self.points_per_day)


def parse_due_date(assignment: str, text: str) -> datetime:
    """The due date ``text`` as naive UTC, as nbgrader stores it; a clear error if unreadable.

    Parameters
    ----------
    assignment : str
        The assignment it belongs to, for the error message.
    text : str
        A date and time, optionally with a zone name or offset after a space.
    """
    expected = (f"LatePolicy.due_dates[{assignment!r}] should be a date and time such as "
                f"'2026-10-09 17:00:00 Europe/London', got {text!r}")
    parts = text.split(" ")
    if len(parts) == 3 and not parts[2].lstrip("+-").isdigit() and tz.gettz(parts[2]) is None:
        raise ValueError(f"{expected}: no time zone is called {parts[2]!r}")
    try:
        return parse_utc(text)
    except (ValueError, OverflowError, TypeError) as error:
        raise ValueError(expected) from error
