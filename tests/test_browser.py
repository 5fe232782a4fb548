"""The course as a student meets it: `make lab` in headless Chromium. The landing page, every
notebook opening with the course kernel and no dialog, the week 1 tutorial run cell by cell
in the browser, and nbgrader's Validate button. Screenshots go to tests/screenshots/."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request

import nbformat
import pytest

from testkit.browser import KERNEL, SECONDS, chromium, open_notebook, run_all_cells, running_lab, screenshot
from testkit.course import ROOT, answered, read_notebook

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "course").glob("*/*.ipynb"))
VALIDATED_WEEK = "week3_saving"  # the quickest assignment to run (README: the notebook table)
# What Matplotlib prints once on a new user's first plot when building its font cache takes
# over 5 s (a loaded machine, many fonts): a notice, not an error.
FIRST_RUN_NOTICE = "Matplotlib is building the font cache; this may take a moment.\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` serving a copy of the checkout's course/ and config, for a first-time user;
    one reference-answered assignment sits outside course/ for Validate."""
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copytree(ROOT / "course", root / "course")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    (root / "answered").mkdir()
    notebook = answered(read_notebook(ROOT / "course" / VALIDATED_WEEK / "assignment.ipynb"),
                        read_notebook(ROOT / "solutions" / VALIDATED_WEEK / "assignment.ipynb"))
    nbformat.write(notebook, root / "answered" / "assignment.ipynb")
    with chromium() as browser, running_lab(root, tmp_path_factory.mktemp("home")) as (server, address):
        yield server, address, browser


def test_the_landing_page_is_the_course_with_no_news_popup(lab):
    server, address, browser = lab
    assert "/lab/tree/course?" in address, f"make lab prints {address}"
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(address)
    page.locator(".jp-DirListing-item").first.wait_for(timeout=120 * SECONDS)
    assert page.locator(".jp-BreadCrumbs").inner_text().strip().strip("/ ") == "course"
    weeks = sorted(path.name for path in (ROOT / "course").iterdir() if path.is_dir())
    assert page.locator(".jp-DirListing-itemText").all_inner_texts() == weeks
    # The shipped overrides answer JupyterLab's "get notified about Jupyter news?" question.
    with urllib.request.urlopen(server.url(
            "lab/api/settings/@jupyterlab/apputils-extension:notification")) as response:
        notification = json.load(response)["schema"]["properties"]
    assert (notification["fetchNews"]["default"], notification["checkForUpdates"]["default"]) == ("false", False)
    page.wait_for_timeout(3 * SECONDS)  # the news question used to appear within a second
    screenshot(page, "01-landing-page")
    assert page.locator(".Toastify__toast").all_inner_texts() == []
    assert page.locator(".jp-Dialog").count() == 0
    page.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_notebook_opens_with_the_course_kernel_and_no_dialog(lab, notebook):
    server, _, browser = lab
    page = open_notebook(browser, server, notebook)
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").inner_text()
    toolbar_kernel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-KernelName")
    assert toolbar_kernel.inner_text().strip() == KERNEL
    screenshot(page, "02-open-" + notebook.removeprefix("course/").replace("/", "-")[:-6])
    page.close()


def test_the_week1_tutorial_runs_every_cell_in_the_browser_without_errors(lab):
    server, _, browser = lab
    notebook = "course/week1_sequential/tutorial.ipynb"
    page = open_notebook(browser, server, notebook)
    cells = run_all_cells(page, server.root / notebook)
    screenshot(page, "03-week1-tutorial-ran")
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1)), \
        "every cell ran once, in order"
    errors = [output for cell in cells for output in cell.outputs
              if output.output_type == "error"
              or (output.get("name") == "stderr" and output.text != FIRST_RUN_NOTICE)]
    assert errors == [], errors[:3]
    assert any("image/png" in output.get("data", {}) for cell in cells for output in cell.outputs), \
        "the tutorial's plots are shown"
    page.close()


@pytest.mark.parametrize("path, expected", [
    ("answered/assignment.ipynb", r"Success! Your notebook passes all the tests"),
    (f"course/{VALIDATED_WEEK}/assignment.ipynb", r"The following cell failed"),
])
def test_validate_passes_the_reference_answers_and_fails_the_blank_release(lab, path, expected):
    server, _, browser = lab
    page = open_notebook(browser, server, path)
    page.get_by_role("button", name="Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=300 * SECONDS)
    screenshot(page, "04-validate-" + path.split("/")[0])
    assert re.search(expected, dialog.inner_text()), dialog.inner_text()[:500]
    page.close()
