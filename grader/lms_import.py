"""Submissions in from a learning platform: ``python -m grader.lms_import canvas|moodle ARCHIVE
--assignment A --roster R`` (``make import PLATFORM=canvas ZIP=submissions.zip ...``).

Unpacks the platform's own "download all submissions" archive into
``submitted/<student_id>/<assignment>/<notebook>.ipynb`` through the roster ``make export``
reads (`grader.export.read_roster`). The archives' layouts (see the README for the sources):

- **Canvas** (``app/models/content_zipper.rb``): one flat folder; each uploaded file is
  ``<name>[_late]_<user id>_<file id>_<file name>``, the name being the student's sortable name
  lowercased without punctuation and ``late`` marking a submission after the due date. Only
  the latest submission's files are in it; a file uploaded again under the same name is
  renamed ``<stem>-1.ipynb``. The roster's ``platform_id`` is the Canvas user id.
- **Moodle** (``mod/assign/classes/downloader.php``): a folder per student and plugin,
  ``<Full name>_<participant id>_assignsubmission_file/<file name>`` (before Moodle 4.1 the
  folder ended in ``_``), or, with "download submissions in folders" off, flat files
  ``<Full name>_<participant id>_assignsubmission_file_<file name>``. The participant id is
  the number in "Participant 1234567" of Moodle's grading worksheet, not the user's ID
  number: the roster names it in a ``participant_id`` column, or ``--worksheet`` (the grading
  worksheet CSV) matches participants to the roster by e-mail.

Neither archive records when a file was submitted (their entries carry the download time).
Canvas marks late files in the name, which is reported; Moodle's grading worksheet holds each
"Last modified (submission)" time, which ``--worksheet`` writes to ``timestamp.txt`` so that
late penalties apply.

Each platform's file-name pattern is an nbgrader ``FileNameCollectorPlugin`` (what
``nbgrader zip_collect`` parses names with). The archive is not unpacked with ``zip_collect``,
whose extractor writes every entry, ``../`` included, and which clears a student's folder
before copying: here the whole archive is checked (readable, within `MAX_EXPANDED_BYTES`) before anything is
written, entries are read into memory and only the expected notebook is written, under its
expected name. A notebook that replaces a different one moves the old one to
``submitted-backups/<time>/`` first; importing the same archive again changes nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import stat
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from dateutil import parser as date_parser
from dateutil import tz
from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.utils import parse_utc
from traitlets import Unicode

from grader.export import Entry, RosterError, read_roster
from grader.layout import CourseLayout
from grader.points import cell_points
from grader.submissions import MAX_FILE_BYTES, is_student_id, parse_notebook

MAX_EXPANDED_BYTES = 2 * 2**30  # a class of 100 at the 50 MiB notebook limit, and twice over
MAX_ENTRIES = 20_000


class ArchiveError(Exception):
    """The archive cannot be imported; nothing was written."""


class CanvasCollector(FileNameCollectorPlugin):
    """Canvas's "Download Submissions": ``<name>[_late]_<user id>_<file id>_<file name>``."""

    named_regexp = Unicode(
        r"^(?:(?P<name>[^/]*?)_)??(?P<late>late_)?(?P<platform_id>\d+)_(?P<order>\d+)_(?P<file_id>[^/]+)$"
    ).tag(config=True)


class MoodleCollector(FileNameCollectorPlugin):
    """Moodle's "Download all submissions", in folders or flat."""

    named_regexp = Unicode(
        r"^(?P<name>[^/]*)_(?P<platform_id>\d+)_assignsubmission_file(?:_?/(?P<path>.*/)?|_)(?P<file_id>[^/]+)$"
    ).tag(config=True)


COLLECTORS = {"canvas": CanvasCollector, "moodle": MoodleCollector}


@dataclass(frozen=True)
class Candidate:
    """One notebook in the archive that belongs to a student on the roster."""

    student_id: str
    member: str
    file_name: str  # as the student named it
    data: bytes
    order: tuple  # larger is newer: the submission time if known, then the platform's order
    late: bool = False


@dataclass
class Report:
    """What an import did, and everything it did not import, with the reason."""

    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return ([f"imported: {s}" for s in self.imported] + [f"unchanged: {s}" for s in self.unchanged]
                + [f"note: {s}" for s in self.notes] + [f"skipped: {s}" for s in self.problems])


