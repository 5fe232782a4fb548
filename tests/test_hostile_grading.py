"""Grade crafted, hostile and broken submissions with ``python -m grader``, as `make grade` does.

One class of week 1 submissions is graded in a single sandboxed run, two at a time, so every
case also checks that the others in the same run are graded correctly. Each case names the
points it must get for each exercise (points of the exercises not named: zero) and what the
summary says. A hostile case whose attack works would earn the points of the exercise it
answers only when the attack succeeds; so its expected points say the attack failed.
"""

from __future__ import annotations

import csv
import html
import os
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from grader.config import CourseConfig
from testkit.course import ROOT, answered, grade_id, make_course_copy, points, read_notebook

WEEK = "week1_sequential"
# The notebook needs ~30 s and 1.2 GiB at most on a quiet machine, its slowest cells ~8 s each
# (cells that train networks): the limits leave a wide margin for a loaded one, the cell
# limit is the grader's own default (grader.sandbox.Limits, no --cell-timeout), and 2 jobs x
# 3 GiB fit on any machine that runs the tests.
LIMITS = ["--timeout", "400", "--memory", "3", "--jobs", "2"]
RELAY_MARKER = "relay-marker-of-a-hostile-submission"
# Each exercise's points, keyed by its answer id, as the source notebook gives them.
POINTS = {name.removesuffix("_tests"): value for name, value in points(WEEK).items()}
SETUP = 2  # index of the Setup code cell


class Crafter:
    """Builds submissions from the release and the solution of week 1."""

    def __init__(self, course: Path):
        self.course = course
        self.release_path = course / "course" / WEEK / "assignment.ipynb"
        self.solution = read_notebook(ROOT / "solutions" / WEEK / "assignment.ipynb")

    def release(self) -> nbformat.NotebookNode:
        return read_notebook(self.release_path)

    def answered(self, *answer_ids: str) -> nbformat.NotebookNode:
        """The release with the solution's answers to ``answer_ids``."""
        return answered(self.release(), self.solution, answer_ids)

    def solution_of(self, answer_id: str) -> str:
        return next(cell.source for cell in self.solution.cells if grade_id(cell) == answer_id)


def cell(notebook, cell_id):
    return next(c for c in notebook.cells if grade_id(c) == cell_id)


def with_answer(notebook, answer_id, source):
    cell(notebook, answer_id).source = source
    return notebook


# --- the crafted submissions -----------------------------------------------------------

def tampered_tests(craft):
    """Edit, delete, duplicate, strip, re-point and retype test cells."""
    nb = craft.answered("w1_scale_images", "w1_build_mlp", "w1_build_cnn", "w1_compile_classifier",
                        "w1_train")
    nb = with_answer(nb, "w1_count_dense_parameters", "def count_dense_parameters(sizes):\n    return 0")
    nb = with_answer(nb, "w1_predict_labels", "def predict_labels(model, images):\n    return None")
    nb.cells.remove(cell(nb, "w1_scale_images_tests"))                      # deleted
    cell(nb, "w1_count_dense_parameters_tests").source = "pass"              # edited
    duplicate = nbformat.from_dict(cell(nb, "w1_build_mlp_tests"))            # duplicated
    duplicate.id = "my-copy-of-the-mlp-tests"
    nb.cells.insert(nb.cells.index(cell(nb, "w1_build_mlp_tests")), duplicate)
    stripped = cell(nb, "w1_build_cnn_tests")                                # metadata stripped
    stripped.metadata = {}
    raised = cell(nb, "w1_compile_classifier_tests")                         # points raised
    raised.metadata.nbgrader.points = 100
    raised.source = "pass"
    retyped = cell(nb, "w1_train_tests")                                     # made markdown
    retyped.cell_type = "markdown"
    del retyped["outputs"], retyped["execution_count"]
    renamed = cell(nb, "w1_predict_labels_tests")                            # grade id renamed
    renamed.metadata.nbgrader.grade_id = "w1_predict_labels_tests_mine"
    renamed.metadata.nbgrader.points = 30
    renamed.source = "pass"
    return nb


