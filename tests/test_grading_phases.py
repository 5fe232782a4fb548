"""Each phase of `python -m grader` on its own (grader/run.py): the pure outcome, the plan,
reading and undoing in dispatch, recording and the summary. No student code runs here:
recording replays notebooks executed beforehand (the solution as committed)."""

from __future__ import annotations

import csv
import subprocess
import sys

import nbformat
import pytest

from grader import publish
from grader.dispatch import read, undo_changes
from grader.grade_one import Graded, remove_folder
from grader.integrity import CourseSnapshot
from grader.outcome import Line, Outcome, outcome_of
from grader.plan import GradingError, prepare
from grader.record import record
from grader.sandbox import Limits
from grader.submissions import Submission
from testkit.course import LAYOUT, answered, assignment_points, make_course_copy, read_notebook

WEEK = "week5_weights"


def _executed(*errors: str) -> str:
    cells = [nbformat.v4.new_code_cell("x = 1", outputs=[
        nbformat.v4.new_output("error", ename=name, evalue=f"{name} happened", traceback=[])])
        for name in errors]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def test_an_outcome_merges_what_was_read_graded_and_noted():
    submission = Submission("ana", problems={"tutorial": "tutorial.ipynb is missing"},
                            notes=["ignored notes.txt"])
    graded = Graded("ana", {"assignment": _executed("KernelDied", "ValueError", "KernelDied")},
                    seconds=12.5, peak_memory_bytes=2**30, failure="ran past the 600 s limit",
                    problems={"assignment": "ran past the 600 s limit"})
    outcome = outcome_of("ana", submission, graded, failures=["ran past the 600 s limit"],
                         notes=["graded again after its worker was lost"], log_path="logs/ana.log")
    assert outcome.failure == "tutorial.ipynb is missing; ran past the 600 s limit"
    assert outcome.notes == ("ignored notes.txt", "graded again after its worker was lost",
                             "KernelDied happened")  # each incident once, ValueError is no incident
    assert outcome.problems == {"tutorial": "tutorial.ipynb is missing",
                                "assignment": "ran past the 600 s limit"}
    assert (outcome.seconds, outcome.peak_memory_bytes, outcome.log_path) == (12.5, 2**30, "logs/ana.log")
    with pytest.raises(AttributeError):
        outcome.failure = ""  # frozen


def test_a_change_outside_the_sandbox_voids_every_graded_notebook():
    graded = Graded("ben", {"assignment": _executed()}, seconds=3.0)
    outcome = outcome_of("ben", Submission("ben"), graded, changed_outside="/course/gradebook.db",
                         graded_notebooks=["assignment"])
    assert outcome.executed == {}
    assert outcome.failure == "changed files outside its sandbox (/course/gradebook.db)"
    assert outcome.problems == {"assignment": "not graded: the notebook changed files outside "
                                              "its sandbox (/course/gradebook.db)"}


def test_a_summary_line_shows_the_log_only_on_failure_and_answers_to_grade_by_hand():
    graded = Line(outcome_of("cai", Submission("cai", notes=["ignored x.txt"]), log_path="l/cai.log"),
                  score=7, max_score=10, to_grade_by_hand=("w6_reflection",))
    assert graded.status == "graded; ignored x.txt; to grade by hand: w6_reflection"
    failed = Line(Outcome("dee", failure="used more than 4.0 GiB of memory", log_path="l/dee.log"),
                  recording_failure="nbgrader could not record it (see its log)")
    assert failed.status == ("failed: used more than 4.0 GiB of memory; nbgrader could not "
                             "record it (see its log); log: l/dee.log")


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    course = make_course_copy(tmp_path_factory.mktemp("phases"), [WEEK])
    made = prepare(course, WEEK, Limits(seconds=60))
    yield made
    remove_folder(made.work)


def test_the_plan_knows_the_graded_notebook_the_release_and_the_sandbox_course(plan):
    assert plan.graded == ("assignment",)
    released = sorted(path.name for path in LAYOUT.release_folder(WEEK).iterdir())
    assert list(plan.released) == released and len(released) > 1  # tutorials come along
    assert {"nbgrader_config.py", "gradebook.db", f"solutions/{WEEK}/assignment.ipynb",
            f"course/{WEEK}/assignment.ipynb"} <= set(plan.template)
    assert plan.backup.is_file() and plan.backup.parent == plan.layout.root / "gradebook-backups"
    assert plan.recording_log.read_text().startswith(f"$ nbgrader generate_assignment {WEEK}")
    job = plan.job(Submission("ana", notebooks={"assignment": read_notebook(
        plan.layout.release_notebook(WEEK))}, timestamp="2026-01-01 10:00:00 UTC"))
    assert (job.student, job.assignment, job.timestamp) == ("ana", WEEK, "2026-01-01 10:00:00 UTC")
    assert job.log_path == plan.layout.root / "grading-logs" / WEEK / "ana.log"


