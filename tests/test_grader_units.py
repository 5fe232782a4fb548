"""grader's building blocks, without running nbgrader: submissions, integrity, limits, the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from grader.config import ConfigError, CourseConfig
from testkit.course import ROOT
from grader.integrity import CourseSnapshot
from grader.jail import Box, bwrap_command
from grader.layout import CourseLayout
from grader.late import LatePolicy
from grader.preprocessors import GuardedExecute
from grader.sandbox import (FONT_CACHE, TENSORFLOW_THREADS, Limits, grading_environment, run_limited,
                            seed_font_cache)
from grader.submissions import is_student_id, read_notebook, read_submission
from grader.worker import ForkServer


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


def test_files_from_nbgraders_exchange_are_kept_and_released_tutorials_are_not_noted(tmp_path):
    folder = tmp_path / "submitted" / "ana" / "week1"
    folder.mkdir(parents=True)
    (folder / "assignment.ipynb").write_bytes(_notebook_bytes())
    (folder / "tutorial.ipynb").write_bytes(_notebook_bytes())
    (folder / "timestamp.txt").write_text("2026-11-24 08:30:05.800038 UTC\n")
    (folder / "submission_secret.txt").write_text("0f" * 64)
    submission = read_submission(folder, ["assignment"], ["assignment.ipynb", "tutorial.ipynb"])
    assert (submission.timestamp, submission.secret) == ("2026-11-24 08:30:05.800038 UTC", "0f" * 64)
    assert submission.notes == [] and list(submission.notebooks) == ["assignment"]
    (folder / "submission_secret.txt").write_text("../../etc/passwd")
    assert read_submission(folder, ["assignment"]).notes == [
        "ignored tutorial.ipynb", "ignored an unreadable submission_secret.txt"]


def test_student_ids_are_plain_names():
    assert is_student_id("ana.lima-2@school")
    for bad in ("", ".hidden", "../up", "a b", "x" * 65, "ü"):
        assert not is_student_id(bad), bad


def test_the_grading_kernel_is_stopped_once_the_notebook_has_run():
    """Not asked to exit: a kernel that imported TensorFlow takes 2-3 s to, per submission."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert GuardedExecute(config=config).shutdown_kernel == "immediate"


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


@pytest.fixture(params=["started afresh", "forked by the worker"])
def spawn(request):
    """How run_limited starts the process: Popen, or grader.worker's fork of a process that
    has imported nbgrader (what grading in the sandbox uses). The limits must hold for both."""
    return ForkServer.shared().spawn if request.param == "forked by the worker" else None


def limited(tmp_path, code: str, limits: Limits, **options):
    log = tmp_path / "run.log"
    outcome = run_limited([sys.executable, "-c", code], tmp_path, grading_environment(tmp_path / "home"),
                          limits, log, **options)
    return outcome, log.read_text()


def no_process_left(marker: str) -> bool:
    time.sleep(1)
    return subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.strip() == ""


def test_a_run_past_its_time_limit_is_stopped_with_its_children(tmp_path, spawn):
    sleeper = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
               "'import time; time.sleep(61)']); time.sleep(61)")
    outcome, _ = limited(tmp_path, sleeper, Limits(seconds=2), spawn=spawn)
    assert outcome.failure == "ran past the 2 s limit" and outcome.seconds < 15
    assert no_process_left("time.sleep\\(61\\)")


def test_processes_that_keep_re_forking_are_all_stopped(tmp_path):
    relay = ("import os, time\n# relay-marker\nwhile True:\n    if os.fork():\n        os._exit(0)\n"
             "    time.sleep(0.001)")
    outcome, _ = limited(tmp_path, relay, Limits(seconds=2), adopted=True)
    assert outcome.failure == "" or "limit" in outcome.failure
    assert no_process_left("relay-marker")


def test_a_process_over_its_memory_ceiling_gets_memory_error(tmp_path, spawn):
    hog = "import numpy\ntry:\n    numpy.ones(2**28)\nexcept MemoryError:\n    print('MemoryError')"
    outcome, log = limited(tmp_path, hog, Limits(memory_bytes=2**31), spawn=spawn)
    assert outcome.failure == "" and "MemoryError" in log