def infinite_loop(craft):
    nb = craft.answered("w1_count_dense_parameters")
    return with_answer(nb, "w1_scale_images", "while True:\n    pass")


def swallows_interrupt(craft):
    nb = craft.answered("w1_scale_images", "w1_count_dense_parameters")
    return with_answer(nb, "w1_build_mlp", "import time\nwhile True:\n    try:\n        while True:\n"
                       "            time.sleep(0.01)\n    except KeyboardInterrupt:\n        pass")


def exits_kernel(craft):
    nb = craft.answered("w1_scale_images")
    return with_answer(nb, "w1_count_dense_parameters", "import os\nos._exit(0)")


def kills_kernel(craft):
    nb = craft.answered("w1_scale_images")
    return with_answer(nb, "w1_count_dense_parameters", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")


def kills_its_parent(craft):
    nb = craft.answered("w1_scale_images")
    return with_answer(nb, "w1_count_dense_parameters", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")


def memory_bomb(craft):
    nb = craft.answered("w1_scale_images")
    return with_answer(nb, "w1_count_dense_parameters",
                       "hoard = []\nwhile True:\n    hoard.append(np.ones(2**25))  # 256 MiB at a time")


def memory_bomb_processes(craft):
    nb = craft.answered("w1_scale_images")
    code = "import numpy, time; block = numpy.ones(2**27); time.sleep(60)"  # 1 GiB each
    return with_answer(nb, "w1_count_dense_parameters",
                       "import subprocess, sys, time\n"
                       f"workers = [subprocess.Popen([sys.executable, '-c', {code!r}]) for _ in range(4)]\n"
                       "time.sleep(60)")


def floods_output_and_exits(craft):
    """Print three million lines in one answer, call sys.exit() in the next."""
    nb = with_answer(craft.release(), "w1_scale_images", craft.solution_of("w1_scale_images") +
                     "\nfor start in range(0, 3_000_000, 10_000):\n"
                     "    print('\\n'.join(map(str, range(start, start + 10_000))))")
    return with_answer(nb, "w1_count_dense_parameters",
                       craft.solution_of("w1_count_dense_parameters") + "\nimport sys\nsys.exit(0)")


def cheats_comparisons(craft):
    """Wrong answers that pass only if comparisons lie or the checks are switched off."""
    nb = craft.answered("w1_scale_images", "w1_build_cnn")
    always_equal = craft.solution_of("w1_count_dense_parameters").replace(
        "    return int(sum(", "    return AlwaysEqual(1)\n    int(sum(")
    nb = with_answer(nb, "w1_count_dense_parameters",
                     "class AlwaysEqual(int):\n    def __eq__(self, other):\n        return True\n"
                     "    def __ne__(self, other):\n        return False\n"
                     "    def __float__(self):\n        return 101770.0\n"
                     "    __hash__ = int.__hash__\n\n" + always_equal)
    wrong_mlp = craft.solution_of("w1_build_mlp").replace("hidden_units=128", "hidden_units=64")
    patch = ("import numpy.testing\nimport helpers.checks\n"
             "for name in helpers.checks.__all__:\n"
             "    setattr(helpers.checks, name, lambda *args, **kwargs: None)\n"
             "numpy.testing.assert_array_equal = lambda *args, **kwargs: None\n"
             "numpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
             "class Lenient:\n    def __getattr__(self, name):\n        return lambda *args, **kwargs: None\n"
             "checks = Lenient()\n")
    nb = with_answer(nb, "w1_build_mlp", patch + wrong_mlp)
    return with_answer(nb, "w1_predict_labels", "def predict_labels(model, images):\n"
                       "    return np.zeros(len(images), dtype=int)")


def writes_outside(craft):
    """Overwrite the gradebook and another student's files, now and from a later process."""
    root = craft.course
    gradebook = root / "gradebook.db"
    other = root / "submitted" / "solution" / WEEK / "assignment.ipynb"
    nb = craft.answered("w1_scale_images")
    later = f"import time; time.sleep(4); open({str(gradebook)!r}, 'wb').write(b'too late')"
    return with_answer(nb, "w1_count_dense_parameters", "\n".join([
        "import subprocess, sys",
        f"open({str(gradebook)!r}, 'wb').write(b'not a gradebook')",
        f"open({str(other)!r}, 'w').write('{{}}')",
        f"open({str(other.parent / 'planted.py')!r}, 'w').write('x = 1')",
        "open('../../../gradebook.db', 'wb').write(b'not a gradebook either')",
        f"subprocess.Popen([sys.executable, '-c', {later!r}], start_new_session=True)",
    ]))


def unicode_answers(craft):
    nb = craft.answered("w1_count_dense_parameters")
    return with_answer(nb, "w1_scale_images", "# Échelle des pixels: 0…255 → [0, 1] 🚀\n"
                       "ÉCHELLE = 255.0\n" + craft.solution_of("w1_scale_images").replace("255.0", "ÉCHELLE")
                       + '\nprint("fini ✓ 完成")')


def tensorflow_notices(craft):
    """A correct answer that warns, in a notebook whose Setup lets every Python notice through."""
    nb = craft.answered("w1_scale_images")
    setup = nb.cells[SETUP]
    setup.source = ('import warnings\nwarnings.simplefilter("always")\n'
                    + setup.source.replace('tf.get_logger().setLevel("ERROR")', 'tf.get_logger().setLevel("DEBUG")'))
    source = craft.solution_of("w1_build_mlp").replace(
        "keras.Input(shape=(28, 28, 1)),\n            keras.layers.Flatten(),",
        "keras.layers.Flatten(input_shape=(28, 28, 1)),")
    assert "input_shape" in source
    return with_answer(nb, "w1_build_mlp", source)


def only_if(condition: str, solution: str, wrong: str) -> str:
    """An answer that is right only when ``condition`` (an attack) held."""
    return f"if {condition}:\n    exec({solution!r})\nelse:\n    exec({wrong!r})"


WRONG_COUNT = "def count_dense_parameters(sizes):\n    return 0"


def snoops(craft):
    """Look for the course, solutions, gradebooks and hidden tests, also through /proc."""
    course = str(craft.course)
    search = "\n".join([
        "import glob, os",
        f"course = {course!r}",
        "candidates = [course, os.path.join(course, 'solutions'), os.path.join(course, 'gradebook.db'),",
        f"              os.path.expanduser('~root/.jupyter'), {str(ROOT / 'solutions')!r}]",
        "for pattern in ['/proc/*/cwd/solutions', '/proc/*/cwd/gradebook.db', '/proc/*/root' + course,",
        "                '/tmp/grade-*', '../**/gradebook.db', '../**/solutions', '/home/*/*/gradebook.db']:",
        "    candidates += glob.glob(pattern, recursive=True)",
        "found = [path for path in candidates if os.path.exists(path)]",
        "print('found:', found)",
    ])
    nb = craft.answered("w1_scale_images")
    return with_answer(nb, "w1_count_dense_parameters",
                       search + "\n" + only_if("found", craft.solution_of("w1_count_dense_parameters"), WRONG_COUNT))


def plants_files(craft):
    """Write where the grader works, replays and stages, into Jupyter config, and to TMPDIR."""
    course = str(craft.course)
    targets = [f"{course}/gradebook.db", f"{course}/autograded/planted.ipynb",
               f"{course}/submitted/solution/{WEEK}/assignment.ipynb",
               os.path.expanduser("~/.jupyter/nbgrader_config.py"), "/tmp/../planted", "/planted",
               "/home/planted"]
    code = "\n".join([
        "import glob, os, tempfile",
        f"targets = {targets!r} + glob.glob('/tmp/grade-*/*/')",
        "os.makedirs(os.path.expanduser('~/.jupyter'), exist_ok=True)",
        "open(os.path.expanduser('~/.jupyter/nbgrader_config.py'), 'w').write(",
        "    'c.Autograde.autograde_preprocessors = []\\nc.ClearSolutions.enforce_metadata = False')",
        "open(os.path.join(tempfile.gettempdir(), 'leak-plants_files.txt'), 'w').write('x')",
        "written = []",
        "for target in targets:",
        "    try:",
        "        path = target if not target.endswith('/') else target + 'planted.json'",
        "        open(path, 'w').write('{}')",
        "        written.append(path)",
        "    except OSError:",
        "        pass",
        "print('written:', written)",
    ])
    nb = craft.answered("w1_scale_images")
    return with_answer(nb, "w1_count_dense_parameters",
                       code + "\n" + only_if("written", craft.solution_of("w1_count_dense_parameters"), WRONG_COUNT))


def forks_forever(craft):
    """A process that re-forks faster than a one-pass kill, then writes the gradebook."""
    gradebook = str(craft.course / "gradebook.db")
    relay = (f"import os, time  # {RELAY_MARKER}\nstart = time.time()\n"
             "while time.time() - start < 30:\n    if os.fork():\n        os._exit(0)\n"
             "    time.sleep(0.01)\n"
             f"open({gradebook!r}, 'wb').write(b'too late')")
    nb = craft.answered("w1_scale_images", "w1_count_dense_parameters")
    launch = f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {relay!r}], start_new_session=True)"
    return with_answer(nb, "w1_scale_images", craft.solution_of("w1_scale_images") + "\n" + launch)


