"""Answers that read the test checking them, or change it while it runs, earn nothing.

Each submission below attacks one kind of exercise of week 1 from inside the kernel, the
way a holdout class did: answer objects whose methods search IPython's input history
(``In``, ``_ih``, ``_i``), ``linecache`` and the call frames (locals and constants) for
the expected value, models whose methods do the same, Keras classes patched to do it, and
functions that patch ``helpers`` and ``numpy`` (or rebind ``checks``) while a test calls
them. Every submission also answers ``scale_images`` honestly (unless it attacks it), so
the class shows that grading goes on around the attack. A callback class of week 2 that
answers from the line of the test reading it completes the set. Each class is graded in one
sandboxed run, as `make grade` does; see the README's "What in-process grading guarantees".
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import os
import subprocess
import sys

from nbgrader.api import Gradebook

from grader.config import CourseConfig
from testkit.course import ROOT, answered, grade_id, make_course_copy, points, read_notebook
from test_hostile_grading import (LIMITS, POINTS, WEEK, Crafter, run_grader, scores, summary,
                                  with_answer)

# Where the test could be read from, inside the kernel: every text and value in reach.
PEEK = '''
import linecache, re, sys

def peek_everywhere():
    """Texts (input history, linecache, strings in frames) and values (frame locals and
    constants) reachable from the caller, innermost frame first."""
    shell = get_ipython()
    texts = [str(item) for name in ("In", "_ih") for item in shell.user_ns.get(name, [])]
    texts += [str(shell.user_ns.get(name, "")) for name in ("_i", "_ii", "_iii")]
    texts += ["".join(entry[2]) for entry in list(linecache.cache.values())
              if len(entry) > 2 and isinstance(entry[2], list)]
    values, frame = [], sys._getframe(1)
    while frame is not None:
        values += list(frame.f_code.co_consts)
        values += [value for key, value in list(frame.f_locals.items()) if not key.startswith("__")]
        frame = frame.f_back
    texts += [value for value in values if isinstance(value, str)]
    return texts, values

def peek_local(name):
    """The nearest caller's local called ``name`` (a check's ``expected`` or ``digest``)."""
    frame = sys._getframe(1)
    while frame is not None:
        if name in frame.f_locals:
            return frame.f_locals[name]
        frame = frame.f_back
    return None
'''

CONCEPTS = PEEK + '''
import itertools
from helpers import checks as _checks

def crack(kind):
    """Find the answer whose digest the calling check holds; fall back on the hidden tests."""
    digest, question = peek_local("digest"), peek_local("question")
    texts, values = peek_everywhere()
    candidates = {"letter": [chr(code) for code in range(65, 91)],
                  "integer": [str(number) for number in range(5000)],
                  "shape": [repr(value) for value in values if isinstance(value, tuple)]}[kind]
    for text in texts:
        candidates += re.findall(r"== (\\(None[0-9, ]*\\)|[0-9]+|\\"[A-Z]\\")", text)
    for candidate in candidates:
        if digest and question and _checks.concepts._digest(question, candidate.strip('"')) == digest:
            return candidate.strip('"')
    return candidates[-1].strip('"') if candidates else "A"

class Letter(str):
    def strip(self, *args):
        return crack("letter")
    def upper(self):
        return crack("letter")
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__

class Number(int):
    def __int__(self):
        return int(crack("integer"))
    __index__ = __int__
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__

class Shape(tuple):
    def __iter__(self):
        return iter(eval(crack("shape")))
    def __eq__(self, other):
        return True
    __hash__ = tuple.__hash__
'''

COUNT_BY_PEEKING = PEEK + '''
import ast

def expected_in(source, layer_sizes):
    """The value a check_equal in ``source`` expects for count_dense_parameters(layer_sizes)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    calls = {}  # name -> the sizes it was assigned count_dense_parameters of
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", "") == "count_dense_parameters"):
            calls[getattr(node.targets[0], "id", "")] = node.value.args[0]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "check_equal"):
            continue
        got, want = node.args[:2]
        if isinstance(got, ast.Call) and getattr(got.func, "id", "") == "count_dense_parameters":
            sizes = got.args[0]
        else:
            sizes = calls.get(getattr(got, "id", None))
        try:
            if sizes is not None and list(ast.literal_eval(sizes)) == list(layer_sizes):
                return int(eval(compile(ast.Expression(want), "<peek>", "eval"), {}))
        except Exception:
            continue
    return None