def test_memory_shared_by_forked_workers_counts_once(tmp_path, spawn):
    """Four forked readers of one 600 MiB array: summed RSS ~3 GiB, PSS ~0.6 GiB."""
    sweep = ("import numpy, os, time\nblock = numpy.ones(600 * 2**17)\npids = []\n"
             "for _ in range(4):\n    pid = os.fork()\n    if pid == 0:\n"
             "        block.sum(); time.sleep(3); os._exit(0)\n    pids.append(pid)\n"
             "for pid in pids:\n    os.waitpid(pid, 0)")
    outcome, log = limited(tmp_path, sweep, Limits(memory_bytes=int(1.5 * 2**30)), spawn=spawn)
    assert outcome.failure == "", log
    assert 500 * 2**20 < outcome.peak_memory_bytes < int(1.5 * 2**30)


def test_writing_past_the_disk_limit_stops_the_run(tmp_path, spawn):
    box = tmp_path / "box"
    box.mkdir()
    writer = f"import time\nopen({str(box / 'big')!r}, 'wb').write(b'x' * 30 * 2**20)\ntime.sleep(10)"
    outcome, _ = limited(tmp_path, writer, Limits(disk_bytes=10 * 2**20), writable=(box,),
                         spawn=spawn)
    assert outcome.failure == "wrote more than 10 MiB of files"


# Inside the sandbox: every writable mount that can hold data (proc, devpts and the device
# nodes bwrap binds cannot), then 3 x 20 MiB written into the folder named by argv[1].
WRITABLE_MOUNTS = """
import json
mounts = [line.split() for line in open("/proc/self/mountinfo")]
print(json.dumps(sorted(fields[4] for fields in mounts if "rw" in fields[5].split(",")
                        and fields[fields.index("-") + 1] not in ("proc", "devpts", "devtmpfs"))))
"""
FILL = ("import sys, time\nfor index in range(3):\n"
        "    open(f'{sys.argv[1]}/fill-{index}', 'wb').write(b'x' * 20 * 2**20)\ntime.sleep(60)")
SANDBOX_WRITABLE = ["/dev/shm", "/home/student", "/ipc", "/tmp"]


def test_the_sandbox_can_write_to_its_four_folders_only(tmp_path, bwrap):
    box = Box(tmp_path / "box").create()
    try:
        command = [*bwrap_command(box), sys.executable, "-c", WRITABLE_MOUNTS]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        box.remove()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == SANDBOX_WRITABLE


# Inside the sandbox: load Matplotlib's fonts with its log on, then say whether it rebuilt them.
LOAD_FONTS = """
import logging
logging.basicConfig(level=logging.INFO)
import matplotlib.font_manager
"""


def test_a_sandboxed_kernel_finds_the_font_cache_the_grader_seeded(tmp_path, bwrap):
    box = Box(tmp_path / "box").create()
    seed_font_cache(box.home / FONT_CACHE)
    seeded = {path.name: path.read_bytes() for path in (box.home / FONT_CACHE).iterdir()}
    try:
        result = subprocess.run([*bwrap_command(box), sys.executable, "-c", LOAD_FONTS],
                                capture_output=True, text=True, timeout=120)
    finally:
        box.remove()
    assert result.returncode == 0, result.stderr
    assert "generated new fontManager" not in result.stderr, "the kernel rebuilt the font cache"
    assert {path.name: path.read_bytes() for path in (box.home / FONT_CACHE).iterdir()} == seeded


@pytest.mark.parametrize("folder", SANDBOX_WRITABLE)
def test_every_folder_the_sandbox_can_write_counts_toward_the_disk_limit(tmp_path, bwrap, folder):
    box = Box(tmp_path / "box").create()
    try:
        command = [*bwrap_command(box), sys.executable, "-c", FILL, folder]
        outcome = run_limited(command, tmp_path, grading_environment(tmp_path / "home"),
                              Limits(disk_bytes=32 * 2**20), tmp_path / "run.log",
                              writable=box.writable)
    finally:
        box.remove()
    assert outcome.failure == "wrote more than 32 MiB of files", (tmp_path / "run.log").read_text()


def test_socket_paths_are_short_whatever_the_box_s_depth(tmp_path):
    deep = tmp_path.joinpath(*["d" * 40] * 5, "jobs", "a" * 30 + ".b@" + "c" * 31, "box")
    box = Box(deep).create()
    try:
        assert box.ipc.stat().st_mode & 0o777 == 0o700
        assert len(str(box.ipc / "kernel-65535")) < 60
        assert box.ipc == Box(deep).ipc != Box(tmp_path / "other").ipc
    finally:
        box.remove()
    assert not box.ipc.exists()


