"""Shared test set-up: quiet TensorFlow on the grader's threads, and figures without a screen."""

import os

from grader.sandbox import TENSORFLOW_THREADS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
# Every kernel a test starts (nbval's, the answer banks') computes as the grader's kernels do.
for name, value in TENSORFLOW_THREADS.items():
    os.environ.setdefault(name, value)


def pytest_configure(config):
    """Hidden tests in solutions/ read the data only the grader has from GRADER_DATA: the
    course's own, written first if missing (grader.heldout)."""
    from pathlib import Path

    from grader.heldout import course_data
    from grader.jail import DATA_VARIABLE

    if DATA_VARIABLE not in os.environ:  # xdist's workers inherit the controller's
        os.environ[DATA_VARIABLE] = str(course_data(Path(__file__).parent))

# make test hands whole modules (and notebooks) to its workers in collection order
# (--dist loadfile --no-loadscope-reorder): the longest go first, so that none starts last
# and keeps one worker busy alone at the end. Ordered by each module's summed test time in
# `make test` (four workers, 2026-12-03); modules not named keep pytest's order, after these.
LONGEST_FIRST = [
    "tests/test_hostile_grading.py", "tests/test_postgres_gradebook.py",
    "tests/test_student_edition.py", "tests/test_grading.py", "tests/test_classroom_exchange.py",
    "tests/test_peeking_grading.py", "tests/test_answer_bank_week2.py",
    "tests/test_answer_bank_week6.py", "tests/test_browser.py", "tests/test_cluster_grading.py",
    "tests/test_hub_class.py", "tests/test_answer_bank_week1.py", "tests/test_capstone_grading.py",
    "tests/test_lms_import.py", "tests/test_answer_bank_week4.py",
    "tests/test_answer_bank_week3.py", "tests/test_week1_class.py",
    "tests/test_install_matrix.py", "tests/test_class_report.py",
    "solutions/week2_validation/tutorial_1_regularisation.ipynb",
]


def pytest_collection_modifyitems(items):
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
