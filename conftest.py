"""Shared test set-up: quiet TensorFlow, draw figures without a screen, and hand the
two pytest workers of `make test` (``--dist loadgroup``) work units, heaviest first."""

import os
import re

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

# Seconds each work unit took in `make test` on a 2-core machine (pytest --durations,
# 2026-12-03, both workers busy). Only the order they start in depends on these numbers:
# the longest first, so that no long unit starts last and leaves one worker idle. Units not
# named here are short and go after them.
UNIT_SECONDS = {
    "tests/test_student_edition.py": 800, "tests/test_hostile_grading.py": 750,
    "tests/test_postgres_gradebook.py": 600, "tests/test_peeking_grading.py": 300,
    "tests/test_classroom_exchange.py": 300, "tests/test_answer_banks.py[week6]": 245,
    "tests/test_answer_banks.py[week2]": 230, "tests/test_capstone_grading.py": 230,
    "tests/test_class_report.py": 220, "tests/test_install_matrix.py": 210,
    "tests/test_lms_import.py": 195, "tests/test_browser.py": 160,
    "tests/test_answer_banks.py[week3]": 150, "tests/test_cluster_grading.py": 150,
    "tests/test_grading.py[week4_transfer]": 145, "tests/test_answer_banks.py[week4]": 120,
    "tests/test_answer_banks.py[week1]": 115, "tests/test_grading.py[week5_weights]": 105,
    "tests/test_grading.py[week2_validation]": 105, "tests/test_grading.py[week3_saving]": 90,
    "solutions/week2_validation/tutorial_1_regularisation.ipynb": 85,
}


def work_unit(item: pytest.Item) -> str:
    """The tests that must share a worker: a module (its fixtures are made once per
    worker), or one week of a module whose fixtures are made per week."""
    path = item.nodeid.split("::")[0]
    if path == "tests/test_answer_banks.py":  # ids start with the exercise: w6_build_dense-...
        week = re.search(r"\[(?:w|week)(\d)", item.nodeid)
        return f"{path}[week{week.group(1)}]" if week else path
    if path == "tests/test_grading.py":  # its class is graded once per week
        week = re.search(r"\[(week\d_[a-z]+)\]", item.nodeid)
        return f"{path}[{week.group(1)}]" if week else path
    return path


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(work_unit(item)))
    items.sort(key=lambda item: -UNIT_SECONDS.get(work_unit(item), 0))
