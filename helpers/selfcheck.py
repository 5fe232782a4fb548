"""Check your own work: ``python -m helpers.selfcheck [course/week1_sequential ...]``.

Runs every tutorial and every assignment of the course (or of the weeks named) from a fresh
kernel, as the Validate button does, and lists each exercise as passing, still open or
failing, with the first line of what its visible test said. Your notebooks are not changed:
each week runs in a temporary copy of its folder. Grading runs more tests than these, so a
passing list is a good sign, not a grade.

Exit status: 0 when every exercise passes, 1 when there is work to do, 2 when a notebook
could not be run at all (a tutorial that fails, a kernel that died, a cell over the time
limit).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PASSES, OPEN, FAILS, BY_HAND = "passes", "open", "fails", "graded by your instructor"
CELL_TIMEOUT = 300  # seconds; the slowest cell of the course takes about 30
UNANSWERED = ("raise NotImplementedError()", "YOUR ANSWER HERE")
EXERCISE = re.compile(r"^#{2,4}\s+(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Exercise:
    """One graded exercise of an assignment and what its test cell said."""

    title: str
    status: str
    message: str = ""


@dataclass(frozen=True)
class NotebookResult:
    """What running one notebook showed."""

    path: str
    seconds: float
    exercises: tuple[Exercise, ...] = ()
    error: str = ""  # why the notebook could not be run, or the tutorial cell that failed


@dataclass
class _Pending:
    title: str = ""
    unanswered: bool = False
    errors: list[str] = field(default_factory=list)


def _error_line(output) -> str:
    value = str(output.get("evalue", "")).strip().splitlines()
    return f"{output.get('ename', 'Error')}: {value[0] if value else ''}".strip()


def _cell_error(cell):
    return next((output for output in cell.get("outputs", []) if output.output_type == "error"), None)


def read_exercises(notebook) -> tuple[Exercise, ...]:
    """Each graded cell of an executed assignment with its status, in notebook order."""
    exercises, pending = [], _Pending()
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown":
            headings = EXERCISE.findall(cell.source)
            if headings:
                pending.title = headings[-1].strip()
            if meta.get("solution") and meta.get("grade"):  # a written answer
                blank = any(marker in cell.source for marker in UNANSWERED)
                exercises.append(Exercise(pending.title, OPEN if blank else BY_HAND))
            continue
        error = _cell_error(cell)
        if meta.get("solution"):
            pending.unanswered |= any(marker in cell.source for marker in UNANSWERED)
        elif error is not None and not meta.get("grade"):
            pending.errors.append(_error_line(error))
        if meta.get("grade"):
            if error is None:
                exercises.append(Exercise(pending.title, PASSES))
            elif pending.unanswered or error.get("ename") == "NotImplementedError":
                exercises.append(Exercise(pending.title, OPEN))
            else:
                exercises.append(Exercise(pending.title, FAILS, _error_line(error)))
            pending = _Pending(title=pending.title)
    return tuple(exercises)


def run_notebook(path: str) -> NotebookResult:
    """Execute ``path`` in a temporary copy of its folder; never raises."""
    import nbformat
    from nbclient import NotebookClient

    source = Path(path)
    start = time.perf_counter()
    is_assignment = source.stem == "assignment"
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as scratch:
        folder = Path(scratch) / source.parent.name
        shutil.copytree(source.parent, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        try:
            notebook = nbformat.read(folder / source.name, as_version=4)
            NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                           allow_errors=is_assignment,
                           resources={"metadata": {"path": str(folder)}},
                           ).execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up notices
        except Exception as error:  # a failing tutorial cell, a dead kernel, a timeout
            summary = str(error).strip().splitlines()
            message = f"{type(error).__name__}: {summary[-1] if summary else ''}"
            return NotebookResult(path, time.perf_counter() - start, error=message[:300])
    exercises = read_exercises(notebook) if is_assignment else ()
    return NotebookResult(path, time.perf_counter() - start, exercises)


def find_notebooks(roots: list[Path]) -> list[Path]:
    """The notebooks of each week folder under ``roots``, tutorials first."""
    notebooks = []
    for root in roots:
        weeks = [root] if list(root.glob("*.ipynb")) else sorted(p for p in root.iterdir() if p.is_dir())
        for week in weeks:
            found = sorted(week.glob("*.ipynb"), key=lambda p: (p.stem == "assignment", p.name))
            notebooks.extend(found)
    return notebooks


def report(results: list[NotebookResult]) -> tuple[str, int]:
    """The listing to print and the exit status."""
    lines, week, crashed = [], None, False
    exercises = [exercise for result in results for exercise in result.exercises]
    for result in results:
        path = Path(result.path)
        if path.parent.name != week:
            week = path.parent.name
            lines.append(f"\n{week}")
        if result.error:
            crashed = True
            lines.append(f"  {path.name:<34} COULD NOT RUN ({result.seconds:.0f} s): {result.error}")
        elif not result.exercises:
            lines.append(f"  {path.name:<34} runs ({result.seconds:.0f} s)")
        else:
            lines.append(f"  {path.name} ({result.seconds:.0f} s)")
        for exercise in result.exercises:
            detail = f"  {exercise.message}" if exercise.message else ""
            lines.append(f"    {exercise.status:<6} {exercise.title}{detail}"[:160])
    counts = {status: sum(e.status == status for e in exercises) for status in (PASSES, OPEN, FAILS, BY_HAND)}
    graded = len(exercises) - counts[BY_HAND]
    summary = (f"\n{counts[PASSES]} of {graded} tested exercises pass, {counts[OPEN]} still open, "
               f"{counts[FAILS]} failing; {counts[BY_HAND]} written answer(s) for your instructor.")
    if crashed:
        return "\n".join([*lines, summary, "A notebook could not run: see COULD NOT RUN above."]), 2
    if counts[OPEN] or counts[FAILS]:
        return "\n".join([*lines, summary, "Work to do."]), 1
    return "\n".join([*lines, summary, "Everything passes its visible tests."]), 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.selfcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[Path("course")],
                        help="the course folder or week folders (default: course)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks run at once (default: 2)")
    options = parser.parse_args(argv)
    missing = [str(folder) for folder in options.folders if not folder.is_dir()]
    if missing:
        parser.error(f"no such folder: {', '.join(missing)}")
    notebooks = find_notebooks(options.folders)
    print(f"Running {len(notebooks)} notebooks, {options.jobs} at a time ...", flush=True)
    with ProcessPoolExecutor(max_workers=options.jobs) as pool:
        results = list(pool.map(run_notebook, map(str, notebooks)))
    text, status = report(results)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
