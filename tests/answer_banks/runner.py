"""Running a week's answer bank against its real test cells (visible and hidden tests).

For each week one kernel runs the assignment's Setup, then, exercise by exercise, each
banked answer in place of the solution cell, the cells between it and its test cell, and
the test cell with its hidden tests. A correct answer must pass the test cell; a wrong one
must make it fail. After an exercise's answers the reference solution runs again (and must
pass), so the next exercise builds on the notebook's own state. Scoring through nbgrader
itself is proven by test_grading.py and test_hostile_grading.py.

Each week has its own test module (tests/test_answer_bank_week1.py ...), made by
``bank_tests``, so that the pytest workers share the weeks.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel

from answer_banks import Exercise
from testkit.course import ROOT, grade_id

HIDDEN_MARKERS = re.compile(r"^\s*### (BEGIN|END) HIDDEN TESTS\s*$", re.MULTILINE)
CELL_TIMEOUT = 900  # seconds; generous, since a loaded machine is slow


@dataclass
class Outcome:
    answer_error: str = ""  # the answer cell itself failed: a bug in the bank
    test_error: str = ""  # the test cell failed: the answer loses the exercise's points


@dataclass
class Plan:
    """The assignment's code cells, grouped the way the bank runs them."""

    setup: list[str]
    solutions: dict[str, str]  # grade id -> reference source
    between: dict[str, list[str]]  # cells between a solution and its test
    tests: dict[str, str]  # grade id of the solution -> test source, hidden tests included
    after: dict[str, list[str]]  # cells after the test, up to the next exercise


def read_plan(week: str) -> Plan:
    notebook = nbformat.read(ROOT / "solutions" / week / "assignment.ipynb", as_version=4)
    plan, current = Plan([], {}, {}, {}, {}), None
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            current = grade_id(cell)
            plan.solutions[current], plan.between[current], plan.after[current] = cell.source, [], []
        elif meta.get("grade"):
            plan.tests[current] = HIDDEN_MARKERS.sub("", cell.source)
        elif current is None:
            plan.setup.append(cell.source)
        else:
            (plan.after if current in plan.tests else plan.between)[current].append(cell.source)
    return plan


def bound_names(*sources: str) -> list[str]:
    """Names a cell binds at top level, so a failed answer cannot leave an old value behind."""
    names = set()
    for source in sources:
        for node in ast.parse(source).body:
            targets = {ast.Assign: lambda n: n.targets, ast.AugAssign: lambda n: [n.target],
                       ast.AnnAssign: lambda n: [n.target]}.get(type(node))
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            for target in targets(node) if targets else []:
                names.update(name.id for name in ast.walk(target) if isinstance(name, ast.Name))
    return sorted(names)


class Kernel:
    """One IPython kernel, running cells and reporting the first error."""

    def __init__(self, folder: Path) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=str(folder))

    def run(self, source: str) -> str:
        """Run ``source``; return "" or the error as ``Name: message``."""
        reply = self.client.execute_interactive(source, timeout=CELL_TIMEOUT,
                                                output_hook=lambda message: None)
        content = reply["content"]
        if content["status"] == "ok":
            return ""
        return f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def run_answer(kernel: Kernel, plan: Plan, name: str, exercise: Exercise, source: str) -> Outcome:
    forget = bound_names(plan.solutions[name], *plan.between[name])
    kernel.run(f"for _name in {forget!r}:\n    globals().pop(_name, None)")
    for earlier in exercise.rerun:
        error = kernel.run(plan.solutions[earlier])
        if error:
            raise RuntimeError(f"reference solution {earlier} failed before {name}: {error}")
    if exercise.before and (error := kernel.run(exercise.before)):
        raise RuntimeError(f"the bank's set-up for {name} failed: {error}")
    outcome = Outcome(answer_error=kernel.run(source))
    for cell in plan.between[name]:
        kernel.run(cell)  # may fail for a wrong answer; the test cell then fails too
    outcome.test_error = kernel.run(plan.tests[name])
    return outcome


def run_bank(week: str, folder: Path) -> dict[tuple[str, str, str], Outcome]:
    """Run every answer of ``week``'s bank in one kernel; key: (exercise, kind, label)."""
    plan, bank = read_plan(week), bank_of(week)
    kernel, results = Kernel(folder), {}
    try:
        for cell in plan.setup:
            if error := kernel.run(cell):
                raise RuntimeError(f"{week} set-up failed: {error}")
        for name in plan.solutions:
            exercise = bank[name]
            for kind in ("correct", "wrong"):
                for label, source in getattr(exercise, kind).items():
                    results[name, kind, label] = run_answer(kernel, plan, name, exercise, source)
            reference = run_answer(kernel, plan, name, exercise, plan.solutions[name])
            if reference.answer_error or reference.test_error:
                raise RuntimeError(f"the reference solution of {name} fails its test: "
                                   f"{reference.answer_error or reference.test_error}")
            for cell in plan.after[name]:
                if error := kernel.run(cell):
                    raise RuntimeError(f"a cell after {name}'s test failed: {error}")
    finally:
        kernel.close()
    return results


def bank_of(week: str) -> dict[str, Exercise]:
    return importlib.import_module(f"answer_banks.{week.split('_')[0]}").EXERCISES


def bank_tests(week: str):
    """The fixture and tests of ``week``'s bank, for its module to bind under these names;
    the answers run once per module, in one kernel."""
    bank = bank_of(week)

    @pytest.fixture(scope="module")
    def outcomes(tmp_path_factory):
        return run_bank(week, tmp_path_factory.mktemp(f"bank-{week}"))

    def cases(kind: str) -> list:
        return [pytest.param(name, label, id=f"{name}-{label}")
                for name, exercise in bank.items() for label in getattr(exercise, kind)]

    def test_every_exercise_has_a_full_bank():
        plan = read_plan(week)
        assert sorted(bank) == sorted(plan.solutions), "bank and notebook name different exercises"
        assert sorted(plan.tests) == sorted(plan.solutions), "an exercise has no test cell"
        thin = {name: (len(e.correct), len(e.wrong)) for name, e in bank.items()
                if len(e.correct) < 2 or len(e.wrong) < 3}
        assert not thin, f"want at least 2 correct and 3 wrong answers each, got {thin}"

    @pytest.mark.parametrize("exercise, label", cases("correct"))
    def test_correct_answer_gets_full_points(outcomes, exercise, label):
        outcome = outcomes[exercise, "correct", label]
        assert not outcome.answer_error, f"the banked answer itself fails: {outcome.answer_error}"
        assert not outcome.test_error, f"a correct answer loses points: {outcome.test_error}"

    @pytest.mark.parametrize("exercise, label", cases("wrong"))
    def test_wrong_answer_loses_points(outcomes, exercise, label):
        outcome = outcomes[exercise, "wrong", label]
        assert not outcome.answer_error, f"the banked answer itself fails: {outcome.answer_error}"
        assert outcome.test_error, "a wrong answer earns full points"

    return (outcomes, test_every_exercise_has_a_full_bank, test_correct_answer_gets_full_points,
            test_wrong_answer_loses_points)