def tampers_kernel(craft):
    """Wrong answers, with input transformers that empty test cells and numpy internals patched."""
    tamper = "\n".join([
        "import numpy._core.numeric as numeric",
        "numeric.allclose = lambda *args, **kwargs: True",
        "numeric.array_equal = lambda *args, **kwargs: True",
        "def empty_tests(lines):",
        "    text = ''.join(lines)",
        "    return [] if ('assert' in text or 'check' in text) else lines",
        "get_ipython().input_transformers_cleanup.append(empty_tests)",
        "get_ipython().input_transformers_post.append(empty_tests)",
    ])
    nb = craft.release()
    nb = with_answer(nb, "w1_scale_images", "def scale_images(images):\n    return images\n" + tamper)
    return with_answer(nb, "w1_count_dense_parameters", WRONG_COUNT)


SCRIPT = "<script>alert('stolen token')</script>"
HANDLER = "<img src=x onerror=alert('stolen')>"
LINK = "<a href=\"javascript:alert('stolen')\">click</a>"


def injects_html(craft):
    """Scripts, event handlers and javascript: links in markdown and in outputs."""
    nb = craft.answered("w1_scale_images")
    nb.cells.insert(SETUP + 1, nbformat.v4.new_markdown_cell(f"Notes {SCRIPT} {HANDLER} {LINK}"))
    return with_answer(nb, "w1_scale_images", craft.solution_of("w1_scale_images") +
                       f"\nfrom IPython.display import HTML, display\ndisplay(HTML({SCRIPT + HANDLER + LINK!r}))")


