"""Answer banks: for each graded exercise, correct answers that must earn full points and
plausible wrong answers that must lose them. ``tests/test_answer_bank_week1.py`` ... run them
(with ``runner.py``).

Each week's module (``week1.py`` ...) holds ``EXERCISES``, keyed by the grade id of the
exercise's solution cell in ``solutions/<week>/assignment.ipynb``. An answer replaces that
whole cell, so it defines the function (or the variables) itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """The answers to one exercise, each a cell's source keyed by what it does differently."""

    correct: dict[str, str]
    wrong: dict[str, str]
    # Reference solution cells (grade ids) run again before each answer, for exercises that
    # change what an earlier exercise built (such as fine-tuning its trained model).
    rerun: tuple[str, ...] = ()
    # Code run before each answer, to reset what the exercise writes (such as a folder).
    before: str = ""


def concept(variable: str, *, correct: list[str], wrong: list[str]) -> Exercise:
    """The bank of a concept question: each answer is a Python literal assigned to ``variable``."""
    def answers(literals: list[str]) -> dict[str, str]:
        return {literal: f"{variable} = {literal}\n" for literal in literals}
    return Exercise(correct=answers(correct), wrong=answers(wrong))
