"""Fixtures for tests that run nbgrader for real, in a temporary course directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
WEEKS = sorted(path.name for path in (ROOT / "solutions").glob("week*"))


def run_nbgrader(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run one nbgrader command in ``course`` and fail the test, with its log, if it fails."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
        cwd=course, env=env, capture_output=True, text=True, timeout=timeout,
    )
    if result.returncode != 0:
        pytest.fail(f"nbgrader {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result


def make_course_copy(destination: Path, weeks: list[str]) -> Path:
    """Copy the config and the given weeks' sources, and register them in a new gradebook."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", destination)
    for week in weeks:
        shutil.copytree(ROOT / "solutions" / week, destination / "solutions" / week)
        run_nbgrader(destination, "generate_assignment", week, "--force")
    return destination


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")
