"""The benchmark's synthetic class is what it claims: only answer cells differ from the
release, and the scores it expects follow from what was typed (benchmarks/bench.py)."""

from __future__ import annotations

from benchmarks import bench
from testkit.course import grade_id, make_course_copy, points, read_notebook


def test_the_synthetic_class_changes_only_answer_cells_and_expects_their_points(tmp_path):
    course = make_course_copy(tmp_path, [bench.WEEK])
    expected = bench.synthetic_class(course, 10)
    release = read_notebook(course / "course" / bench.WEEK / "assignment.ipynb")
    solution = read_notebook(course / "solutions" / bench.WEEK / "assignment.ipynb")
    answers = {grade_id(cell): cell.source for cell in solution.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    kinds = {}
    for student, score in expected.items():
        kind = student.split("-")[1]
        kinds[kind] = kinds.get(kind, 0) + 1
        notebook = read_notebook(course / "submitted" / student / bench.WEEK / "assignment.ipynb")
        assert len(notebook.cells) == len(release.cells)
        changed = {grade_id(mine) for mine, given in zip(notebook.cells, release.cells)
                   if mine.source != given.source}
        assert None not in changed and changed <= set(answers), student  # Setup stays as given
        typed = {name for name in changed if notebook.cells[[grade_id(c) for c in notebook.cells]
                                                             .index(name)].source == answers[name]}
        want = {"solution": set(answers), "partial": set(bench.PARTIAL)}.get(kind, set())
        assert typed == want, student
        assert changed == want | ({"w1_count_dense_parameters"} if kind == "hostile" else set())
    assert kinds == {"solution": 4, "partial": 3, "blank": 2, "hostile": 1}
    total = sum(points(bench.WEEK).values())
    partial = sum(points(bench.WEEK)[f"{name}_tests"] for name in bench.PARTIAL)
    assert sorted(set(expected.values())) == [0.0, partial, total] and 0 < partial < total