def test_an_ipc_folder_someone_else_made_first_is_refused(tmp_path):
    box = Box(tmp_path / "box")
    box.ipc.mkdir(mode=0o777)
    box.ipc.chmod(0o777)
    try:
        with pytest.raises(PermissionError, match="must be a folder of this user's alone"):
            box.create()
    finally:
        box.ipc.rmdir()


def test_too_many_threads_stop_the_run(tmp_path):
    spawner = ("import threading, time\nfor _ in range(200):\n"
               "    threading.Thread(target=time.sleep, args=(10,), daemon=True).start()\ntime.sleep(10)")
    outcome, _ = limited(tmp_path, spawner, Limits(tasks=100))
    assert outcome.failure == "started more than 100 processes and threads"


def test_a_notebook_is_judged_by_its_size_without_outputs(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="y" * (60 * 2**20))])])
    path = tmp_path / "assignment.ipynb"
    nbformat.write(notebook, path)
    read, problem = read_notebook(path)
    assert problem == "" and read.cells[0].outputs == []
    notebook.cells[0].source = "# " + "z" * (60 * 2**20)
    nbformat.write(notebook, path)
    assert read_notebook(path)[1].startswith("assignment.ipynb is 60 MiB without its outputs, over")


SNOOP = """
import json, os, socket
found = {}
for path in %s:
    found[path] = os.path.exists(path)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    found["network"] = True
except OSError:
    found["network"] = False
found["pids"] = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
found["writable"] = {path: os.access(path, os.W_OK) for path in ("/home/student", "/tmp", "/dev/shm", "/ipc", "/dev", "/usr", "/")}
found["tmpdir"] = os.environ.get("TMPDIR")
found["box"] = os.path.exists(%r)
print(json.dumps(found))
"""


def test_the_sandbox_sees_only_the_system_python_and_its_own_folders(tmp_path, bwrap):
    box = Box(tmp_path / "box").create()
    secret = tmp_path / "gradebook.db"
    secret.write_text("hidden tests")
    private = [str(secret), str(ROOT / "solutions"), str(ROOT / "nbgrader_config.py"),
               os.path.expanduser("~/.jupyter")]
    command = [*bwrap_command(box), sys.executable, "-c", SNOOP % (private, str(box.folder))]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    box.remove()
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert not any(found[path] for path in private), found
    assert found["network"] is False
    assert found["pids"] == [1, 2]  # bwrap's init and this process: nothing of the host
    assert found["writable"] == {"/home/student": True, "/tmp": True, "/dev/shm": True, "/ipc": True,
                                 "/dev": False, "/usr": False, "/": False}
    assert found["tmpdir"] == "/tmp"
    assert found["box"] is False  # the box's own folders are seen only where they are mounted


def test_feedback_keeps_student_text_but_no_active_content():
    from nbconvert import HTMLExporter

    from grader.preprocessors import SanitiseFeedback

    hostile = ("<script>alert('a')</script><img src=x onerror=alert('b')>"
               "<a href=\"javascript:alert('c')\">link</a><b onclick=alert('d')>bold</b>")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"My notes {hostile} [md](javascript:alert('e'))"),
        nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("display_data", data={
            "text/html": hostile, "image/svg+xml": f"<svg onload=alert('f')>{hostile}</svg>",
            "application/javascript": "alert('g')", "text/plain": "x"})])])
    SanitiseFeedback().preprocess(notebook, {})
    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert "My notes" in html and "bold" in html
    lowered = html.lower()
    for active in ("<script>alert", "onerror=", "onclick=", "onload=", "javascript:alert", "alert('g')"):
        assert active not in lowered, active


def _gradebook_with_two_grade_cells(path: Path) -> str:
    from nbgrader.api import Gradebook

    url = f"sqlite:///{path}"
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("a")
        gradebook.add_notebook("nb", "a")
        for name in ("first", "second"):
            gradebook.add_grade_cell(name, "nb", "a", max_score=1, cell_type="code")
        gradebook.add_student("s")
        gradebook.add_submission("a", "s")
    return url


