"""Time the course on this machine and print a table (run with `make bench`).

For each solution notebook: wall time from a fresh kernel and the kernel's peak memory,
beside the floor that every notebook pays (kernel start plus `import tensorflow`). Then the
time `python -m grader` takes to grade one submission of each assignment. With --install, also
the time of a fresh install into an empty virtual environment.

Targets (DESIGN.md, issue 2): each notebook <= 60 s, the whole course <= 6 min,
autograding one submission <= 30 s, a fresh install <= 3 min.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
FLOOR_SOURCE = "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nimport tensorflow as tf"


def execute_in_child(notebook: Path) -> dict:
    """Run one notebook in a child process; return its seconds and its kernel's peak MiB."""
    output = subprocess.run([sys.executable, __file__, "--one", str(notebook)], check=True,
                            capture_output=True, text=True, cwd=notebook.parent).stdout
    return json.loads(output.strip().splitlines()[-1])


def execute_here(notebook: Path) -> None:
    """Child side: execute, then print seconds and the kernel's (a waited-for child) peak RSS."""
    if notebook.name == "floor":
        node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_SOURCE)])
        node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    else:
        node = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    NotebookClient(node, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(Path.cwd())}}).execute()
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))


def time_grading(week: str) -> tuple[float, float]:
    """Seconds `python -m grader` takes for one submission (the solution) of ``week``: in its
    sandbox, and for the whole run (registering, backing up, recording, feedback, export)."""
    from conftest import make_course_copy

    with tempfile.TemporaryDirectory() as folder:
        course = make_course_copy(Path(folder), [week])
        submitted = course / "submitted" / "student" / week
        submitted.mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / week / "assignment.ipynb", submitted)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", week, "--root", str(course)],
                       check=True, capture_output=True)
        total = time.perf_counter() - start
        with open(course / f"grading-summary-{week}.csv", newline="") as handle:
            row = next(csv.DictReader(handle))
        return float(row["seconds"]), total


def time_install() -> float:
    """Seconds to create a virtual environment and install the course with its dev extra."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", folder], check=True)
        subprocess.run([f"{folder}/bin/pip", "install", "--quiet", f"{ROOT}[dev]"], check=True)
        seconds = time.perf_counter() - start
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools builds in the source tree
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="also time a fresh install")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        execute_here(args.one)
        return

    floor = execute_in_child(Path("floor"))
    print(f"{'notebook':45} {'seconds':>8} {'over floor':>10} {'peak MiB':>9}")
    print(f"{'(kernel start + import tensorflow)':45} {floor['seconds']:8.1f} {'':>10} "
          f"{floor['peak_mib']:9.0f}")
    total = 0.0
    for notebook in sorted((ROOT / "solutions").glob("week*/*.ipynb")):
        result = execute_in_child(notebook)
        total += result["seconds"]
        flag = "" if result["seconds"] <= 60 else "  OVER 60 s"
        print(f"{str(notebook.relative_to(ROOT / 'solutions')):45} {result['seconds']:8.1f} "
              f"{result['seconds'] - floor['seconds']:10.1f} {result['peak_mib']:9.0f}{flag}")
    print(f"{'whole course (target 360 s)':45} {total:8.1f}")
    print()
    for week in sorted(path.name for path in (ROOT / "solutions").glob("week*")):
        sandbox, total = time_grading(week)
        print(f"grade one submission of {week:26} {sandbox:8.1f} s in its sandbox, "
              f"{total:.1f} s for the run (target 30 s)")
    if args.install:
        print(f"fresh install into an empty venv{'':14} {time_install():8.1f} s (target 180 s)")


if __name__ == "__main__":
    main()