def check_archive(path: Path, max_expanded: int = MAX_EXPANDED_BYTES) -> zipfile.ZipFile:
    """The archive, opened, once it is known to be whole and small enough; else `ArchiveError`."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ArchiveError(f"{path} is not a readable zip archive ({error}); nothing was imported") from None
    members = archive.infolist()
    expanded = sum(info.file_size for info in members)
    if len(members) > MAX_ENTRIES or expanded > max_expanded:
        archive.close()
        raise ArchiveError(f"{path} would expand to {expanded / 2**20:.0f} MiB in {len(members)} "
                           f"entries, over the limit of {max_expanded / 2**20:.0f} MiB and "
                           f"{MAX_ENTRIES} entries; nothing was extracted")
    try:
        broken = archive.testzip()  # reads every entry: a truncated or corrupt one fails here
    except (OSError, zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        broken = f"? ({error})"
    if broken is not None:
        archive.close()
        raise ArchiveError(f"{path} is corrupt or truncated (entry {broken} cannot be read); "
                           "download it again; nothing was imported")
    return archive


def unsafe(info: zipfile.ZipInfo) -> str:
    """Why an entry must not be used, or ``""``."""
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in parts:
        return "a path that leaves the archive (..)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    return ""


def read_worksheet(path: Path, zone: str) -> dict[str, tuple[str, datetime | None]]:
    """Moodle's grading worksheet: participant id -> (e-mail, submission time as naive UTC)."""
    where = tz.gettz(zone)
    if where is None:
        raise ArchiveError(f"no time zone is called {zone!r} (for example Europe/London)")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        needed = {"Identifier", "Email address", "Last modified (submission)"}
        if not needed <= set(reader.fieldnames or []):
            raise ArchiveError(f"{path}: Moodle's grading worksheet has the columns "
                               f"{', '.join(sorted(needed))}; this file has {', '.join(reader.fieldnames or [])}")
        rows = {}
        for row in reader:
            number = re.sub(r"\D", "", row["Identifier"])
            when = row["Last modified (submission)"].strip()
            try:
                moment = date_parser.parse(when) if when and when != "-" else None
            except (ValueError, OverflowError):
                raise ArchiveError(f"{path}: cannot read the submission time {when!r} of {row['Identifier']}") from None
            if moment is not None:
                moment = (moment if moment.tzinfo else moment.replace(tzinfo=where)).astimezone(timezone.utc)
            rows[number] = (row["Email address"].strip().lower(), moment and moment.replace(tzinfo=None))
    return rows


def _platform_ids(platform: str, roster: list[Entry], roster_path: Path,
                  worksheet: dict[str, tuple[str, datetime | None]]) -> dict[str, str]:
    """The archive's id of each student -> their student_id."""
    if platform == "canvas":
        return {entry.platform_id: entry.student_id for entry in roster}
    by_number = {entry.participant_id: entry.student_id for entry in roster if entry.participant_id}
    by_email = {entry.email.lower(): entry.student_id for entry in roster if entry.email}
    by_number.update({number: by_email[email] for number, (email, _) in worksheet.items()
                      if email in by_email and number not in by_number})
    if not by_number:
        raise RosterError(f"{roster_path}: a Moodle archive names students by participant id; give "
                          "the roster a participant_id column, or pass Moodle's grading worksheet "
                          "(--worksheet) and an email column")
    return by_number


def collect(archive: zipfile.ZipFile, platform: str, ids: dict[str, str],
            times: dict[str, datetime | None], report: Report) -> dict[str, list[Candidate]]:
    """Each roster student's notebooks in the archive; everything else goes to the report."""
    collector = COLLECTORS[platform]()
    found: dict[str, list[Candidate]] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        why = unsafe(info)
        if why:
            report.problems.append(f"{info.filename!r}: {why}; refused")
            continue
        match = re.match(collector.named_regexp, info.filename)
        if not match:
            report.problems.append(f"{info.filename!r}: not named as {platform.capitalize()} names "
                                   "submissions; not imported")
            continue
        number = match["platform_id"]
        if number not in ids:
            report.problems.append(f"{info.filename!r}: {platform} id {number} is not on the roster; not imported")
            continue
        if not match["file_id"].lower().endswith(".ipynb"):
            report.problems.append(f"{info.filename!r} ({ids[number]}): not a notebook; not imported")
            continue
        if info.file_size > MAX_FILE_BYTES:
            report.problems.append(f"{info.filename!r} ({ids[number]}): {info.file_size / 2**20:.0f} MiB, "
                                   f"over the {MAX_FILE_BYTES / 2**20:.0f} MiB the grader reads; not imported")
            continue
        data = archive.read(info)
        problem = parse_notebook(data)[1]
        if problem:
            report.problems.append(f"{info.filename!r} ({ids[number]}): {problem}; not imported")
            continue
        order = (times.get(number) or datetime.min, int(match.groupdict().get("order") or 0),
                 info.date_time, info.filename)
        found.setdefault(ids[number], []).append(
            Candidate(ids[number], info.filename, match["file_id"], data, order,
                      bool(match.groupdict().get("late"))))
    return found


