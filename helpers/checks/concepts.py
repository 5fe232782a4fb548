"""Concept questions, answered in the notebook and checked against a sealed digest."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import numpy as np

from helpers.checks._base import _fail, _plain, _short_repr


# Concept questions. The visible test of a concept question must not show its answer, so it
# holds a digest of the answer and the explanation sealed with the answer as the key: the
# student gets the explanation once the answer is right. A four-letter choice can still be
# found by trying each letter; the seal keeps the answer off the page, not out of reach.
CONCEPT_KINDS = ("letter", "integer", "shape")


def _canonical(answer: Any, kind: str, exercise: str) -> str:
    """The answer written one way per value, or an AssertionError saying what was expected."""
    name = f"the answer to {exercise}"
    answer = _plain(answer, name)  # from here on, no code of the notebook runs
    if kind == "letter":
        if type(answer) is not str or len(answer.strip()) != 1 or not answer.strip().isalpha():
            _fail(name, "one letter such as \"B\"", _short_repr(answer))
        return answer.strip().upper()
    if kind == "integer":
        if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, np.integer)):
            _fail(name, "a whole number such as 1024 (an int)", _short_repr(answer))
        return str(int(answer))
    if kind == "shape":
        entries = list(answer) if isinstance(answer, (tuple, list)) else None
        if entries is None or not all(entry is None or (isinstance(entry, (int, np.integer))
                                                        and not isinstance(entry, bool))
                                      for entry in entries):
            _fail(name, "a tuple of ints (None for the batch axis), such as (None, 26, 26, 8)",
                  _short_repr(answer))
        return repr(tuple(None if entry is None else int(entry) for entry in entries))
    raise ValueError(f"kind must be one of {CONCEPT_KINDS}, got {kind!r}")


def _digest(question: str, canonical: str) -> str:
    return hashlib.sha256(f"digest|{question}|{canonical}".encode()).hexdigest()[:24]


def _keystream(question: str, canonical: str, length: int) -> bytes:
    blocks = (hashlib.sha256(f"seal|{question}|{canonical}|{index}".encode()).digest()
              for index in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def seal_concept(question: str, answer: Any, *, kind: str, explanation: str) -> dict[str, str]:
    """Make the ``digest`` and ``sealed`` arguments of :func:`check_concept` (for authors).

    Parameters
    ----------
    question : str
        The question's grade id, such as ``"w2_concept_curve"``.
    answer : object
        The right answer.
    kind : {"letter", "integer", "shape"}
        How answers are read: one letter (any case, spaces ignored), a whole number, or a
        shape as a tuple or list of ints and ``None``.
    explanation : str
        Why the answer is right, shown to the student once they give it.

    Returns
    -------
    dict
        ``{"digest": ..., "sealed": ...}``, to paste into the test cell.

    Examples
    --------
    >>> seal = seal_concept("demo", "b", kind="letter", explanation="Because.")
    >>> check_concept("B", question="demo", exercise="Exercise 1", kind="letter", hint="", **seal)
    Right. Because.
    """
    canonical = _canonical(answer, kind, question)
    text = explanation.encode()
    sealed = bytes(a ^ b for a, b in zip(text, _keystream(question, canonical, len(text))))
    return {"digest": _digest(question, canonical), "sealed": base64.b64encode(sealed).decode()}


def check_concept(answer: Any, *, question: str, exercise: str, kind: str, digest: str,
                  sealed: str, hint: str) -> None:
    """Check the answer to a concept question; when it is right, print why.

    Parameters
    ----------
    answer : object
        The student's answer: a letter, a whole number or a shape, as ``kind`` says.
    question : str
        The question's grade id, the key of its seal.
    exercise : str
        The exercise as the notebook numbers it, such as ``"Exercise 10"``; messages name it.
    kind : {"letter", "integer", "shape"}
        How the answer is read (see :func:`seal_concept`).
    digest : str
        The right answer's digest, from :func:`seal_concept`.
    sealed : str
        The explanation, sealed with the right answer, from :func:`seal_concept`.
    hint : str
        How to reason towards the answer, shown when the answer is wrong.

    Raises
    ------
    AssertionError
        If the answer has the wrong form or is not the right one.

    Examples
    --------
    >>> seal = seal_concept("demo", (None, 4), kind="shape", explanation="Four units.")
    >>> check_concept([None, 4], question="demo", exercise="Exercise 3", kind="shape", hint="",
    ...               **seal)
    Right. Four units.
    >>> check_concept((None, 5), question="demo", exercise="Exercise 3", kind="shape",
    ...               hint="Count the units.", **seal)
    Traceback (most recent call last):
    ...
    AssertionError: (None, 5) is not the answer to Exercise 3. Count the units.
    """
    canonical = _canonical(answer, kind, exercise)
    if _digest(question, canonical) != digest:
        raise AssertionError(f"{canonical if kind != 'letter' else repr(canonical)} is not the "
                             f"answer to {exercise}. {hint}".strip())
    text = base64.b64decode(sealed)
    explanation = bytes(a ^ b for a, b in zip(text, _keystream(question, canonical, len(text))))
    print(f"Right. {explanation.decode()}")
