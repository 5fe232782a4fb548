"""helpers.selfcheck, the student edition's `make test`: how an executed assignment's cells
become exercise statuses, the listing and exit status, and when a notebook is run again."""

from __future__ import annotations

import dataclasses

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import selfcheck
from helpers.selfcheck import BY_HAND, FAILS, OPEN, PASSES, Exercise, NotebookResult


def graded(source: str, grade_id: str, *, test: bool, error: tuple[str, str] | None = None, markdown=False):
    cell = (new_markdown_cell if markdown else new_code_cell)(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": test or markdown, "solution": not test,
                                 "points": 2 if test or markdown else None}
    if error and not markdown:
        cell.outputs = [new_output("error", ename=error[0], evalue=error[1], traceback=[])]
    return cell


def test_each_test_cell_becomes_an_exercise_passing_open_or_failing():
    notebook = new_notebook(cells=[
        new_markdown_cell("---\n## Exercise 1: Scale (4 points)"),
        graded("def f():\n    return 1", "ex1", test=False),
        graded("check(f())", "ex1_tests", test=True),
        new_markdown_cell("## Exercise 2: Count (3 points)"),
        graded("# YOUR CODE HERE\nraise NotImplementedError()", "ex2", test=False,
               error=("NotImplementedError", "")),
        graded("check(g())", "ex2_tests", test=True, error=("NameError", "name 'g' is not defined")),
        new_markdown_cell("## Exercise 3: Build (5 points)"),
        graded("def h():\n    return 2", "ex3", test=False),
        graded("check(h())", "ex3_tests", test=True, error=("AssertionError", "h(): want 3, got 2.\nmore")),
        new_markdown_cell("## Exercise 4: Reflect (4 points, graded by hand)"),
        graded("I learned that ...", "ex4", test=False, markdown=True),
        new_markdown_cell("## Exercise 5: Reflect again"),
        graded("YOUR ANSWER HERE", "ex5", test=False, markdown=True),
    ])
    assert selfcheck.read_exercises(notebook) == (
        Exercise("Exercise 1: Scale (4 points)", PASSES),
        Exercise("Exercise 2: Count (3 points)", OPEN),
        Exercise("Exercise 3: Build (5 points)", FAILS, "AssertionError: h(): want 3, got 2."),
        Exercise("Exercise 4: Reflect (4 points, graded by hand)", BY_HAND),
        Exercise("Exercise 5: Reflect again", OPEN),
    )


def test_the_exit_status_says_done_work_to_do_or_could_not_run():
    tutorial = NotebookResult("course/week1/tutorial.ipynb", 3.0)
    done = NotebookResult("course/week1/assignment.ipynb", 5.0, (Exercise("Exercise 1", PASSES),))
    todo = NotebookResult("course/week1/assignment.ipynb", 5.0, (Exercise("Exercise 1", OPEN),))
    broken = NotebookResult("course/week1/tutorial.ipynb", 9.0, error="CellExecutionError: boom")
    assert selfcheck.report([tutorial, done])[1] == 0
    text, status = selfcheck.report([tutorial, todo])
    assert status == 1 and text.endswith("Work to do.") and "0 of 1 tested exercises pass, 1 still open" in text
    text, status = selfcheck.report([broken, todo])
    assert status == 2 and "COULD NOT RUN (9 s): CellExecutionError: boom" in text


def test_a_notebook_runs_again_only_when_its_folder_changes(tmp_path):
    week = tmp_path / "week1"
    week.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), week / "tutorial.ipynb")
    nbformat.write(new_notebook(cells=[new_code_cell("y = 1")]), week / "assignment.ipynb")
    key = selfcheck.content_key(week / "tutorial.ipynb")
    nbformat.write(new_notebook(cells=[new_code_cell("y = 2")]), week / "assignment.ipynb")
    assert selfcheck.content_key(week / "tutorial.ipynb") == key  # another notebook changed
    (week / "data.csv").write_text("1,2\n")
    assert selfcheck.content_key(week / "tutorial.ipynb") != key  # a file it may read changed
    result = NotebookResult("week1/assignment.ipynb", 4.0, (Exercise("Exercise 1", FAILS, "Error: x"),))
    assert NotebookResult.from_json(dataclasses.asdict(result)) == result