def count_dense_parameters(layer_sizes):
    """Validate like a real answer; take the count from the test itself."""
    sizes = list(layer_sizes)
    if len(sizes) < 2 or any(type(size) is not int or size < 1 for size in sizes):
        raise ValueError(f"expected at least 2 positive integer sizes, got {sizes}")
    texts, values = peek_everywhere()
    for text in texts:
        found = expected_in(text, sizes)
        if found is not None:
            return found
    for value in values:  # a reference network the test built before calling
        if hasattr(value, "count_params") and getattr(value, "input_shape", (None, None))[-1] == sizes[0]:
            return int(value.count_params())
    return 0
'''

MODEL_BY_PEEKING = PEEK + '''
class Dense(keras.layers.Dense):
    """Reports whatever settings the check asks about."""
    def get_config(self):
        config = super().get_config()
        config.update(peek_local("expected") or {})
        return config

class Dropout(keras.layers.Dropout):
    """Reports whatever rate the check asks about."""
    def get_config(self):
        config = super().get_config()
        config.update(peek_local("expected") or {})
        return config

class Sequential(keras.Sequential):
    """Reports whatever parameter count the check asks about."""
    def count_params(self):
        expected = peek_local("expected")
        return expected if isinstance(expected, int) else super().count_params()

def build_mlp(hidden_units=128, dropout_rate=0.2):
    return Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(),
                       Dense(128, activation="relu"), Dropout(0.2),
                       Dense(10, activation="softmax")])
'''

PATCHED_KERAS = PEEK + '''
# Keras itself, patched in the answer cell: the guard does not restore Keras, it watches it.
def _get_config(self, _original=keras.layers.Dense.get_config):
    config = _original(self)
    config.update(peek_local("expected") or {})
    return config
keras.layers.Dense.get_config = _get_config
def _dropout_config(self, _original=keras.layers.Dropout.get_config):
    config = _original(self)
    config.update(peek_local("expected") or {})
    return config
keras.layers.Dropout.get_config = _dropout_config
keras.Sequential.count_params = lambda self: peek_local("expected")

def build_mlp(hidden_units=128, dropout_rate=0.2):
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(128, activation="relu"), keras.layers.Dropout(0.2),
                             keras.layers.Dense(10, activation="softmax")])
'''

PATCHES_DURING_CALL = '''
def scale_images(images):
    """Wrong on purpose; while the test calls it, switch the test's checks off."""
    import numpy, helpers.checks
    for name in ("check_type", "check_shape", "check_dtype", "check_range", "check_close",
                 "check_equal", "check_raises"):
        setattr(helpers.checks, name, lambda *args, **kwargs: None)
    numpy.allclose = lambda *args, **kwargs: True
    return images
'''

REBINDS_DURING_CALL = '''
def scale_images(images):
    """Wrong on purpose; while the test calls it, rebind the test's names to lenient fakes."""
    class Lenient:
        def __getattr__(self, name):
            return lambda *args, **kwargs: None
    get_ipython().user_ns["checks"] = Lenient()
    return images
