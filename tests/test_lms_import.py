"""Submissions in from Canvas and Moodle (`make import`): archives built exactly as the two
platforms lay them out (grader/lms_import.py cites the code that writes them), every kind of
bad input, and the round trip import -> grade -> export on a real class."""

from __future__ import annotations

import csv
import io
import shutil
import stat
import subprocess
import sys
import zipfile

import nbformat
import pytest

from testkit import small_class
from testkit.course import ROOT, answered, make_course_copy, read_notebook
from grader.export import RosterError
from grader.lms_import import ArchiveError, import_archive

WEEK = small_class.WEEK
NOTEBOOK = "assignment.ipynb"
# The roster make export reads, with Moodle's participant numbers for those on Moodle.
ROSTER = ("student_id,platform_id,name,email,participant_id\n"
          "ana,5101,Ana Lima,ana@example.edu,\n"
          "ben,5102,Ben Okafor,ben@example.edu,\n"
          "cai,5103,Cai Wen,cai@example.edu,\n"
          "dee,MO-1,Dee Grant,dee@example.edu,880001\n"
          "eli,MO-2,Eli Park,eli@example.edu,880002\n"
          "fay,MO-3,Fay Nagy,fay@example.edu,\n")  # fay is matched through the worksheet's e-mail


def notebook_bytes(text: str = "print(1)") -> bytes:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)])
    return nbformat.writes(notebook).encode()


