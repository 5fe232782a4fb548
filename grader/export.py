"""Grades for the learning platform: ``python -m grader.export canvas|moodle --roster R``
(``make export PLATFORM=canvas ROSTER=roster.csv``).

The roster is a CSV file with a header row and one row per student:

- ``student_id``: the student's nbgrader id (their folder under ``submitted/``);
- ``platform_id``: their id on the platform (Canvas: the user ID; Moodle: the ID number);
- ``name``, and optionally ``email``, ``section``, ``sis_user_id``, ``sis_login_id``, and
  ``participant_id`` (Moodle's participant number, which its submission archives use).

Every graded assignment becomes a column holding the score after any late penalty. A student
on the roster with no submission gets an empty cell; a graded student missing from the roster
cannot be matched on the platform and is left out. Both are listed when the file is written,
so nobody is dropped silently.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook

from grader.config import CourseConfig

REQUIRED = ("student_id", "platform_id", "name")


class RosterError(Exception):
    """The roster cannot be used as it is."""


@dataclass(frozen=True)
class Entry:
    """One roster row."""

    student_id: str
    platform_id: str
    name: str
    email: str = ""
    section: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    participant_id: str = ""  # Moodle's "Participant N" number, for grader.lms_import


def read_roster(path: Path) -> list[Entry]:
    """The roster's rows; a clear error for a missing column, an empty id or a duplicate.

    Parameters
    ----------
    path : Path
        A CSV file with the columns ``student_id``, ``platform_id``, ``name`` and optionally
        ``email``, ``section``, ``sis_user_id``, ``sis_login_id``.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:  # spreadsheets add a BOM
        reader = csv.DictReader(handle)
        missing = [column for column in REQUIRED if column not in (reader.fieldnames or [])]
        if missing:
            raise RosterError(f"{path}: the roster needs the columns {', '.join(REQUIRED)}; "
                              f"it has {', '.join(reader.fieldnames or []) or 'none'}")
        fields = Entry.__dataclass_fields__
        entries = [Entry(**{key: (value or "").strip() for key, value in row.items() if key in fields})
                   for row in reader]
    for number, entry in enumerate(entries, start=2):
        if not entry.student_id or not entry.platform_id:
            raise RosterError(f"{path}, line {number}: student_id and platform_id must not be empty")
    for key in ("student_id", "platform_id"):
        seen = [getattr(entry, key) for entry in entries]
        twice = sorted({value for value in seen if seen.count(value) > 1})
        if twice:
            raise RosterError(f"{path}: {key} appears more than once: {', '.join(twice)}")
    return entries


def final_score(submission) -> float:
    """A submission's score after its late penalty, as ``grades.csv`` and the feedback have it."""
    return submission.score - (submission.late_submission_penalty or 0)


@dataclass
class Grades:
    """Scores after late penalties, and each assignment's points."""

    assignments: list[str]
    max_scores: dict[str, float]
    scores: dict[tuple[str, str], float]  # (student, assignment) -> score
    registered: list[str]  # every student in the gradebook, graded or not

    @property
    def students(self) -> set[str]:
        return {student for student, _ in self.scores}


def read_grades(config: CourseConfig, assignments: list[str] | None = None) -> Grades:
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        known = sorted(assignment.name for assignment in gradebook.assignments)
        unknown = sorted(set(assignments or []) - set(known))
        if unknown:
            raise RosterError(f"no assignment {', '.join(unknown)} in the gradebook "
                              f"(it has {', '.join(known) or 'none'})")
        names = assignments or [name for name in known if gradebook.assignment_submissions(name)]
        max_scores = {name: gradebook.find_assignment(name).max_score for name in names}
        scores = {(submission.student.id, name): final_score(submission)
                  for name in names for submission in gradebook.assignment_submissions(name)}
        registered = sorted(student.id for student in gradebook.students)
    return Grades(names, max_scores, scores, registered)


def canvas_rows(roster: list[Entry], grades: Grades) -> list[list[str]]:
    """Canvas's gradebook import: its five student columns, then one per assignment, and a
    "Points Possible" row."""
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *grades.assignments]
    points = ["    Points Possible", "", "", "", "", *(f"{grades.max_scores[a]:g}" for a in grades.assignments)]
    rows = [[entry.name, entry.platform_id, entry.sis_user_id, entry.sis_login_id, entry.section,
             *_scores(entry, grades)] for entry in roster]
    return [header, points, *rows]


def moodle_rows(roster: list[Entry], grades: Grades) -> list[list[str]]:
    """Moodle's grade import (CSV): match on "ID number" or "Email address" when importing."""
    header = ["ID number", "Email address", "Full name", *grades.assignments]
    return [header, *([entry.platform_id, entry.email, entry.name, *_scores(entry, grades)]
                      for entry in roster)]


FORMATS = {"canvas": canvas_rows, "moodle": moodle_rows}


def _scores(entry: Entry, grades: Grades) -> list[str]:
    return [f"{grades.scores[entry.student_id, a]:g}" if (entry.student_id, a) in grades.scores
            else "" for a in grades.assignments]


def mismatches(roster: list[Entry], grades: Grades) -> list[str]:
    """Who cannot be exported as a grade: graded but not on the roster, or without a submission."""
    on_roster = {entry.student_id for entry in roster}
    lines = []
    not_listed = sorted(grades.students - on_roster)
    if not_listed:
        lines.append(f"graded but not on the roster, so not exported: {', '.join(not_listed)}")
    for assignment in grades.assignments:
        absent = sorted(entry.student_id for entry in roster
                        if (entry.student_id, assignment) not in grades.scores)
        if absent:
            lines.append(f"no submission of {assignment} (empty cell): {', '.join(absent)}")
    return lines


def export(config: CourseConfig, platform: str, roster_path: Path, output: Path,
           assignments: list[str] | None = None) -> list[str]:
    """Write the platform's CSV to ``output``; return who could not be exported, and why.

    Parameters
    ----------
    config : CourseConfig
        The course whose gradebook is read.
    platform : str
        ``"canvas"`` or ``"moodle"``.
    roster_path : Path
        The roster CSV (see the module's documentation).
    output : Path
        The CSV file to write.
    assignments : list of str, optional
        The assignments to export; by default every one with submissions.
    """
    roster = read_roster(roster_path)
    grades = read_grades(config, assignments)
    with open(output, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(FORMATS[platform](roster, grades))
    return mismatches(roster, grades)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.export",
                                     description="Export grades for Canvas or Moodle.")
    parser.add_argument("platform", choices=sorted(FORMATS))
    parser.add_argument("--roster", type=Path, required=True, help="CSV: student_id, platform_id, name, ...")
    parser.add_argument("--assignment", action="append", help="export only this one (repeatable)")
    parser.add_argument("--output", type=Path, help="default: grades-<platform>.csv in the course")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    options = parser.parse_args(argv)
    config = CourseConfig.load(options.root)
    output = options.output or config.root / f"grades-{options.platform}.csv"
    try:
        problems = export(config, options.platform, options.roster, output, options.assignment)
    except (RosterError, OSError) as error:
        print(f"export stopped: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output}")
    for problem in problems:
        print(f"note: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
