"""grader's building blocks, without running nbgrader: submissions, integrity, limits."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from grader.integrity import CourseSnapshot
from grader.sandbox import Limits, run_limited
from grader.submissions import is_student_id, read_notebook, read_submission


def _notebook_bytes() -> bytes:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 'é ✓'")])
    return nbformat.writes(notebook).encode()


@pytest.mark.parametrize("content, reason", [
    (b"not json", "not a valid notebook (NotJSONError"),
    (b'{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}', "not a valid notebook"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "bad"}]}',
     "not a valid notebook"),
    (b"\xff\xfe broken", "not a valid notebook (UnicodeDecodeError"),
])
def test_unreadable_notebooks_are_reported_not_raised(tmp_path, content, reason):
    path = tmp_path / "assignment.ipynb"
    path.write_bytes(content)
    notebook, problem = read_notebook(path)
    assert notebook is None and problem.startswith(f"assignment.ipynb is {reason}")


def test_a_link_is_not_read(tmp_path):
    (tmp_path / "elsewhere.ipynb").write_bytes(_notebook_bytes())
    (tmp_path / "assignment.ipynb").symlink_to(tmp_path / "elsewhere.ipynb")
    assert read_notebook(tmp_path / "assignment.ipynb") == (None, "assignment.ipynb is not a regular file")


def test_a_submission_lists_missing_renamed_and_extra_files(tmp_path):
    folder = tmp_path / "submitted" / "ana" / "week1"
    folder.mkdir(parents=True)
    (folder / "Assignment (1).ipynb").write_bytes(_notebook_bytes())
    (folder / "timestamp.txt").write_text("not a time")
    submission = read_submission(folder, ["assignment"])
    assert submission.student == "ana" and not submission.notebooks
    assert submission.problems == {"assignment": "assignment.ipynb is missing (found "
                                   "Assignment (1).ipynb: rename it and grade again)"}
    assert submission.notes == ["ignored Assignment (1).ipynb", "ignored an unreadable timestamp.txt"]


def test_student_ids_are_plain_names():
    assert is_student_id("ana.lima-2@school")
    for bad in ("", ".hidden", "../up", "a b", "x" * 65, "ü"):
        assert not is_student_id(bad), bad


def test_the_snapshot_restores_kept_files_and_reports_the_rest(tmp_path):
    root = tmp_path / "course"
    (root / "submitted" / "ana").mkdir(parents=True)
    kept = root / "submitted" / "ana" / "a.ipynb"
    kept.write_bytes(b"original")
    watched = tmp_path / "env"
    watched.mkdir()
    (watched / "lib.py").write_text("x = 1")
    snapshot = CourseSnapshot.take(root, [watched])
    assert snapshot.changes_since() == []
    kept.write_bytes(b"tampered")
    planted = root / "planted.py"
    planted.write_text("evil")
    (watched / "lib.py").write_text("x = 2")
    changed = snapshot.changes_since()
    assert changed == sorted([kept, planted, watched / "lib.py"])
    assert snapshot.restore(changed) == [watched / "lib.py"]
    assert kept.read_bytes() == b"original" and not planted.exists()
    assert snapshot.changes_since() == []


def test_a_run_past_its_time_limit_is_stopped_with_its_children(tmp_path):
    sleeper = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    outcome = run_limited([sys.executable, "-c", sleeper], tmp_path, Limits(seconds=2))
    assert outcome.failure == "ran past the 2 s limit" and outcome.seconds < 15
    leftover = subprocess.run(["pgrep", "-f", "time.sleep\\(60\\)"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""


def test_a_process_over_its_memory_ceiling_gets_memory_error(tmp_path):
    hog = "import numpy\ntry:\n    numpy.ones(2**28)\nexcept MemoryError:\n    print('MemoryError')"
    outcome = run_limited([sys.executable, "-c", hog], tmp_path, Limits(memory_bytes=2**31))
    assert outcome.failure == "" and "MemoryError" in outcome.log
