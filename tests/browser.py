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

from grader.course_copy import ROOT
from grader.sandbox import grading_environment
from servers import free_port, unavailable

SCREENSHOTS = ROOT / "tests" / "screenshots"  # listed in .gitignore
SECONDS = 1000  # Playwright counts milliseconds
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

    def __init__(self, root: Path, home: Path):
        self.root, self.port, self.token = root, free_port(), secrets.token_hex(16)
        self.log_path = home / "lab.log"
        options = (f"--no-browser --port={self.port} --ServerApp.ip=127.0.0.1 "
                   f"--IdentityProvider.token={self.token}")
        env = grading_environment(home)  # a new user: no settings, no workspaces yet
        env.pop("MPLBACKEND")  # the notebooks choose their own, as in a student's session
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                ["make", "-C", str(ROOT), "lab", f"LAB_ROOT={root}", f"LAB_OPTIONS={options}"],
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
def running_lab(root: Path, home: Path) -> Iterator[tuple[Lab, str]]:
    """`make lab` serving ``root`` as a first-time user whose home is ``home``; yields the lab
    and the address it printed."""
    lab = Lab(root, home)
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