def write_zip(path, entries: dict[str, bytes], symlinks: dict[str, str] | None = None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def canvas_name(sortable: str, user: str, file_id: int, file_name: str, late: bool = False) -> str:
    """content_zipper.rb: [sortable name, 'LATE' if late, user id] joined by _, stripped of
    non-word characters and lowercased, then _<attachment id>_<display name>."""
    prefix = "".join(ch for ch in "_".join([sortable, *(["LATE"] if late else []), user])
                     if ch.isalnum() or ch == "_").lower()
    return f"{prefix}_{file_id}_{file_name}"


def moodle_name(full_name: str, participant: str, file_name: str, folders: bool = True) -> str:
    """downloader.php: <full name>_<participant id>_assignsubmission_file then /<file> in
    folders (Moodle 4.1+), or _<file> flat."""
    prefix = f"{full_name.replace('_', ' ')}_{participant}_assignsubmission_file"
    return f"{prefix}/{file_name}" if folders else f"{prefix}_{file_name}"


@pytest.fixture
def course(tmp_path):
    """A course folder with its config, the week's release and a roster (no gradebook
    needed to import)."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    (tmp_path / "course" / WEEK).mkdir(parents=True)
    (tmp_path / "course" / WEEK / NOTEBOOK).write_bytes((ROOT / "course" / WEEK / NOTEBOOK).read_bytes())
    (tmp_path / "roster.csv").write_text(ROSTER)
    return tmp_path


def run_import(course, platform, archive, **options):
    return import_archive(course, platform, archive, WEEK, course / "roster.csv", **options)


def submitted(course, student):
    return course / "submitted" / student / WEEK / NOTEBOOK


def test_canvas_archive_lands_under_each_students_id_with_late_reported(course):
    archive = write_zip(course / "canvas.zip", {
        canvas_name("Lima, Ana", "5101", 90001, NOTEBOOK): notebook_bytes("ana = 1"),
        canvas_name("Okafor, Ben", "5102", 90002, NOTEBOOK, late=True): notebook_bytes("ben = 1"),
    })
    report = run_import(course, "canvas", archive)
    assert report.imported == ["ana", "ben"] and report.problems == []
    assert "ana = 1" in submitted(course, "ana").read_text()
    assert "ben: the platform marks this submission late" in report.notes


def test_moodle_archive_in_folders_or_flat_with_worksheet_times(course):
    archive = write_zip(course / "moodle.zip", {
        moodle_name("Dee Grant", "880001", NOTEBOOK): notebook_bytes("dee = 1"),
        moodle_name("Eli Park", "880002", NOTEBOOK, folders=False): notebook_bytes("eli = 1"),
        moodle_name("Fay Nagy", "880003", NOTEBOOK): notebook_bytes("fay = 1"),
        "Fay Nagy_880003_assignsubmission_onlinetext/onlinetext.html": b"<p>hi</p>",
    })
    worksheet = course / "worksheet.csv"
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
        "Last modified (submission),Last modified (grade),Feedback comments\n"
        'Participant 880001,Dee Grant,dee@example.edu,Submitted,,20,Yes,"Tuesday, 1 December 2026, 4:05 PM",-,\n'
        'Participant 880002,Eli Park,eli@example.edu,Submitted,,20,Yes,"Friday, 4 December 2026, 9:30 AM",-,\n'
        'Participant 880003,Fay Nagy,fay@example.edu,Submitted,,20,Yes,-,-,\n')
    report = run_import(course, "moodle", archive, worksheet_path=worksheet, zone="Europe/London")
    assert report.imported == ["dee", "eli", "fay"]
    assert (submitted(course, "dee").parent / "timestamp.txt").read_text() == "2026-12-01 16:05:00.000000 UTC"
    assert (submitted(course, "eli").parent / "timestamp.txt").read_text() == "2026-12-04 09:30:00.000000 UTC"
    assert not (submitted(course, "fay").parent / "timestamp.txt").exists()
    assert report.problems == ["'Fay Nagy_880003_assignsubmission_onlinetext/onlinetext.html': "
                               "not named as Moodle names submissions; not imported"]


def test_entries_that_leave_the_folder_are_refused_and_nothing_is_written_outside(course):
    archive = write_zip(course / "evil.zip", {
        "../" + canvas_name("Lima, Ana", "5101", 1, NOTEBOOK): notebook_bytes(),
        "/tmp/" + canvas_name("Lima, Ana", "5101", 2, NOTEBOOK): notebook_bytes(),
        "sub/../../" + canvas_name("Lima, Ana", "5101", 3, NOTEBOOK): notebook_bytes(),
        canvas_name("Okafor, Ben", "5102", 4, NOTEBOOK): notebook_bytes("ben = 2"),
    }, symlinks={canvas_name("Wen, Cai", "5103", 5, NOTEBOOK): "/etc/passwd"})
    before = set(course.parent.rglob("*"))
    report = run_import(course, "canvas", archive)
    assert report.imported == ["ben"]
    assert sorted(line.split(": ")[-1] for line in report.problems) == [
        "a path that leaves the archive (..); refused", "a path that leaves the archive (..); refused",
        "a symbolic link; refused", "an absolute path; refused"]
    made = sorted(p.relative_to(course).as_posix() for p in set(course.parent.rglob("*")) - before)
    assert made == ["submitted", "submitted/ben", f"submitted/ben/{WEEK}", f"submitted/ben/{WEEK}/{NOTEBOOK}"]


def test_what_is_not_a_notebook_is_reported_and_skipped(course):
    archive = write_zip(course / "canvas.zip", {
        canvas_name("Lima, Ana", "5101", 1, "notes.pdf"): b"%PDF-1.4",
        canvas_name("Okafor, Ben", "5102", 2, NOTEBOOK): b"{not json",
        canvas_name("Wen, Cai", "5103", 3, NOTEBOOK): b'{"cells": "none"}',
    })
    report = run_import(course, "canvas", archive)
    assert report.imported == [] and not (course / "submitted").exists()
    assert "(ana): not a notebook; not imported" in report.problems[0]
    assert "(ben): is not a valid notebook (NotJSONError" in report.problems[1]
    assert "(cai): is not a valid notebook" in report.problems[2]


def test_two_notebooks_from_one_student_keep_the_newest_and_report_both(course):
    older, newer = canvas_name("Lima, Ana", "5101", 700, NOTEBOOK), canvas_name("Lima, Ana", "5101", 701, "assignment-1.ipynb")
    archive = write_zip(course / "canvas.zip", {newer: notebook_bytes("newer"), older: notebook_bytes("older")})
    report = run_import(course, "canvas", archive)
    assert "newer" in submitted(course, "ana").read_text()
    assert report.notes[:2] == [f"ana: 2 notebooks; kept the newest, {newer!r}, not {older!r}",
                                f"ana: {newer!r} imported as {NOTEBOOK}"]


def test_a_student_not_on_the_roster_is_reported_not_imported(course):
    archive = write_zip(course / "canvas.zip", {canvas_name("Stranger, Sam", "9999", 1, NOTEBOOK): notebook_bytes()})
    report = run_import(course, "canvas", archive)
    assert report.imported == [] and "canvas id 9999 is not on the roster; not imported" in report.problems[0]


def test_a_roster_id_or_assignment_that_is_not_a_folder_name_is_refused(course):
    (course / "evil-roster.csv").write_text("student_id,platform_id,name\n../../etc,5101,Eve\n")
    archive = write_zip(course / "canvas.zip", {canvas_name("Eve, Eve", "5101", 1, NOTEBOOK): notebook_bytes()})
    with pytest.raises(RosterError, match="these are not: '../../etc'"):
        import_archive(course, "canvas", archive, WEEK, course / "evil-roster.csv")
    with pytest.raises(ArchiveError, match="is not an assignment name"):
        import_archive(course, "canvas", archive, "../" + WEEK, course / "roster.csv")
    assert not (course / "submitted").exists()


def test_a_notebook_under_another_name_is_imported_under_the_expected_one(course):
    archive = write_zip(course / "canvas.zip", {canvas_name("Lima, Ana", "5101", 1, "Copy of my_work.ipynb"): notebook_bytes("a")})
    report = run_import(course, "canvas", archive)
    assert report.imported == ["ana"] and submitted(course, "ana").exists()
    assert report.notes == [f"ana: {canvas_name('Lima, Ana', '5101', 1, 'Copy of my_work.ipynb')!r} imported as {NOTEBOOK}"]


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "not a zip"])
def test_a_damaged_archive_is_refused_before_anything_is_written(course, damage):
    good = write_zip(course / "good.zip", {canvas_name("Lima, Ana", "5101", 1, NOTEBOOK): notebook_bytes("x" * 5000),
                                           canvas_name("Okafor, Ben", "5102", 2, NOTEBOOK): notebook_bytes()})
    data = good.read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "corrupt":
        start = data.index(b"x" * 40) if b"x" * 40 in data else 60
        data = data[:start] + bytes(b ^ 0xFF for b in data[start:start + 20]) + data[start + 20:]
    else:
        data = b"<html>session expired</html>"
    (course / "damaged.zip").write_bytes(data)
    with pytest.raises(ArchiveError, match="nothing was imported"):
        run_import(course, "canvas", course / "damaged.zip")
    assert not (course / "submitted").exists()


def test_an_archive_that_would_expand_past_the_limit_is_refused_before_extraction(course):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(canvas_name("Lima, Ana", "5101", 1, NOTEBOOK), b"\0" * (64 * 2**20))
    (course / "bomb.zip").write_bytes(bomb.getvalue())
    assert (course / "bomb.zip").stat().st_size < 2**20
    with pytest.raises(ArchiveError, match="would expand to 64 MiB .* nothing was extracted"):
        run_import(course, "canvas", course / "bomb.zip", max_expanded=32 * 2**20)
    assert not (course / "submitted").exists()


def test_importing_twice_changes_nothing_and_a_new_upload_keeps_the_old_one(course):
    archive = write_zip(course / "canvas.zip", {canvas_name("Lima, Ana", "5101", 1, NOTEBOOK): notebook_bytes("first")})
    run_import(course, "canvas", archive)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in course.rglob("*") if p.is_file()}
    again = run_import(course, "canvas", archive)
    assert again.imported == [] and again.unchanged == ["ana"]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in course.rglob("*") if p.is_file()} == before
    newer = write_zip(course / "canvas2.zip", {canvas_name("Lima, Ana", "5101", 2, NOTEBOOK): notebook_bytes("second")})
    report = run_import(course, "canvas", newer)
    assert report.imported == ["ana"] and "second" in submitted(course, "ana").read_text()
    backups = list((course / "submitted-backups").rglob(NOTEBOOK))
    assert len(backups) == 1 and "first" in backups[0].read_text()


def test_an_older_submission_never_replaces_a_newer_one(course):
    folder = submitted(course, "dee").parent
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_bytes(notebook_bytes("resubmitted later"))
    (folder / "timestamp.txt").write_text("2026-12-05 10:00:00.000000 UTC")
    archive = write_zip(course / "moodle.zip", {moodle_name("Dee Grant", "880001", NOTEBOOK): notebook_bytes("older")})
    worksheet = course / "worksheet.csv"
    worksheet.write_text("Identifier,Email address,Last modified (submission)\n"
                         'Participant 880001,dee@example.edu,"Tuesday, 1 December 2026, 4:05 PM"\n')
    report = run_import(course, "moodle", archive, worksheet_path=worksheet)
    assert "resubmitted later" in (folder / NOTEBOOK).read_text() and report.imported == []
    assert "dee: submitted/ holds a newer submission (2026-12-05 10:00:00); kept it" in report.notes


def test_round_trip_import_grade_export_gives_each_platform_id_its_own_grade(tmp_path, bwrap):
    """Three students hand in on Canvas and three on Moodle (one late); graded together."""
    course = make_course_copy(tmp_path / "class", [WEEK])
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f'\nc.LatePolicy.due_dates = {{"{WEEK}": "2026-12-02 12:00:00 UTC"}}\n'
                     "c.LatePolicy.points_per_day = 3\n")
    (course / "roster.csv").write_text(ROSTER)
    solution = read_notebook(ROOT / "solutions" / WEEK / NOTEBOOK)
    first = small_class.first_answer(WEEK)
    made = {name: nbformat.writes(answered(read_notebook(course / "course" / WEEK / NOTEBOOK), solution,
                                           grade_ids)).encode()
            for name, grade_ids in (("solution", None), ("partial", [first]), ("blank", []))}
    write_zip(tmp_path / "canvas.zip", {
        canvas_name("Lima, Ana", "5101", 11, NOTEBOOK): made["solution"],
        canvas_name("Okafor, Ben", "5102", 12, NOTEBOOK): made["partial"],
        canvas_name("Wen, Cai", "5103", 13, NOTEBOOK): made["blank"]})
    write_zip(tmp_path / "moodle.zip", {
        moodle_name("Dee Grant", "880001", NOTEBOOK): made["partial"],
        moodle_name("Eli Park", "880002", NOTEBOOK): made["solution"],
        moodle_name("Fay Nagy", "880003", NOTEBOOK): made["solution"]})
    (tmp_path / "worksheet.csv").write_text(
        "Identifier,Email address,Last modified (submission)\n"
        'Participant 880001,dee@example.edu,"Tuesday, 1 December 2026, 4:05 PM"\n'
        'Participant 880002,eli@example.edu,"Friday, 4 December 2026, 9:30 AM"\n'
        'Participant 880003,fay@example.edu,"Wednesday, 2 December 2026, 11:00 AM"\n')
    env = small_class.grader_env()
    for platform, extra in (("canvas", []), ("moodle", ["--worksheet", str(tmp_path / "worksheet.csv")])):
        result = subprocess_run(["-m", "grader.lms_import", platform, str(tmp_path / f"{platform}.zip"),
                                 "--assignment", WEEK, "--roster", str(course / "roster.csv"),
                                 "--root", str(course), *extra], env)
        assert result.returncode == 0 and "3 imported, 0 unchanged, 0 skipped" in result.stdout, result.stderr
    graded = small_class.grade(course)
    assert graded.returncode == 0, graded.stderr[-3000:]
    report = (course / "reports" / WEEK / "report.html").read_text()
    assert "<h2>Similarity</h2>" in report and "never changes a grade" in report
    # Copies of the reference solution (and of the starter code) are boilerplate: no pair.
    assert "No pair of answers is unusually alike" in report
    totals = {student: sum(grades.values()) for student, grades in small_class.scores(course).items()}
    assert totals["ana"] == totals["eli"] == totals["fay"] == small_class.POINTS
    assert totals["cai"] == 0 and 0 < totals["ben"] == totals["dee"] < small_class.POINTS
    expected = {"ana": totals["ana"], "ben": totals["ben"], "cai": 0,
                "dee": totals["dee"], "eli": totals["eli"] - 3 * 2, "fay": totals["fay"]}  # eli: 2 days late
    for platform, id_column in (("canvas", "ID"), ("moodle", "ID number")):
        output = tmp_path / f"grades-{platform}.csv"
        result = subprocess_run(["-m", "grader.export", platform, "--roster", str(course / "roster.csv"),
                                 "--output", str(output), "--root", str(course)], env)
        assert result.returncode == 0, result.stderr
        rows = [row for row in csv.DictReader(open(output, newline="")) if row[id_column].strip()]
        by_id = {row[id_column]: row[WEEK] for row in rows}
        ids = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
        assert by_id == {ids[student]: f"{score:g}" for student, score in expected.items()}


def subprocess_run(args, env):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600, env=env)
