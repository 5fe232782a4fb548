"""The student edition (`make student-edition`): what it holds, that no answer or hidden test
is in it, and that it installs and works from its own folder alone: its `make test` on the
blank release and on answered notebooks, and its `make lab` in Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from testkit.browser import chromium, open_notebook, run_all_cells, running_lab, screenshot
from testkit.course import ROOT, answered, read_notebook

sys.path.insert(0, str(ROOT / "edition"))
import build  # noqa: E402  (edition/build.py)

WEEKS = sorted(path.name for path in (ROOT / "course").iterdir() if path.is_dir())
TUTORIALS = sorted(path.relative_to(ROOT / "course") for path in (ROOT / "course").glob("*/*.ipynb")
                   if path.stem != "assignment")


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    folder = tmp_path_factory.mktemp("published") / "student-edition"
    result = subprocess.run([sys.executable, str(ROOT / "edition" / "build.py"), str(folder)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return folder


def make(edition, *args, timeout=1800):
    """`make` in the edition as a student runs it: nothing of the course's own .venv on PATH."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = os.pathsep.join(part for part in env["PATH"].split(os.pathsep)
                                  if not part.startswith(str(ROOT)))
    return subprocess.run(["make", *args], cwd=edition, capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_the_edition_holds_what_students_need_and_nothing_of_the_instructors(edition):
    top = sorted(path.name for path in edition.iterdir())
    assert top == [".gitignore", "Makefile", "README.md", "course", "environment.yml", "helpers",
                   "jupyterlab-settings", "pyproject.toml", "venv.mk"]
    released = sorted(p.relative_to(ROOT / "course") for p in (ROOT / "course").rglob("*.ipynb"))
    assert sorted(p.relative_to(edition / "course") for p in (edition / "course").rglob("*")
                  if p.is_file()) == released
    for path in released:  # the release, byte for byte
        assert (edition / "course" / path).read_bytes() == (ROOT / "course" / path).read_bytes()
    files = [p.relative_to(edition).as_posix() for p in edition.rglob("*") if p.is_file()]
    for instructor_only in ("solutions", "grader", "tests", "testkit", "answer_banks", "nbgrader_config",
                            "gradebook", "submitted", "autograded", "feedback", "benchmarks"):
        assert not [f for f in files if instructor_only in f], instructor_only
    pyproject = (edition / "pyproject.toml").read_text()
    assert 'packages = ["helpers", "helpers.checks"]' in pyproject and "psutil" not in pyproject
    assert "pytest" not in pyproject and "[project.optional-dependencies]" not in pyproject


def test_no_line_of_an_answer_or_a_hidden_test_is_in_any_file_of_the_edition(edition):
    secret, shared = build.secret_lines()
    assert len(secret) > 500, "the answers and hidden tests of six weeks"
    assert len(shared) < 10, sorted(shared)  # generic lines such as "return ax"
    assert build.leaked_lines(edition, secret) == []
    # The scan finds a line that does leak, wherever it is put.
    leaked = sorted(secret)[len(secret) // 2]
    notebook = nbformat.read(edition / "course" / WEEKS[0] / "assignment.ipynb", as_version=4)
    notebook.cells[-1].source += "\n    " + leaked
    planted = edition.parent / "planted"
    shutil.copytree(edition, planted)
    nbformat.write(notebook, planted / "course" / WEEKS[0] / "assignment.ipynb")
    (planted / "helpers" / "notes.txt").write_text(f"x\n{leaked}\n")
    found = build.leaked_lines(planted, secret)
    assert [line.split(":")[0] for line in found] == [
        f"course/{WEEKS[0]}/assignment.ipynb", "helpers/notes.txt"], found
    shutil.rmtree(planted)


def test_a_fresh_install_checks_the_blank_release_every_exercise_open(edition):
    """From the folder alone: install, then check week 1 (tutorial and assignment) and every
    other week's blank assignment. The other tutorials are the solutions' cell for cell
    (test_release.py), which nbval runs."""
    for week in WEEKS[1:]:
        (edition / "blank" / week).mkdir(parents=True)
        shutil.copy(edition / "course" / week / "assignment.ipynb", edition / "blank" / week)
    result = make(edition, "test", f"WEEKS=course/{WEEKS[0]} blank")
    shutil.rmtree(edition / "blank")
    output = result.stdout  # the listing; pip's and make's messages go to stderr
    assert (edition / ".venv" / ".installed").exists(), result.stderr[-3000:]
    assert result.returncode != 0 and "COULD NOT RUN" not in output, output[-3000:] + result.stderr[-3000:]
    assert output.rstrip().endswith("Work to do."), output[-3000:]
    for tutorial in [path for path in TUTORIALS if path.parts[0] == WEEKS[0]]:
        assert re.search(rf"  {tutorial.name}\s+runs \(", output), (tutorial, output[-3000:])
    statuses = re.findall(r"^    (passes|open|fails) ", output, re.MULTILINE)
    assert len(statuses) > 60 and set(statuses) == {"open"}, output[-3000:]
    assert f"0 of {len(statuses)} tested exercises pass, {len(statuses)} still open, 0 failing" in output


def test_answered_notebooks_pass_every_visible_test(edition):
    if not (edition / ".venv" / ".installed").exists():
        pytest.skip("the fresh install of the test before did not finish")
    for week in WEEKS:
        notebook = answered(read_notebook(edition / "course" / week / "assignment.ipynb"),
                            read_notebook(ROOT / "solutions" / week / "assignment.ipynb"))
        (edition / "answered" / week).mkdir(parents=True)
        nbformat.write(notebook, edition / "answered" / week / "assignment.ipynb")
    result = make(edition, "test", "WEEKS=answered")
    output = result.stdout
    assert result.returncode == 0, output[-3000:] + result.stderr[-3000:]
    assert output.rstrip().endswith("Everything passes its visible tests."), output[-3000:]
    statuses = re.findall(r"^    (passes|open|fails|graded by your instructor) ", output, re.MULTILINE)
    assert statuses.count("passes") > 60 and set(statuses) == {"passes", "graded by your instructor"}
    # Run again, nothing changed: every result comes from the cache, the listing is the same.
    again = make(edition, "test", "WEEKS=answered")
    assert again.returncode == 0 and f"Running 0 of {len(WEEKS)} notebooks" in again.stdout, again.stdout
    assert re.findall(r"^    .*$", again.stdout, re.MULTILINE) == re.findall(r"^    .*$", output, re.MULTILINE)
    shutil.rmtree(edition / "answered")


@pytest.mark.browser
def test_make_lab_of_the_edition_runs_the_week1_tutorial_in_chromium(edition, tmp_path):
    if not (edition / ".venv" / ".installed").exists():
        pytest.skip("the fresh install of the test before did not finish")
    notebook = "course/week1_sequential/tutorial.ipynb"
    with chromium() as browser, running_lab(edition, tmp_path, edition=True) as (server, address):
        assert "/lab/tree/course?" in address, address
        page = open_notebook(browser, server, notebook)
        # The instructors' nbgrader panels are switched off; Validate stays.
        disabled = page.evaluate(
            "JSON.parse(document.getElementById('jupyter-config-data').textContent).disabledExtensions")
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(disabled), disabled
        cells = run_all_cells(page, edition / notebook)
        screenshot(page, "05-student-edition-week1-tutorial")
        assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
        errors = [output for cell in cells for output in cell.outputs if output.output_type == "error"]
        assert errors == [], errors[:3]
        page.close()
