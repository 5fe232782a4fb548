"""Checks of values: types, equality, yes-or-no facts, errors, shapes, dtypes, ranges,
closeness, minimums."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.checks._base import (_VALUE_TYPES, _a, _fail, _is_plain, _origin, _plain,
                                  _plain_equal, _short_repr)


def check_type(obj: Any, expected: type | tuple[type, ...], *, name: str = "value",
               hint: str = "") -> None:
    """Check that ``obj`` is an instance of ``expected``.

    For numbers, strings and arrays the type must be a plain one (from Python or NumPy),
    not a subclass written in the notebook, which could make any comparison pass.

    Parameters
    ----------
    obj : object
        The value to check.
    expected : type or tuple of type
        The accepted type or types.
    name : str, default 'value'
        What is checked, as the message should call it.
    hint : str, default ""
        A sentence appended to the message, saying how to fix the mistake.

    Raises
    ------
    AssertionError
        If ``obj`` has another type, or is a value type defined outside Python and NumPy.

    Examples
    --------
    >>> check_type([1], list, name="labels")
    >>> check_type(np.float64(0.5), float, name="scale")
    >>> check_type(3, str, name="label")
    Traceback (most recent call last):
    ...
    AssertionError: label: want a str, got an int (3).
    >>> class Anything(int):
    ...     def __eq__(self, other):
    ...         return True
    >>> check_type(Anything(7), int, name="count")
    Traceback (most recent call last):
    ...
    AssertionError: count: want a plain int, got an Anything, a subclass. Return a plain int.
    """
    names = expected.__name__ if isinstance(expected, type) else " or ".join(
        t.__name__ for t in expected)
    if not isinstance(obj, expected):
        _fail(name, _a(names), f"{_a(type(obj).__name__)} ({_short_repr(obj)})", hint)
    if isinstance(obj, _VALUE_TYPES) and not _is_plain(obj):
        _fail(name, f"a plain {names}", f"{_a(type(obj).__name__)}, a subclass",
              f"Return a plain {names}.")


def check_equal(got: Any, want: Any, *, name: str = "value", hint: str = "") -> None:
    """Check that ``got`` equals ``want`` exactly: numbers, strings, tuples, lists, dicts, arrays.

    Containers compare element by element and must be of the same kind (a tuple is not
    a list); arrays compare by shape and values. Values of a type defined in the notebook
    never compare equal, since such a type could claim to equal anything. Use
    :func:`check_close` for floats computed in different ways.

    Parameters
    ----------
    got : object
        The value the student's code produced.
    want : object
        The expected value.
    name : str, default "value"
        What ``got`` is, as the message should call it.
    hint : str, default ""
        A sentence appended to the message, saying how to fix the mistake.

    Raises
    ------
    AssertionError
        If the values differ.

    Examples
    --------
    >>> check_equal({"dense": [(4, 2), (2,)]}, {"dense": [(4, 2), (2,)]}, name="layers")
    >>> check_equal([(4, 2)], [(2, 4)], name="shapes", hint="Keras kernels are (inputs, units).")
    Traceback (most recent call last):
    ...
    AssertionError: shapes: want [(2, 4)], got [(4, 2)]. Keras kernels are (inputs, units).
    """
    got = _plain(got, name)
    if not _plain_equal(got, want):
        _fail(name, _short_repr(want, 200), _short_repr(got, 200), hint)


def check_that(condition: Any, message: str) -> None:
    """Check a yes-or-no fact about an answer; on failure the learner reads ``message``.

    Use it where ``check_equal(fact, True)`` would read back to front ("has 250,000
    parameters, under 200,000: want True, got False"): the message is one sentence that says
    what was found and what is wanted.

    Parameters
    ----------
    condition : bool
        The fact, computed by the test; exactly a ``bool`` (or NumPy's), so that no code of
        the notebook decides whether it holds.
    message : str
        What was found and what to do, such as ``"build_cnn() has 250,000 parameters; keep
        it under 200,000."``

    Raises
    ------
    AssertionError
        With ``message`` if ``condition`` is False, or saying what was received if it is not
        a bool.

    Examples
    --------
    >>> check_that(120_000 < 200_000, "build_cnn() has 120,000 parameters; keep it under 200,000.")
    >>> check_that(250_000 < 200_000, "build_cnn() has 250,000 parameters; keep it under 200,000.")
    Traceback (most recent call last):
    ...
    AssertionError: build_cnn() has 250,000 parameters; keep it under 200,000.
    """
    if type(condition) not in (bool, np.bool_):
        kind = type(condition)
        _fail("the condition checked", "True or False",
              f"{_a(kind.__name__)}, a type {_origin(kind)}",
              "Compare plain values, as in `len(layers) <= 3`.")
    if not condition:
        raise AssertionError(message)


def check_raises(error: type[BaseException], function: Any, *args: Any, name: str | None = None,
                 match: str | None = None, **kwargs: Any) -> None:
    """Check that ``function(*args, **kwargs)`` raises ``error``.

    Parameters
    ----------
    error : type
        The exception class the call must raise (a subclass also counts).
    function : callable
        The student's function.
    *args, **kwargs
        Passed to ``function``.
    name : str, optional
        The call as the message should show it, for example ``"scale_images(np.zeros((3, 784)))"``;
        by default the function's name.
    match : str, optional
        A regular expression that the error's message must contain, such as a shape that
        the message is asked to name.

    Raises
    ------
    AssertionError
        If the call returns, raises another exception, or raises with a message that
        does not match.

    Examples
    --------
    >>> def positive(x):
    ...     if x <= 0:
    ...         raise ValueError(f"expected a positive number, got {x}")
    ...     return x
    >>> check_raises(ValueError, positive, -1, match="got -1")
    >>> check_raises(ValueError, positive, 2, name="positive(2)")
    Traceback (most recent call last):
    ...
    AssertionError: positive(2): want a ValueError, got no error (it returned 2).
    """
    call = name or f"{getattr(function, '__name__', 'function')}(...)"
    try:
        result = function(*args, **kwargs)
    except error as raised:
        if match is not None and not re.search(match, str(raised)):
            _fail(f"{call} error message", f"to contain {match!r}", repr(str(raised)),
                  "Say what was expected and what was received.")
        return
    except Exception as raised:  # noqa: BLE001 - reported as the wrong kind of error
        _fail(call, _a(error.__name__), f"{_a(type(raised).__name__)}: {raised}")
    _fail(call, _a(error.__name__), f"no error (it returned {_short_repr(result)})")


def check_shape(array: Any, expected: Sequence[int | None], *, name: str = "array") -> None:
    """Check an array's shape; ``None`` in ``expected`` matches any size.

    Parameters
    ----------
    array : array_like
        The array to check.
    expected : sequence of int or None
        The wanted shape; ``None`` matches any size on that axis.
    name : str, default 'array'
        What is checked, as the message should call it.

    Raises
    ------
    AssertionError
        If the number of axes or a fixed size differs.

    Examples
    --------
    >>> import numpy as np
    >>> check_shape(np.zeros((5, 28, 28, 1)), (None, 28, 28, 1), name="images")
    >>> check_shape(np.zeros((5, 784)), (None, 28, 28, 1), name="images")
    Traceback (most recent call last):
    ...
    AssertionError: images shape: want (n, 28, 28, 1), got (5, 784).
    """
    shape = tuple(np.shape(_plain(array, name)))
    matches = len(shape) == len(expected) and all(
        want is None or want == got for want, got in zip(expected, shape))
    if not matches:
        shown = "(" + ", ".join("n" if s is None else str(s) for s in expected)
        shown += ",)" if len(expected) == 1 else ")"
        _fail(f"{name} shape", shown, shape)


def check_dtype(array: Any, expected: Any, *, name: str = "array") -> None:
    """Check an array's dtype, for example ``"float32"``.

    Parameters
    ----------
    array : array_like
        The array to check.
    expected : str or numpy.dtype
        The wanted dtype, such as ``"float32"``.
    name : str, default 'array'
        What is checked, as the message should call it.

    Raises
    ------
    AssertionError
        If the dtype differs; the message says how to convert.

    Examples
    --------
    >>> import numpy as np
    >>> check_dtype(np.zeros(3, dtype="float64"), "float32", name="images")
    Traceback (most recent call last):
    ...
    AssertionError: images dtype: want float32, got float64. Convert with .astype('float32').
    """
    want, got = np.dtype(expected), np.asarray(array).dtype
    if got != want:
        _fail(f"{name} dtype", want, got, f"Convert with .astype('{want}').")


def check_range(array: Any, low: float, high: float, *, name: str = "array") -> None:
    """Check that every value lies in ``[low, high]``.

    Parameters
    ----------
    array : array_like
        The values to check.
    low, high : float
        The inclusive bounds.
    name : str, default 'array'
        What is checked, as the message should call it.

    Raises
    ------
    AssertionError
        If a value lies outside ``[low, high]``.

    Examples
    --------
    >>> check_range([0.0, 255.0], 0.0, 1.0, name="pixels")
    Traceback (most recent call last):
    ...
    AssertionError: pixels values: want all in [0.0, 1.0], got min 0.0 and max 255.0.
    """
    values = np.asarray(_plain(array, name), dtype=np.float64)
    lowest, highest = float(values.min()), float(values.max())
    if lowest < low or highest > high:
        _fail(f"{name} values", f"all in [{low}, {high}]", f"min {lowest} and max {highest}")


def check_close(got: Any, want: Any, *, rtol: float = 1e-5, atol: float = 1e-8,
                name: str = "value", hint: str = "") -> None:
    """Check that ``got`` equals ``want`` within tolerances, elementwise.

    Parameters
    ----------
    got : array_like
        The value the student's code produced.
    want : array_like
        The expected value, of the same shape.
    rtol, atol : float
        Relative and absolute tolerances, as in ``numpy.allclose``.
    name : str, default 'value'
        What is checked, as the message should call it.
    hint : str, default ""
        A sentence appended to the message, saying how to fix the mistake.

    Raises
    ------
    AssertionError
        If the shapes differ or an element lies outside the tolerance; the message shows
        the worst element.

    Examples
    --------
    >>> check_close(0.1 + 0.2, 0.3, name="sum")
    >>> check_close(2.0, 3.0, name="sum")
    Traceback (most recent call last):
    ...
    AssertionError: sum: want 3.0, got 2.0 (tolerance rtol=1e-05, atol=1e-08).
    """
    got_array = np.asarray(_plain(got, name), dtype=np.float64)
    want_array = np.asarray(want, dtype=np.float64)
    if got_array.shape != want_array.shape:
        _fail(f"{name} shape", want_array.shape, got_array.shape)
    if not np.allclose(got_array, want_array, rtol=rtol, atol=atol):
        if want_array.size == 1:
            _fail(name, float(want_array), f"{float(got_array)} (tolerance rtol={rtol}, "
                  f"atol={atol})", hint)
        worst = int(np.argmax(np.abs(got_array - want_array)))
        _fail(name, f"{want_array.flat[worst]} at flat index {worst}",
              f"{got_array.flat[worst]}", hint)


def check_at_least(value: float, minimum: float, *, name: str = "value", hint: str = "") -> None:
    """Check that ``value >= minimum``, for outcomes such as test accuracy.

    Parameters
    ----------
    value : float
        The outcome reached (NaN fails).
    minimum : float
        The smallest value that passes.
    name : str, default 'value'
        What is checked, as the message should call it.
    hint : str, default ""
        A sentence appended to the message, saying how to improve.

    Raises
    ------
    AssertionError
        If ``value`` is below ``minimum`` or NaN.

    Examples
    --------
    >>> check_at_least(0.7, 0.85, name="test accuracy", hint="Train for more epochs.")
    Traceback (most recent call last):
    ...
    AssertionError: test accuracy: want at least 0.85, got 0.7. Train for more epochs.
    """
    value = _plain(value, name)
    if type(value) in (str, bytes, complex) or np.ndim(value) != 0:
        _fail(name, "a number", _short_repr(value))
    if not float(value) >= minimum:
        _fail(name, f"at least {minimum}", round(float(value), 4), hint)

