"""JupyterLab in a real browser for the tests: `make lab` started as a user starts it, and
headless Chromium (Debian's, driven by Playwright) pointed at the address it prints."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from testkit.course import ROOT
from grader.sandbox import grading_environment
from testkit.servers import free_port, unavailable

SCREENSHOTS = ROOT / "tests" / "screenshots"  # listed in .gitignore
SECONDS = 1000  # Playwright counts milliseconds
KERNEL = "Python 3 (ipykernel)"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking switches Chromium keeps calling Google on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def why_no_browser() -> str:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install -e '.[dev]'"
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed (apt-get install chromium)"
    return ""


class Lab:
    """A running `make lab`: its address (the one it prints) and its log."""

    def __init__(self, root: Path, home: Path, edition: Path | None = None):
        self.root, self.port, self.token = root, free_port(), secrets.token_hex(16)
        self.log_path = home / "lab.log"
        options = (f"--no-browser --port={self.port} --ServerApp.ip=127.0.0.1 "
                   f"--IdentityProvider.token={self.token}")
        env = grading_environment(home)  # a new user: no settings, no workspaces yet
        env.pop("MPLBACKEND")  # the notebooks choose their own, as in a student's session
        for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV"):  # a student's own shell
            env.pop(name, None)
        # The course's make lab serves a copy (LAB_ROOT); a student edition serves itself.
        command = (["make", "-C", str(ROOT), "lab", f"LAB_ROOT={root}"] if edition is None
                   else ["make", "-C", str(edition), "lab"])
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [*command, f"LAB_OPTIONS={options}"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_up(self, timeout: float = 180) -> str:
        """The address JupyterLab prints for the user to open, with the token filled in."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"make lab exited {self.process.returncode}:\n{self.log[-3000:]}")
            printed = re.search(rf"http://127\.0\.0\.1:{self.port}/\S*\?token=\S+", self.log)
            if printed and self._answers():
                return re.sub(r"token=\S+", f"token={self.token}", printed.group(0))
            time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not start in {timeout:.0f} s:\n{self.log[-3000:]}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("api/status"), timeout=5):
                return True
        except OSError:
            return False

    def url(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path}{separator}token={self.token}"

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextlib.contextmanager
def running_lab(root: Path, home: Path, edition: bool = False) -> Iterator[tuple[Lab, str]]:
    """`make lab` serving ``root`` as a first-time user whose home is ``home``; yields the lab
    and the address it printed. ``edition``: ``root`` is a student edition, with its own
    Makefile and .venv."""
    lab = Lab(root, home, root if edition else None)
    try:
        yield lab, lab.wait_until_up()
    finally:
        lab.stop()


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser (Playwright's ``Browser``)."""
    reason = why_no_browser()
    if reason:
        unavailable(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def formgrader(page):
    """Open nbgrader's formgrader from JupyterLab's Nbgrader menu; return its frame."""
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.get_by_role("menuitem", name="Formgrader", exact=True).click()
    return page.frame_locator("iframe")


def students_table(frame, showing: str) -> str:
    """The formgrader's Manage Students table as text, once a row shows ``showing``."""
    frame.get_by_role("link", name="Manage Students").click()
    frame.locator("table tbody tr", has_text=showing).first.wait_for(timeout=60 * SECONDS)
    return frame.locator("table").first.inner_text()


def open_notebook(browser, server: Lab, path: str):
    """A new tab showing ``path`` once its kernel is idle (a fresh workspace each time)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(server.url(f"lab/tree/{path}?reset"))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120 * SECONDS)
    status = page.locator(".jp-StatusBar-Widget", has_text=re.compile(rf"{re.escape(KERNEL)} \| Idle"))
    status.first.wait_for(timeout=120 * SECONDS)
    return page


def saved_run(page, path: Path):
    """Save the notebook from the browser and read it back from disk."""
    import nbformat

    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) [data-jp-item-name='save'] button").click()
    page.wait_for_timeout(1 * SECONDS)
    return nbformat.read(path, as_version=4)


def run_all_cells(page, path: Path, timeout: float = 300) -> list:
    """Run every cell of the open notebook at ``path`` from the Run menu; its code cells once
    all have run (or the time is up)."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # JupyterLab draws only the cells in view, so progress is read from the saved notebook.
    deadline = time.monotonic() + timeout
    while True:
        cells = [cell for cell in saved_run(page, path).cells if cell.cell_type == "code"]
        if all(cell.execution_count for cell in cells) or time.monotonic() > deadline:
            return cells
        page.wait_for_timeout(2 * SECONDS)