def forked_sweep(craft):
    """A benign sweep of 4 forked workers sharing 1 GiB: summed RSS over 3 GiB, PSS far less."""
    sweep = ("import os\nshared = np.ones(2**27)\nworkers = []\nfor _ in range(4):\n"
             "    pid = os.fork()\n    if pid == 0:\n        shared.sum()\n"
             "        import time; time.sleep(4)\n        os._exit(0)\n    workers.append(pid)\n"
             "for pid in workers:\n    os.waitpid(pid, 0)\ndel shared")
    nb = craft.answered("w1_scale_images", "w1_count_dense_parameters")
    return with_answer(nb, "w1_count_dense_parameters",
                       craft.solution_of("w1_count_dense_parameters") + "\n" + sweep)


def large_outputs(craft):
    """Answers saved with 60 MiB of outputs: graded by what is graded, without them."""
    nb = craft.answered("w1_scale_images", "w1_count_dense_parameters")
    cell(nb, "w1_scale_images").outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="0123456789abcdef" * (60 * 2**16))]
    return nb


def partial(craft):
    return craft.answered("w1_scale_images", "w1_count_dense_parameters")


ALL = set(POINTS)
LONG_ID = "maria.fernanda.rodriguez-gonzalez.2026@students.university.ac.uk"  # 64 characters
# student: (builder, points per exercise, text the summary status must contain)
CASES = {
    "release": (lambda craft: craft.release(), {}, "graded"),
    "solution": (lambda craft: craft.solution, {name: POINTS[name] for name in ALL}, "graded"),
    "tampered_tests": (tampered_tests, {"w1_scale_images": 4, "w1_build_mlp": 4, "w1_build_cnn": 5,
                                        "w1_compile_classifier": 4, "w1_train": 3}, "graded"),
    "infinite_loop": (infinite_loop, {"w1_count_dense_parameters": 3}, "interrupted"),
    "swallows_interrupt": (swallows_interrupt, {"w1_scale_images": 4, "w1_count_dense_parameters": 3},
                           "ignored the interrupt"),
    "exits_kernel": (exits_kernel, {"w1_scale_images": 4}, "kernel died"),
    "kills_kernel": (kills_kernel, {"w1_scale_images": 4}, "kernel died"),
    "kills_its_parent": (kills_its_parent, {"w1_scale_images": 4}, "graded"),
    "memory_bomb": (memory_bomb, {"w1_scale_images": 4}, "graded"),
    "memory_bomb_processes": (memory_bomb_processes, {}, "failed: used more than 3.0 GiB"),
    "floods_output_and_exits": (floods_output_and_exits, {"w1_scale_images": 4,
                                                          "w1_count_dense_parameters": 3}, "graded"),
    "cheats_comparisons": (cheats_comparisons, {"w1_scale_images": 4, "w1_build_cnn": 5}, "graded"),
    "writes_outside": (writes_outside, {"w1_scale_images": 4}, "graded"),
    "snoops": (snoops, {"w1_scale_images": 4}, "graded"),
    "plants_files": (plants_files, {"w1_scale_images": 4}, "graded"),
    "forks_forever": (forks_forever, {"w1_scale_images": 4, "w1_count_dense_parameters": 3}, "graded"),
    "tampers_kernel": (tampers_kernel, {}, "graded"),
    "injects_html": (injects_html, {"w1_scale_images": 4}, "graded"),
    "forked_sweep": (forked_sweep, {"w1_scale_images": 4, "w1_count_dense_parameters": 3}, "graded"),
    "large_outputs": (large_outputs, {"w1_scale_images": 4, "w1_count_dense_parameters": 3}, "graded"),
    "tensorflow_notices": (tensorflow_notices, {"w1_scale_images": 4, "w1_build_mlp": 4}, "graded"),
    # A learning platform's id (an e-mail address) of the longest length a student id may have.
    LONG_ID: (partial, {"w1_scale_images": 4, "w1_count_dense_parameters": 3}, "graded"),
    # Graded last, after every hostile submission.
    "zz_unicode_answers": (unicode_answers, {"w1_scale_images": 4, "w1_count_dense_parameters": 3},
                           "graded"),
}
# Files that are not a gradable assignment.ipynb: (files to write, status text).
BROKEN = {
    "invalid_json": ({"assignment.ipynb": b"this is not JSON"}, "not a valid notebook"),
    "truncated": (None, "not a valid notebook"),
    "renamed_notebook": ({"Assignment (1).ipynb": None}, "assignment.ipynb is missing (found Assignment (1).ipynb"),
    "missing_notebook": ({"README.txt": b"I forgot"}, "assignment.ipynb is missing"),
    "extra_notebook": ({"assignment.ipynb": None, "scratch.ipynb": None, "notes.txt": b"x"},
                       "ignored notes.txt, scratch.ipynb"),
}
BROKEN_POINTS = {"extra_notebook": {"w1_scale_images": 4, "w1_count_dense_parameters": 3}}
REGRADED = ["solution", "tampered_tests", "exits_kernel", "invalid_json", "forked_sweep"]