def test_a_plan_is_refused_for_an_unknown_assignment_or_an_unsandboxed_cluster(plan):
    with pytest.raises(GradingError, match="no assignment 'week9' in"):
        prepare(plan.layout.root, "week9", Limits())
    with pytest.raises(GradingError, match="cannot be combined with --scheduler"):
        prepare(plan.layout.root, WEEK, Limits(), isolation="none", scheduler="tcp://x:8786")


def test_reading_refuses_bad_ids_and_reports_what_cannot_be_read(plan, tmp_path):
    assert read(plan, tmp_path / "no one" / WEEK).failure == \
        "not graded: the folder name is not a valid student id"
    empty = tmp_path / "eve" / WEEK
    empty.mkdir(parents=True)
    submission = read(plan, empty)
    assert isinstance(submission, Submission) and not submission.notebooks
    assert submission.problems == {"assignment": "assignment.ipynb is missing"}


def test_changes_outside_a_sandbox_are_undone_and_named(tmp_path):
    (tmp_path / "grading-logs").mkdir()
    kept = tmp_path / "gradebook.db"
    kept.write_bytes(b"grades")
    snapshot = CourseSnapshot.take(tmp_path, [])
    kept.write_bytes(b"forged")
    (tmp_path / "grading-logs" / "ana.log").write_text("its own log is expected")
    changed, notes, environment = undo_changes(snapshot, tmp_path / "grading-logs")
    assert changed == str(kept) and notes == [] and environment == []
    assert kept.read_bytes() == b"grades"
    assert undo_changes(snapshot, tmp_path / "grading-logs") == ("", [], [])


def test_recording_replays_outcomes_into_the_gradebook_and_the_summary(plan):
    solution = read_notebook(plan.layout.source_notebook(WEEK))  # executed, as committed
    release = read_notebook(plan.layout.release_notebook(WEEK))
    full = outcome_of("full", Submission("full", {"assignment": answered(release, solution)}),
                      Graded("full", {"assignment": nbformat.writes(solution)}, seconds=9.0))
    failed = outcome_of("failed", Submission("failed", {"assignment": release}),
                        Graded("failed", problems={"assignment": "ran past the 60 s limit"},
                               failure="ran past the 60 s limit", seconds=60.0))
    unread = outcome_of("unread", failures=["the submission could not be read (OSError: x)"])
    snapshot = CourseSnapshot.take(plan.layout.root, [])
    recorded = record(plan, [full, failed, unread], snapshot)
    assert recorded.problems == ()
    scores = {line.student: (line.score, line.max_score) for line in recorded.lines}
    points = assignment_points(WEEK)
    assert scores == {"full": (points, points), "failed": (0, points), "unread": (None, None)}
    executed = plan.layout.autograded_notebook("failed", WEEK).read_text()
    assert "ran past the 60 s limit" in executed  # the reason, in every cell
    publish.write_summary(recorded.lines, plan.layout.summary_file(WEEK))
    rows = list(csv.DictReader(open(plan.layout.summary_file(WEEK), newline="")))
    assert [(row["student"], row["seconds"], row["status"]) for row in rows] == [
        ("full", "9.0", "graded"),
        ("failed", "60.0", "failed: ran past the 60 s limit"),
        ("unread", "0.0", "failed: the submission could not be read (OSError: x)")]
    table = publish.summary_table(plan, recorded.lines, 70)
    assert f"{WEEK}: 1 graded, 2 failed, in 70 s." in table
    assert f"{points:g} / {points:g}" in table
    assert "$ nbgrader autograde" in plan.recording_log.read_text()


def test_a_run_with_nothing_submitted_says_so_and_succeeds(tmp_path):
    course = make_course_copy(tmp_path, [WEEK])
    result = subprocess.run([sys.executable, "-m", "grader", WEEK, "--root", str(course)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{WEEK}: 0 graded, 0 failed" in result.stdout and result.stderr == ""
