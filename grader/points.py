"""The one reader of the points each graded cell carries, as nbgrader counts them."""

from __future__ import annotations

from collections.abc import Mapping


def cell_points(notebook: Mapping) -> dict[str, float]:
    """Points of each graded cell of ``notebook`` (parsed JSON or nbformat), by grade id.

    >>> cell_points({"cells": [{"metadata": {"nbgrader": {"grade": True, "grade_id": "t1",
    ...     "points": 2}}}, {"metadata": {"nbgrader": {"solution": True, "grade_id": "a1"}}}]})
    {'t1': 2.0}
    """
    found = {}
    for cell in notebook["cells"]:
        nbgrader = cell.get("metadata", {}).get("nbgrader", {})
        if nbgrader.get("grade"):
            found[nbgrader["grade_id"]] = float(nbgrader.get("points", 0))
    return found
