"""Build the student edition: ``python edition/build.py [OUTPUT]`` (``make student-edition``).

The edition is a folder to publish as its own repository or zip: the released notebooks
(``course/``), ``helpers``, the JupyterLab settings, ``venv.mk`` (the environment its Makefile
shares with the course's), the student README, Makefile and ``environment.yml`` from
``edition/``, and a ``pyproject.toml`` whose dependencies are the
course's own minus what only the grader needs. Never in it: ``solutions/``, hidden tests, the
grader, answer banks, the instructors' tests, held-out data or a gradebook. Before it is
written out, every file is scanned for the lines of every solution region and hidden-test
block in ``solutions/`` (`leaked_lines`); a match stops the build.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent
# Grader-only dependencies (the sandbox's process accounting, the report's HTML cleaning and
# similarity section).
INSTRUCTOR_ONLY = {"psutil", "bleach", "copydetect"}
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")
SECRET_BLOCKS = {"### BEGIN SOLUTION": "### END SOLUTION",
                 "### BEGIN HIDDEN TESTS": "### END HIDDEN TESTS"}


def _requirement_name(requirement: str) -> str:
    return requirement.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip()


def student_pyproject(source: Path = ROOT / "pyproject.toml") -> str:
    """The edition's ``pyproject.toml``: the course's dependencies without the grader's."""
    project = tomllib.loads(source.read_text())["project"]
    dependencies = [requirement for requirement in project["dependencies"]
                    if _requirement_name(requirement) not in INSTRUCTOR_ONLY]
    listed = "\n".join(f"    {json.dumps(requirement)}," for requirement in dependencies)
    return f"""[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "tf2-course-student"
version = {json.dumps(project["version"])}
description = "Student edition of a TensorFlow 2 / Keras 3 course: notebooks that check your answers as you go."
readme = "README.md"
license = "MIT"
requires-python = {json.dumps(project["requires-python"])}
dependencies = [
{listed}
]

[tool.setuptools]
packages = ["helpers", "helpers.checks"]

[tool.setuptools.package-data]
helpers = ["assets/*"]
"""


def secret_lines(solutions: Path = ROOT / "solutions") -> tuple[set[str], set[str]]:
    """The lines only answers hold, and those they share with ``helpers`` (which ships).

    A line is secret when it is inside a solution region, a hidden-test block or a written
    answer cell of a notebook in ``solutions/`` and nowhere in the rest of those notebooks
    (a line such as ``model.summary()`` in both an answer and a tutorial gives nothing away).
    Lines are compared stripped of surrounding whitespace.
    """
    inside, outside = set(), set()
    for path in sorted(solutions.glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            lines = "".join(cell["source"]).splitlines()
            if cell["cell_type"] == "markdown" and cell["metadata"].get("nbgrader", {}).get("solution"):
                inside.update(line.strip() for line in lines)
                continue
            end = None
            for line in lines:
                text = line.strip()
                if end is None and text in SECRET_BLOCKS:
                    end = SECRET_BLOCKS[text]
                elif text == end:
                    end = None
                elif text not in SECRET_BLOCKS.values():
                    (inside if end else outside).add(text)
    secret = {line for line in inside - outside if line}
    shipped = {line.strip() for path in (ROOT / "helpers").rglob("*.py") for line in path.read_text().splitlines()}
    return secret - shipped, secret & shipped


def _texts(path: Path) -> list[str]:
    """The lines of a file as a reader sees them: notebook cells and outputs, or plain text."""
    raw = path.read_bytes().decode("utf-8", errors="ignore")
    if path.suffix != ".ipynb":
        return raw.splitlines()
    lines = []
    for cell in json.loads(raw)["cells"]:
        lines += "".join(cell["source"]).splitlines()
        for output in cell.get("outputs", []):
            text = output.get("text", "") or json.dumps(output.get("data", {}))
            lines += ("".join(text) if isinstance(text, list) else text).splitlines()
    return lines


def leaked_lines(edition: Path, secret: set[str]) -> list[str]:
    """``file:line: text`` for every line of a file under ``edition`` that is a secret line."""
    found = []
    for path in sorted(p for p in edition.rglob("*") if p.is_file() and ".venv" not in p.parts):
        for number, line in enumerate(_texts(path), start=1):
            if line.strip() in secret:
                found.append(f"{path.relative_to(edition)}:{number}: {line.strip()}")
    return found


def build(output: Path) -> list[Path]:
    """Write the edition to ``output`` (replacing an earlier edition there); its files."""
    if output.exists() and not (output / "helpers" / "selfcheck.py").exists():
        raise SystemExit(f"{output} exists and is not a student edition: choose another folder")
    with tempfile.TemporaryDirectory(dir=output.parent if output.parent.exists() else None) as scratch:
        staging = Path(scratch) / "edition"
        shutil.copytree(ROOT / "course", staging / "course", ignore=IGNORED)
        shutil.copytree(ROOT / "helpers", staging / "helpers", ignore=IGNORED)
        (staging / "jupyterlab-settings").mkdir()
        shutil.copy(ROOT / "jupyterlab-settings" / "overrides.json", staging / "jupyterlab-settings")
        shutil.copy(TEMPLATES / "page_config.json", staging / "jupyterlab-settings")
        for name in ("README.md", "Makefile", "environment.yml"):
            shutil.copy(TEMPLATES / name, staging / name)
        shutil.copy(ROOT / "venv.mk", staging)  # the Python environment both Makefiles share
        (staging / "pyproject.toml").write_text(student_pyproject())
        (staging / ".gitignore").write_text(".venv/\n__pycache__/\n*.egg-info/\n.ipynb_checkpoints/\n.selfcheck-cache.json\n")
        secret, _ = secret_lines()
        leaks = leaked_lines(staging, secret)
        if leaks:
            raise SystemExit("the edition would hold answers or hidden tests; not written:\n"
                             + "\n".join(leaks[:20]))
        shutil.rmtree(output, ignore_errors=True)
        shutil.move(staging, output)
    return sorted(p for p in output.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python edition/build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, nargs="?", default=ROOT / "student-edition")
    options = parser.parse_args(argv)
    files = build(options.output.resolve())
    size = sum(path.stat().st_size for path in files)
    secret, shared = secret_lines()
    print(f"wrote {options.output}: {len(files)} files, {size / 2**20:.1f} MiB; none of the "
          f"{len(secret)} lines only answers and hidden tests hold appears in it "
          f"({len(shared)} more are shared with helpers, which ships)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
