"""What the checks share: how a failure is worded, and which values and classes they trust."""

from __future__ import annotations

from typing import Any

import numpy as np


def _fail(what: str, want: Any, got: Any, hint: str = "") -> None:
    message = f"{what}: want {want}, got {got}."
    raise AssertionError(f"{message} {hint}".strip())


def _a(noun: str) -> str:
    """``noun`` with its indefinite article: "a float", "an int", "an ndarray" (said "en-dee")."""
    vowel_sound = noun[:1].lower() in "aeiou" or noun.startswith("nd")
    return f"{'an' if vowel_sound else 'a'} {noun}"


def _short_repr(value: Any, limit: int = 60) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


# Values compared with == or numbers: a subclass could redefine how it compares.
_VALUE_TYPES = (bool, int, float, complex, str, bytes, np.ndarray, np.generic)


_PLAIN_SCALARS = (bool, int, float, complex, str, bytes, type(None))
# Whose classes the checks may call into; a class written in the notebook could run code
# that reads the test (its frames, its source) while a check holds the expected value.
_TRUSTED_LIBRARIES = ("builtins", "numpy", "keras", "tensorflow")


def _plain(value: Any, name: str) -> Any:
    """``value`` as plain data (TensorFlow tensors become arrays), checked by type alone.

    Plain data holds only Python's own numbers, strings, None, lists, tuples and dicts, and
    NumPy's arrays (not of objects) and scalars, so reading or comparing it runs no code of
    the notebook. Anything else fails before a check compares it with what it wants.
    """
    kind = type(value)
    if kind in _PLAIN_SCALARS or (isinstance(value, np.generic) and _is_plain(value)):
        return value
    if kind is np.ndarray and value.dtype.kind != "O":
        return value
    if kind in (list, tuple):
        return kind(_plain(item, name) for item in value)
    if kind is dict:
        return {_plain(key, name): _plain(item, name) for key, item in value.items()}
    if kind.__module__.startswith("tensorflow") and hasattr(kind, "numpy"):
        return _plain(value.numpy(), name)
    _fail(name, "plain data (numbers, strings, lists, tuples, dicts or NumPy arrays)",
          f"{_a(kind.__name__)}, a type {_origin(kind)}", "Return built-in values or NumPy arrays.")


def _origin(kind: type) -> str:
    """Where a type was written, as a message says it: the notebook, or its module."""
    return "defined in the notebook" if kind.__module__ == "__main__" else f"from {kind.__module__}"


def plain(value: Any, *, name: str = "value") -> Any:
    """Return an answer as plain data, read by its type alone; tests call it first.

    A hidden test calls the student's code, passes the result through ``plain`` and only
    then computes what it expects: code that runs later can no longer change the answer,
    and no code of the answer's own type ever runs while the expectation exists.

    Parameters
    ----------
    value : object
        What the student's code returned.
    name : str, default 'value'
        What it is, as the message should call it.

    Returns
    -------
    object
        ``value``, with TensorFlow tensors converted to NumPy arrays.

    Raises
    ------
    AssertionError
        If ``value`` holds anything but Python's numbers, strings, None, lists, tuples and
        dicts, and NumPy arrays and scalars (a subclass written in the notebook included).

    Examples
    --------
    >>> plain([1, (2.5, "a")], name="pairs")
    [1, (2.5, 'a')]
    >>> class Sly(int):
    ...     pass
    >>> Sly.__module__ = "__main__"  # as for a class written in a notebook
    >>> plain(Sly(3), name="count")
    Traceback (most recent call last):
    ...
    AssertionError: count: want plain data (numbers, strings, lists, tuples, dicts or NumPy \
arrays), got a Sly, a type defined in the notebook. Return built-in values or NumPy arrays.
    """
    return _plain(value, name)


def _library_object(obj: Any, name: str, what: str = "an object") -> None:
    """Fail unless ``obj``'s class comes from Keras, TensorFlow, NumPy or Python."""
    if type(obj).__module__.split(".")[0] not in _TRUSTED_LIBRARIES:
        _fail(name, f"{what} of Keras's own classes",
              f"{_a(type(obj).__name__)}, a class {_origin(type(obj))}",
              "Use Keras's classes as they are; the checks do not run code written here.")


def _library_model(model: Any, name: str) -> None:
    """Fail unless the model and every layer in it (nested ones too) are Keras's own classes."""
    _library_object(model, name, "a model")
    pending = list(getattr(model, "layers", []))
    while pending:
        layer = pending.pop()
        _library_object(layer, f"{name}'s layer {getattr(layer, 'name', '')!r}".replace(" ''", ""),
                        "a layer")
        pending += list(getattr(layer, "layers", []))


def _is_plain(obj: Any) -> bool:
    """Whether ``obj``'s type comes from Python or NumPy, not from the notebook."""
    return type(obj).__module__.split(".")[0] in ("builtins", "numpy")


def _plain_equal(got: Any, want: Any) -> bool:
    """Compare with the reference value's own rules, recursing into containers."""
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        return (isinstance(got, (np.ndarray, list, tuple)) and np.shape(got) == np.shape(want)
                and bool(np.array_equal(np.asarray(got), np.asarray(want))))
    if not _is_plain(got):
        return False
    if isinstance(want, dict):
        return (isinstance(got, dict) and set(got) == set(want)
                and all(_plain_equal(got[key], want[key]) for key in want))
    if isinstance(want, (list, tuple)):
        return (type(got) is type(want) and len(got) == len(want)
                and all(_plain_equal(g, w) for g, w in zip(got, want)))
    return bool(want == got) and not isinstance(got, (list, tuple, dict))

