"""Fixtures shared by the tests (the tools they share with the benchmark: grader.course_copy)."""

from __future__ import annotations

import os

import pytest

from grader.jail import why_no_bwrap


@pytest.fixture(scope="session")
def bwrap() -> None:
    """Skip a test that needs the bubblewrap sandbox where it cannot run; under CI, fail."""
    reason = why_no_bwrap()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the sandboxed tests, but {reason}")
    if reason:
        pytest.skip(reason)