def place(candidates: list[Candidate], destination: Path, timestamp: datetime | None,
          backups: Path, report: Report) -> None:
    """Write the newest of a student's notebooks to ``destination``, keeping what was there."""
    newest = max(candidates, key=lambda candidate: candidate.order)
    student = newest.student_id
    if len(candidates) > 1:
        others = ", ".join(repr(c.member) for c in candidates if c is not newest)
        report.notes.append(f"{student}: {len(candidates)} notebooks; kept the newest, "
                            f"{newest.member!r}, not {others}")
    if newest.file_name != destination.name:
        report.notes.append(f"{student}: {newest.member!r} imported as {destination.name}")
    if newest.late:
        report.notes.append(f"{student}: the platform marks this submission late")
    stamp = destination.parent / "timestamp.txt"
    if destination.exists():
        if destination.read_bytes() == newest.data:
            report.unchanged.append(student)
            return
        try:
            old_time = parse_utc(stamp.read_text().strip()) if stamp.is_file() else None
        except (ValueError, OverflowError):
            old_time = None
        if timestamp and old_time and old_time > timestamp:
            report.notes.append(f"{student}: submitted/ holds a newer submission ({old_time}); kept it")
            return
        backup = backups / student / destination.parent.name
        backup.mkdir(parents=True, exist_ok=True)
        for old in (destination, stamp):
            if old.exists():
                old.replace(backup / old.name)
        report.notes.append(f"{student}: the earlier submission moved to {backup}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".importing")
    partial.write_bytes(newest.data)
    partial.replace(destination)
    if timestamp is not None:
        stamp.write_text(f"{timestamp:%Y-%m-%d %H:%M:%S.%f} UTC")
    report.imported.append(student)


def graded_notebook(layout: CourseLayout, assignment: str) -> str:
    """The one released notebook of ``assignment`` that carries points."""
    graded = [path.name for path in sorted(layout.release_folder(assignment).glob("*.ipynb"))
              if any(cell_points(json.loads(path.read_text())).values())]
    if len(graded) != 1:
        raise ArchiveError(f"{layout.release}/{assignment} should hold one graded notebook; it holds "
                           f"{', '.join(graded) or 'none'} (is {assignment!r} an assignment?)")
    return graded[0]


def import_archive(root: Path, platform: str, archive_path: Path, assignment: str,
                   roster_path: Path, worksheet_path: Path | None = None, zone: str = "UTC",
                   max_expanded: int = MAX_EXPANDED_BYTES) -> Report:
    """Import ``archive_path`` into ``root/submitted``; what was imported and what was not."""
    if not is_student_id(assignment):
        raise ArchiveError(f"{assignment!r} is not an assignment name (for example week1_sequential)")
    layout = CourseLayout.at(root)
    notebook = graded_notebook(layout, assignment)
    roster = read_roster(roster_path)
    unusable = [entry.student_id for entry in roster if not is_student_id(entry.student_id)]
    if unusable:
        raise RosterError(f"{roster_path}: student_id must be a folder name of letters, digits and "
                          f"._@+- (at most 64 characters); these are not: {', '.join(map(repr, unusable))}")
    worksheet = read_worksheet(worksheet_path, zone) if worksheet_path else {}
    ids = _platform_ids(platform, roster, roster_path, worksheet)
    times = {number: moment for number, (_, moment) in worksheet.items()}
    report = Report()
    with check_archive(archive_path, max_expanded) as archive:
        found = collect(archive, platform, ids, times, report)
    backups = root / layout.submitted_backups / datetime.now().strftime("%Y%m%d-%H%M%S")
    number_of = {student: number for number, student in ids.items()}
    for student, candidates in sorted(found.items()):
        place(candidates, layout.submission_folder(student, assignment) / notebook,
              times.get(number_of[student]), backups, report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.lms_import",
                                     description="Import a learning platform's submissions archive.")
    parser.add_argument("platform", choices=sorted(COLLECTORS))
    parser.add_argument("archive", type=Path, help="the platform's 'download all submissions' zip")
    parser.add_argument("--assignment", required=True, help="for example week1_sequential")
    parser.add_argument("--roster", type=Path, required=True, help="the roster make export reads")
    parser.add_argument("--worksheet", type=Path, help="Moodle: the grading worksheet CSV (times, e-mails)")
    parser.add_argument("--timezone", default="UTC", help="the worksheet's time zone (Moodle's profile setting)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    options = parser.parse_args(argv)
    try:
        report = import_archive(options.root.resolve(), options.platform, options.archive,
                                options.assignment, options.roster, options.worksheet, options.timezone)
    except (ArchiveError, RosterError, OSError) as error:
        print(f"import stopped: {error}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    print(f"{len(report.imported)} imported, {len(report.unchanged)} unchanged, "
          f"{len(report.problems)} skipped: see the lines above")
    return 0


if __name__ == "__main__":
    sys.exit(main())