def _scoring_notebook() -> nbformat.NotebookNode:
    """The first grade cell passes; the second names a grade cell the gradebook lacks."""
    cells = []
    for grade_id in ("first", "missing"):
        cell = nbformat.v4.new_code_cell("pass")
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id,
                                     "points": 1, "locked": True, "schema_version": 3}
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


@pytest.mark.parametrize("saver, first_score", [("SaveAutoGrades", 1.0), ("SaveAutoGradesAtOnce", None)])
def test_a_notebook_s_scores_are_written_all_or_none(tmp_path, saver, first_score):
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.preprocessors import SaveAutoGrades

    from grader.preprocessors import SaveAutoGradesAtOnce

    url = _gradebook_with_two_grade_cells(tmp_path / "gradebook.db")
    resources = {"nbgrader": {"notebook": "nb", "assignment": "a", "student": "s", "db_url": url}}
    preprocessor = {"SaveAutoGrades": SaveAutoGrades, "SaveAutoGradesAtOnce": SaveAutoGradesAtOnce}[saver]()
    with pytest.raises(MissingEntry):  # scoring fails halfway, as when the server goes away
        preprocessor.preprocess(_scoring_notebook(), resources)
    with Gradebook(url) as gradebook:
        assert gradebook.find_grade("first", "nb", "a", "s").auto_score == first_score


@pytest.mark.parametrize("seconds_late, score, penalty", [
    (0, 10, 0), (1, 10, 2), (86400, 10, 2), (86401, 10, 4), (5 * 86400, 10, 10), (86401, 3, 3)])
def test_the_late_policy_takes_points_per_started_day_never_more_than_the_score(
        seconds_late, score, penalty):
    policy = LatePolicy(points_per_day=2)
    assert policy.late_submission_penalty("ana", score, seconds_late) == penalty


def test_a_due_date_the_grader_cannot_read_is_a_clear_error(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c.LatePolicy.due_dates = {'week1_sequential': '2026-10-09 17:00 Mars/Base'}\n")
    with pytest.raises(ConfigError, match=r"week1_sequential.*no time zone is called 'Mars/Base'"):
        CourseConfig.load(tmp_path)


def test_gitignore_and_make_clean_name_what_the_layout_says_the_tools_write():
    layout = CourseLayout.at(ROOT)
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert set(layout.outputs) <= ignored, set(layout.outputs) - ignored
    makefile = (ROOT / "Makefile").read_text()
    clean = makefile[makefile.index("\nclean:"):].split("\n\n")[0].replace("\\\n", " ").split()
    assert set(layout.regenerated) <= set(clean), set(layout.regenerated) - set(clean)


def test_tensorflow_has_the_same_threads_in_grading_kernels_tests_and_make_execute(tmp_path):
    kernel = grading_environment(tmp_path / "home")
    sandboxed = bwrap_command(Box(tmp_path / "box"))
    sandbox_settings = [sandboxed[at:at + 3] for at in range(len(sandboxed))]
    for name, value in TENSORFLOW_THREADS.items():
        assert kernel[name] == value
        assert ["--setenv", name, value] in sandbox_settings
        assert os.environ[name] == value, "conftest.py sets them for every kernel a test starts"
    makefile = (ROOT / "Makefile").read_text()
    pinned = makefile.split("\nPINNED_THREADS := ", 1)[1].split("\n", 1)[0]
    assert dict(setting.split("=") for setting in pinned.split()) == TENSORFLOW_THREADS
    assert "$(PINNED_THREADS)" in makefile[makefile.index("\nexecute:"):].split("\n\n")[0]


def test_a_forked_child_runs_in_its_own_folder_environment_and_session(tmp_path):
    code = ("import json, os, sys, tempfile\nprint(json.dumps([os.getcwd(), os.environ['HOME'], "
            "os.getsid(0) == os.getpid(), tempfile.gettempdir(), sys.argv]))\nsys.exit(3)")
    log = tmp_path / "run.log"
    env = grading_environment(tmp_path / "home")
    outcome = run_limited([sys.executable, "-c", code, "extra"], tmp_path, env, Limits(), log,
                          spawn=ForkServer.shared().spawn)
    assert outcome.failure == "the grading process ended with exit status 3"
    assert json.loads(log.read_text()) == [str(tmp_path), str(tmp_path / "home"), True,
                                           str(tmp_path / "home" / "tmp"), ["-c", "extra"]]
