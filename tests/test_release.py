"""Release checks: course/ is what solutions/ generates, and solutions/ is fit to ship."""

from __future__ import annotations

import re

import pytest

from grader.points import cell_points
from testkit.course import ROOT, WEEKS, grade_id, make_course_copy, read_notebook

SOURCES = sorted((ROOT / "solutions").glob("week*/*.ipynb"))
ASSIGNMENTS = [path for path in SOURCES if path.name == "assignment.ipynb"]


def _ids(paths):
    return [str(path.relative_to(ROOT / "solutions")) for path in paths]


def _comparable(notebook):
    return [(cell.cell_type, cell.source, cell.metadata) for cell in notebook.cells]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    return make_course_copy(tmp_path_factory.mktemp("release"), WEEKS) / "course"


def test_every_week_has_a_tutorial_and_an_assignment():
    assert WEEKS, "no solutions/week* folders"
    for week in WEEKS:
        names = {path.name for path in (ROOT / "solutions" / week).glob("*.ipynb")}
        assert "assignment.ipynb" in names and any(n.startswith("tutorial") for n in names), names


@pytest.mark.parametrize("week", WEEKS)
def test_course_matches_a_fresh_release(week, regenerated):
    committed = ROOT / "course" / week
    fresh = regenerated / week
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in fresh.iterdir())
    for path in fresh.glob("*.ipynb"):
        assert _comparable(read_notebook(committed / path.name)) == _comparable(
            read_notebook(path)), f"course/{week}/{path.name} is stale: run `make release`"


TUTORIALS = [path for path in SOURCES if path.name != "assignment.ipynb"]


@pytest.mark.parametrize("path", TUTORIALS, ids=_ids(TUTORIALS))
def test_a_released_tutorial_runs_the_code_nbval_runs_in_solutions(path):
    """Students' tutorials are the solutions' cell for cell: nbval's run of solutions/ is a
    run of what students get (the student edition's own check runs one week's tutorial)."""
    released = read_notebook(ROOT / "course" / path.parent.name / path.name)
    assert [(c.cell_type, c.source) for c in released.cells] == [
        (c.cell_type, c.source) for c in read_notebook(path).cells]


@pytest.mark.parametrize("path", sorted((ROOT / "course").glob("week*/*.ipynb")), ids=str)
def test_course_holds_no_solutions_hidden_tests_or_outputs(path):
    notebook = read_notebook(path)
    for cell in notebook.cells:
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in cell.source, f"{path.name}: {marker!r} in a released cell"
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source


@pytest.mark.parametrize("path", SOURCES, ids=_ids(SOURCES))
def test_solutions_are_stored_executed_in_order_and_clean(path):
    notebook = read_notebook(path)
    assert set(notebook.metadata) == {"kernelspec"}, "run `make execute` to strip metadata"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), (
        "re-execute from a fresh kernel with `make execute`")
    for cell in code:
        assert set(cell.metadata) <= {"nbgrader"}, cell.metadata
        for output in cell.outputs:
            assert output.output_type != "error", f"error in cell {cell.source[:60]!r}"
            assert output.get("name") != "stderr", f"stderr in cell {cell.source[:60]!r}"


@pytest.mark.parametrize("path", SOURCES, ids=_ids(SOURCES))
def test_notebooks_open_with_a_title_and_a_seeded_setup_cell(path):
    cells = read_notebook(path).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    setup = next(cell for cell in cells if cell.cell_type == "code")
    assert "helpers.set_seed(0)" in setup.source and "import tensorflow" in setup.source
    assert 'tf.get_logger().setLevel("ERROR")' in setup.source, "keep TF warnings out of outputs"
    assert cells[-1].cell_type == "markdown" and "## Summary" in cells[-1].source


@pytest.mark.parametrize("path", ASSIGNMENTS, ids=_ids(ASSIGNMENTS))
def test_assignments_pair_each_answer_with_points_and_hidden_tests(path):
    week_number = re.match(r"week(\d+)_", path.parent.name).group(1)
    cells = read_notebook(path).cells
    answers = {grade_id(c) for c in cells if c.metadata.get("nbgrader", {}).get("solution")}
    graded = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
    points = cell_points(read_notebook(path))
    assert len(graded) >= 5 and sum(points.values()) >= 20
    by_hand = [c for c in graded if c.metadata.nbgrader.get("solution")]
    for cell in by_hand:  # an answer the instructor grades, such as a written reflection
        assert cell.cell_type == "markdown" and points[grade_id(cell)] > 0, grade_id(cell)
        assert "rubric" in cells[cells.index(cell) - 1].source, f"{grade_id(cell)}: show the rubric"
    for cell in (c for c in graded if c not in by_hand):
        name = grade_id(cell)
        assert re.fullmatch(rf"w{week_number}_\w+_tests", name), name
        assert name.removesuffix("_tests") in answers, f"{name} has no answer cell"
        assert cell.metadata.nbgrader.locked and points[name] > 0
        assert cell.source.startswith('"""Check that'), f"{name}: start with a docstring"
        if "checks.check_concept(" in cell.source:  # the digest is the whole test
            assert "### BEGIN HIDDEN TESTS" not in cell.source, (
                f"{name}: a hidden test of a concept question would hold its answer in clear")
        else:
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{name} has no hidden tests"