def write_class(course: Path, craft: Crafter) -> None:
    for student, (build, _, _) in CASES.items():
        folder = course / "submitted" / student / WEEK
        folder.mkdir(parents=True)
        nbformat.write(build(craft), folder / "assignment.ipynb")
    partial_bytes = nbformat.writes(partial(craft)).encode()
    for student, (files, _) in BROKEN.items():
        folder = course / "submitted" / student / WEEK
        folder.mkdir(parents=True)
        if files is None:
            files = {"assignment.ipynb": partial_bytes[: len(partial_bytes) // 2]}
        for name, content in files.items():
            (folder / name).write_bytes(partial_bytes if content is None else content)


def deep_temporary_folder(course: Path) -> Path:
    """A temporary folder at least 120 characters deep: sockets under it would not fit."""
    folder = course.parent / "deep-tmp" / ("t" * 60) / ("u" * 60)
    folder.mkdir(parents=True, exist_ok=True)
    assert len(str(folder)) >= 120
    return folder


def run_grader(course: Path, *extra: str) -> tuple[subprocess.CompletedProcess, float]:
    """Grade as `make grade` does, with the grader's work folder in a deep temporary folder."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               TMPDIR=str(deep_temporary_folder(course)))
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "grader", WEEK, "--root", str(course), *LIMITS, *extra],
                            cwd=course, env=env, capture_output=True, text=True, timeout=1200)
    return result, time.monotonic() - start


def scores(course: Path) -> dict[str, dict[str, float]]:
    """Points per exercise (keyed by answer id) for every student in the gradebook."""
    found = {}
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        for submission in gradebook.assignment_submissions(WEEK):
            notebook = next(nb for nb in submission.notebooks if nb.name == "assignment")
            found[submission.student.id] = {grade.name.removesuffix("_tests"): grade.score
                                            for grade in notebook.grades}
    return found


def summary(course: Path) -> dict[str, dict[str, str]]:
    with open(course / f"grading-summary-{WEEK}.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, bwrap):
    course = make_course_copy(tmp_path_factory.mktemp("hostile"), [WEEK])
    craft = Crafter(course)
    write_class(course, craft)
    originals = {path: path.read_bytes() for path in (course / "submitted").rglob("*") if path.is_file()}
    assert not list(Path(tempfile.gettempdir()).glob("leak-*.txt"))
    first, seconds = run_grader(course)
    print(first.stdout, first.stderr[-5000:], f"\nfirst run: {seconds:.0f} s", file=sys.stderr)
    return course, first, originals, scores(course), summary(course)


def test_the_run_completes_and_prints_a_summary(graded):
    course, first, _, _, _ = graded
    assert first.returncode == 0, first.stderr[-3000:]
    assert "graded" in first.stdout and "failed" in first.stdout
    assert sorted(summary(course)) == sorted([*CASES, *BROKEN])
    total = len(CASES) + len(BROKEN)
    assert f"[{total}/{total}]" in first.stdout and "left)" in first.stdout  # progress lines


@pytest.mark.parametrize("student", sorted(CASES))
def test_each_crafted_submission_gets_exactly_its_points(graded, student):
    _, _, _, found, table = graded
    expected = {name: float(CASES[student][1].get(name, 0)) for name in POINTS}
    assert found[student] == expected, table[student]["status"]
    assert CASES[student][2] in table[student]["status"]


@pytest.mark.parametrize("student", sorted(BROKEN))
def test_a_broken_submission_is_reported_and_scores_zero_or_is_graded(graded, student):
    _, _, _, found, table = graded
    points = BROKEN_POINTS.get(student, {})
    assert found[student] == {name: float(points.get(name, 0)) for name in POINTS}
    assert BROKEN[student][1] in table[student]["status"]


def test_feedback_explains_failures_and_never_shows_hidden_tests(graded):
    course = graded[0]
    hidden_only = "reference_cnn"  # a name only week 1's hidden tests use
    assert hidden_only in (ROOT / "solutions" / WEEK / "assignment.ipynb").read_text()
    assert hidden_only not in (course / "course" / WEEK / "assignment.ipynb").read_text()
    for student in [*CASES, *BROKEN]:
        html = (course / "feedback" / student / WEEK / "assignment.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in html and hidden_only not in html, student
    broken = (course / "feedback" / "invalid_json" / WEEK / "assignment.html").read_text()
    assert "not a valid notebook" in broken


def test_feedback_html_is_sanitised(graded):
    html = (graded[0] / "feedback" / "injects_html" / WEEK / "assignment.html").read_text()
    assert "stolen" in html  # the text is there, as text
    lowered = html.lower()
    for active in ("<script>alert", "<img src=x onerror", "<a href=\"javascript:", "<a href='javascript:"):
        assert active not in lowered, active  # escaped source code (&lt;img ...) is inert


def test_no_process_of_a_submission_outlives_the_run(graded):
    time.sleep(2)
    found = subprocess.run(["pgrep", "-f", RELAY_MARKER], capture_output=True, text=True)
    assert found.stdout.strip() == ""


def test_nothing_outside_the_sandbox_changes(graded):
    course, _, originals, _, _ = graded
    time.sleep(5)  # the processes writes_outside and forks_forever started would have written by now
    now = {path: path.read_bytes() for path in (course / "submitted").rglob("*") if path.is_file()}
    assert now == originals
    assert not (course / "autograded" / "planted.ipynb").exists()
    assert not list(Path(tempfile.gettempdir()).glob("leak-*.txt"))
    jupyter_config = Path(os.path.expanduser("~/.jupyter/nbgrader_config.py"))
    assert not jupyter_config.exists() or jupyter_config.read_text() != "{}"
    assert (course / "gradebook.db").read_bytes().startswith(b"SQLite format 3")
    backups = list((course / "gradebook-backups").glob("gradebook-*.db"))
    assert backups and all(path.read_bytes().startswith(b"SQLite format 3") for path in backups)


def test_long_outputs_are_truncated_in_the_record(graded):
    course = graded[0]
    executed = course / "autograded" / "floods_output_and_exits" / WEEK / "assignment.ipynb"
    assert executed.stat().st_size < 2 * 2**20


def test_each_sandbox_log_is_kept_and_named_for_failures(graded):
    course, _, _, _, table = graded
    assert (course / "grading-logs" / WEEK / "solution.log").is_file()
    assert "log: grading-logs/week1_sequential/memory_bomb_processes.log" in table["memory_bomb_processes"]["status"]


def test_the_class_report_lists_every_failure_with_its_reason_and_log(graded):
    course, _, _, _, table = graded
    page = html.unescape((course / "reports" / WEEK / "report.html").read_text())
    failed = {student: row["status"] for student, row in table.items() if row["status"].startswith("failed")}
    assert failed, "the hostile class has failures"
    for student, status in failed.items():
        assert f"<td>{student}</td><td>{status}</td>" in page, student


def test_grading_one_at_a_time_gives_identical_grades(graded):
    course, _, _, first_scores, _ = graded
    second, _ = run_grader(course, "--jobs", "1", *[f"--student={student}" for student in REGRADED])
    assert second.returncode == 0, second.stderr[-3000:]
    assert scores(course) == first_scores


def test_without_a_sandbox_changes_to_the_course_are_undone_and_cost_the_grade(tmp_path):
    """--isolation none: what the sandbox prevents is detected, undone and zeroed instead."""
    course = make_course_copy(tmp_path / "course", [WEEK])
    craft = Crafter(course)
    for student, build in [("solution", lambda craft: craft.solution), ("writes_outside", writes_outside)]:
        folder = course / "submitted" / student / WEEK
        folder.mkdir(parents=True)
        nbformat.write(build(craft), folder / "assignment.ipynb")
    original = (course / "submitted" / "solution" / WEEK / "assignment.ipynb").read_bytes()
    result, _ = run_grader(course, "--isolation", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    table, found = summary(course), scores(course)
    assert "changed files outside its sandbox" in table["writes_outside"]["status"]
    assert found["writes_outside"] == {name: 0.0 for name in POINTS}
    assert found["solution"] == {name: float(points) for name, points in POINTS.items()}
    time.sleep(5)
    assert (course / "submitted" / "solution" / WEEK / "assignment.ipynb").read_bytes() == original
    assert (course / "gradebook.db").read_bytes().startswith(b"SQLite format 3")
