"""Read what a student submitted, without trusting any of it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import parse_utc

MAX_FILE_BYTES = 512 * 2**20  # the largest file the grader reads at all
MAX_NOTEBOOK_BYTES = 50 * 2**20  # the largest notebook graded, once its outputs are cleared
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")


@dataclass
class Submission:
    """The graded notebooks a student handed in, and what was wrong with the rest."""

    student: str
    notebooks: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # notebook name -> why not graded
    notes: list[str] = field(default_factory=list)
    timestamp: str = ""
    secret: str = ""  # nbgrader's submission_secret.txt


def is_student_id(name: str) -> bool:
    """Whether a folder name under submitted/ can be a student id."""
    return STUDENT_ID.fullmatch(name) is not None


def _mib(size: int) -> str:
    return f"{size / 2**20:.0f} MiB"


def parse_notebook(data: bytes) -> tuple[nbformat.NotebookNode | None, str]:
    """Return ``(notebook, "")``, or ``(None, "is not a valid notebook (why)")``."""
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # a submission can be anything: report it, never crash
        summary = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        return None, f"is not a valid notebook ({type(error).__name__}: {summary})"
    return notebook, ""


def read_notebook(path: Path, clear_outputs: bool = True) -> tuple[nbformat.NotebookNode | None, str]:
    """Return ``(notebook, "")``, or ``(None, why it cannot be graded)``.

    Outputs are cleared (grading runs the notebook again), and the size limit applies to
    what is left; ``clear_outputs=False`` reads an executed notebook as it is.
    """
    if path.is_symlink() or not path.is_file():
        return None, f"{path.name} is not a regular file"
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return None, f"{path.name} is {_mib(size)}, over the {_mib(MAX_FILE_BYTES)} the grader reads"
    notebook, problem = parse_notebook(path.read_bytes())
    if notebook is None:
        return None, f"{path.name} {problem}"
    if clear_outputs:
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        graded_size = len(nbformat.writes(notebook).encode())
        if graded_size > MAX_NOTEBOOK_BYTES:
            return None, (f"{path.name} is {_mib(graded_size)} without its outputs, over the "
                          f"{_mib(MAX_NOTEBOOK_BYTES)} limit")
    return notebook, ""


def read_submission(folder: Path, graded: list[str], released: Iterable[str] = ()) -> Submission:
    """Read ``folder`` (``submitted/<student>/<assignment>``), expecting the ``graded`` notebooks;
    the other files of the release (``released``, such as tutorials) are not graded."""
    submission = Submission(student=folder.parent.name)
    present = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
    for name in graded:
        path = folder / f"{name}.ipynb"
        if f"{name}.ipynb" not in present:
            others = [other for other in present if other.endswith(".ipynb")]
            hint = f" (found {', '.join(others)}: rename it and grade again)" if others else ""
            submission.problems[name] = f"{name}.ipynb is missing{hint}"
            continue
        notebook, problem = read_notebook(path)
        if notebook is None:
            submission.problems[name] = problem
        else:
            submission.notebooks[name] = notebook
    expected = {f"{name}.ipynb" for name in graded} | set(released) | set(EXCHANGE_FILES)
    extra = [name for name in present if name not in expected]
    if extra:
        submission.notes.append(f"ignored {', '.join(extra)}")
    submission.timestamp = _exchange_file(folder / "timestamp.txt", submission.notes)
    submission.secret = _exchange_file(folder / "submission_secret.txt", submission.notes)
    return submission


def _is_timestamp(text: str) -> bool:
    return parse_utc(text) is not None


# Files nbgrader's exchange puts beside the notebooks (`nbgrader submit`, then `collect`):
# the submission time, for late penalties, and the key `release_feedback` files feedback under.
EXCHANGE_FILES = {"timestamp.txt": _is_timestamp,
                  "submission_secret.txt": re.compile(r"[0-9a-f]{16,256}").fullmatch}


def _exchange_file(path: Path, notes: list[str]) -> str:
    """The text of an exchange file, if it is there and looks as nbgrader writes it."""
    if not path.exists() and not path.is_symlink():
        return ""
    try:
        if path.is_symlink() or not path.is_file():
            raise ValueError("not a regular file")
        with open(path, "rb") as handle:
            text = handle.read(300).decode("utf-8").strip()
        if not EXCHANGE_FILES[path.name](text):
            raise ValueError(f"not a valid {path.name}")
    except Exception:
        notes.append(f"ignored an unreadable {path.name}")
        return ""
    return text
