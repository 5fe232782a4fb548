"""Check your own work: ``python -m helpers.selfcheck [course/week1_sequential ...]``.

Runs every tutorial and every assignment of the course (or of the weeks named) from a fresh
kernel, as the Validate button does, and lists each exercise as passing, still open or
failing, with the first line of what its visible test said. Your notebooks are not changed:
each week runs in a temporary copy of its folder. A notebook that ran before, and whose week
folder and ``helpers`` have not changed since, is not run again: its result is read from
``.selfcheck-cache.json`` (``--fresh`` runs everything). Grading runs more tests than these,
so a passing list is a good sign, not a grade.

Exit status: 0 when every exercise passes, 1 when there is work to do, 2 when a notebook
could not be run at all (a tutorial that fails, a kernel that died, a cell over the time
limit).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

PASSES, OPEN, FAILS, BY_HAND = "passes", "open", "fails", "graded by your instructor"
CELL_TIMEOUT = 300  # seconds; the slowest cell of the course takes about 30
UNANSWERED = ("raise NotImplementedError()", "YOUR ANSWER HERE")
EXERCISE = re.compile(r"^#{2,4}\s+(.+)$", re.MULTILINE)
CACHE = ".selfcheck-cache.json"
HELPERS = Path(__file__).resolve().parent


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
    cached: bool = False  # read from the cache, not run this time

    @classmethod
    def from_json(cls, data: dict) -> NotebookResult:
        return cls(**{**data, "exercises": tuple(Exercise(**e) for e in data["exercises"])})


@dataclass
class _Pending:
    title: str = ""
    unanswered: bool = False


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
            # "immediate": once the last cell has run, the kernel is stopped rather than
            # asked to exit, which takes a kernel that imported TensorFlow 2-3 s.
            NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                           allow_errors=is_assignment, shutdown_kernel="immediate",
                           resources={"metadata": {"path": str(folder)}},
                           ).execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up notices
        except Exception as error:  # a failing tutorial cell, a dead kernel, a timeout
            summary = str(error).strip().splitlines()
            message = f"{type(error).__name__}: {summary[-1] if summary else ''}"
            return NotebookResult(path, time.perf_counter() - start, error=message[:300])
    exercises = read_exercises(notebook) if is_assignment else ()
    return NotebookResult(path, time.perf_counter() - start, exercises)


def content_key(notebook: Path) -> str:
    """A digest of everything a fresh run of ``notebook`` reads: the notebook, the other
    files of its folder (not other notebooks) and ``helpers``."""
    digest = hashlib.sha256()
    files = [notebook, *(p for p in sorted(notebook.parent.rglob("*"))
                         if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts),
             *(p for p in sorted(HELPERS.rglob("*")) if p.is_file() and "__pycache__" not in p.parts)]
    for path in files:
        digest.update(str(path.relative_to(notebook.parent if path.is_relative_to(notebook.parent)
                                           else HELPERS)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def read_cache(path: Path) -> dict[str, dict]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def find_notebooks(roots: list[Path]) -> list[Path]:
    """The notebooks of each week folder under ``roots``, tutorials first."""
    notebooks = []
    for root in roots:
        weeks = [root] if list(root.glob("*.ipynb")) else sorted(p for p in root.iterdir() if p.is_dir())
        for week in weeks:
            found = sorted(week.glob("*.ipynb"), key=lambda p: (p.stem == "assignment", p.name))
            notebooks.extend(found)
    return notebooks


def _took(result: NotebookResult) -> str:
    return "unchanged, not run again" if result.cached else f"{result.seconds:.0f} s"


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
            lines.append(f"  {path.name:<34} runs ({_took(result)})")
        else:
            lines.append(f"  {path.name} ({_took(result)})")
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
    parser.add_argument("--fresh", action="store_true", help="run every notebook, even unchanged ones")
    options = parser.parse_args(argv)
    missing = [str(folder) for folder in options.folders if not folder.is_dir()]
    if missing:
        parser.error(f"no such folder: {', '.join(missing)}")
    notebooks = find_notebooks(options.folders)
    cache = {} if options.fresh else read_cache(Path(CACHE))
    keys = {str(notebook): content_key(notebook) for notebook in notebooks}
    known = {path: replace(NotebookResult.from_json(cache[key]), path=path, cached=True)
             for path, key in keys.items() if key in cache}
    to_run = [path for path in keys if path not in known]
    print(f"Running {len(to_run)} of {len(notebooks)} notebooks ({len(known)} unchanged since "
          f"they last ran), {options.jobs} at a time ...", flush=True)
    if to_run:
        with ProcessPoolExecutor(max_workers=options.jobs) as pool:
            known.update(zip(to_run, pool.map(run_notebook, to_run)))
    results = [known[path] for path in keys]
    cache.update({keys[r.path]: asdict(r) for r in results if not r.error and not r.cached})
    try:
        Path(CACHE).write_text(json.dumps(cache))
    except OSError:
        pass  # a read-only folder: nothing is cached
    text, status = report(results)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