'''


def peeks_concepts(craft):
    nb = craft.answered("w1_scale_images")
    nb = with_answer(nb, "w1_concept_loss", CONCEPTS + 'loss_choice = Letter("A")')
    nb = with_answer(nb, "w1_concept_conv_params", CONCEPTS + "conv_parameters = Number(1)")
    return with_answer(nb, "w1_concept_conv_shape", CONCEPTS + "conv_output_shape = Shape((None, 1))")


def peeks_in_functions(craft):
    return with_answer(craft.answered("w1_scale_images"), "w1_count_dense_parameters", COUNT_BY_PEEKING)


def peeks_in_models(craft):
    return with_answer(craft.answered("w1_scale_images"), "w1_build_mlp", MODEL_BY_PEEKING)


def patches_keras(craft):
    return with_answer(craft.answered("w1_scale_images"), "w1_build_mlp", PATCHED_KERAS)


def patches_checks_during_call(craft):
    return with_answer(craft.answered("w1_count_dense_parameters"), "w1_scale_images", PATCHES_DURING_CALL)


def rebinds_checks_during_call(craft):
    return with_answer(craft.answered("w1_count_dense_parameters"), "w1_scale_images", REBINDS_DURING_CALL)


HONEST_SCALE = {"w1_scale_images": POINTS["w1_scale_images"]}
HONEST_COUNT = {"w1_count_dense_parameters": POINTS["w1_count_dense_parameters"]}
# student: (builder, the points it must get: the honest answer's only)
CASES = {
    "peeks_concepts": (peeks_concepts, HONEST_SCALE),
    "peeks_in_functions": (peeks_in_functions, HONEST_SCALE),
    "peeks_in_models": (peeks_in_models, HONEST_SCALE),
    "patches_keras": (patches_keras, HONEST_SCALE),
    "patches_checks_during_call": (patches_checks_during_call, HONEST_COUNT),
    "rebinds_checks_during_call": (rebinds_checks_during_call, HONEST_COUNT),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, bwrap):
    course = make_course_copy(tmp_path_factory.mktemp("peeking"), [WEEK])
    craft = Crafter(course)
    for student, (build, _) in CASES.items():
        folder = course / "submitted" / student / WEEK
        folder.mkdir(parents=True)
        nbformat.write(build(craft), folder / "assignment.ipynb")
    result, _ = run_grader(course)
    assert result.returncode == 0, result.stderr[-3000:]
    return course, scores(course), summary(course)


@pytest.mark.parametrize("student", sorted(CASES))
def test_an_answer_that_reads_or_changes_its_test_earns_nothing(graded, student):
    _, found, table = graded
    expected = {name: float(CASES[student][1].get(name, 0)) for name in POINTS}
    assert found[student] == expected, table[student]["status"]
    assert "graded" in table[student]["status"]


def test_feedback_says_why_a_test_that_was_changed_cannot_count(graded):
    course = graded[0]
    for student in ("patches_checks_during_call", "rebinds_checks_during_call", "patches_keras"):
        feedback = (course / "feedback" / student / WEEK / "assignment.html").read_text()
        assert "this test cannot count: code it ran changed" in feedback, student
    keras_feedback = (course / "feedback" / "patches_keras" / WEEK / "assignment.html").read_text()
    assert "keras.src.layers.core.dense.Dense.get_config" in keras_feedback


def test_answer_types_written_in_the_notebook_are_named_in_the_feedback(graded):
    feedback = (graded[0] / "feedback" / "peeks_concepts" / WEEK / "assignment.html").read_text()
    assert "a type defined in the notebook" in feedback
    models = (graded[0] / "feedback" / "peeks_in_models" / WEEK / "assignment.html").read_text()
    assert "a class defined in the notebook" in models


# --- a callback (week 2): its attributes answer from the test line that reads them ----------
WEEK2 = "week2_validation"
RECORDER_BY_PEEKING = PEEK + '''
def answer_for_this_line():
    """A list fitting the literal on the test line that reads the attribute: ``len(...), N``
    gives N zeros, ``check_close(..., EXPRESSION`` gives the expression's value."""
    frame = sys._getframe(2)  # the test cell's statement
    texts, _ = peek_everywhere()
    for text in reversed(texts):  # the outer frames' strings first: the running cell
        lines = text.splitlines()
        if "recorder" in text and 0 < frame.f_lineno <= len(lines):
            line = lines[frame.f_lineno - 1]
            length = re.search(r"len\\(recorder\\.\\w+\\),\\s*(\\d+)", line)
            if length:
                return [0.0] * int(length.group(1))
            value = re.search(r"check_close\\(recorder\\.\\w+,\\s*(.+?),\\s*rtol", line)
            if value:
                return [float(item) for item in eval(value.group(1))]
    return []

class BatchLossRecorder(keras.callbacks.Callback):
    """Records nothing; reports whatever the test line reading it expects."""
    @property
    def batch_losses(self):
        return answer_for_this_line()

    @property
    def epoch_learning_rates(self):
        return answer_for_this_line()
'''
PREREQUISITES = ["w2_one_hot_encode", "w2_standardize", "w2_build_baseline_model",
                 "w2_build_regularised_model", "w2_compile_model"]


def week2_points(answer_id: str) -> float:
    return points(WEEK2)[f"{answer_id}_tests"]


@pytest.fixture(scope="module")
def graded_callbacks(tmp_path_factory, bwrap):
    course = make_course_copy(tmp_path_factory.mktemp("peeking-callbacks"), [WEEK2])
    solution = read_notebook(ROOT / "solutions" / WEEK2 / "assignment.ipynb")
    notebook = answered(read_notebook(course / "course" / WEEK2 / "assignment.ipynb"), solution, PREREQUISITES)
    next(cell for cell in notebook.cells if grade_id(cell) == "w2_batch_loss_recorder").source = RECORDER_BY_PEEKING
    folder = course / "submitted" / "peeks_in_callbacks" / WEEK2
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "assignment.ipynb")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run([sys.executable, "-m", "grader", WEEK2, "--root", str(course), *LIMITS],
                            cwd=course, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    config = CourseConfig.load(course)
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        submission = gradebook.find_submission_notebook("assignment", WEEK2, "peeks_in_callbacks")
        return {grade.name.removesuffix("_tests"): grade.score for grade in submission.grades}


def test_a_callback_that_reads_its_test_earns_nothing(graded_callbacks):
    assert graded_callbacks["w2_batch_loss_recorder"] == 0
    for answer_id in PREREQUISITES:  # the honest answers around it keep their points
        assert graded_callbacks[answer_id] == week2_points(answer_id), answer_id
