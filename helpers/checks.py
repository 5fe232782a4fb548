"""Checks for visible tests: each raises ``AssertionError`` with a hint a student can act on.

Every message says what was expected ("want") and what was received ("got").
The checks never compute an exercise's answer; they only compare.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_equal",
    "check_raises",
    "check_type",
    "check_shape",
    "check_dtype",
    "check_range",
    "check_close",
    "check_at_least",
    "check_layers",
    "check_layer",
    "check_param_count",
    "check_compiled",
    "check_history",
    "check_concept",
    "seal_concept",
    "plain",
    "check_keras_model",
]


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


def check_keras_model(model: Any, *, name: str = "model") -> None:
    """Check that a model and every layer in it are Keras's own classes, with no code of the
    notebook inside (a ``Lambda`` layer, or an activation written in the notebook).

    Tests that evaluate a student's model call this first: code inside the model would run
    while the test holds the data it scores the model on.

    Parameters
    ----------
    model : keras.Model
        The model to check.
    name : str, default 'model'
        What it is, as the message should call it.

    Raises
    ------
    AssertionError
        If the model, a layer or an activation is not Keras's own.

    Examples
    --------
    >>> import keras
    >>> check_keras_model(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, "relu")]))
    >>> check_keras_model(keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x)]))
    Traceback (most recent call last):
    ...
    AssertionError: model's layer 'lambda': want a layer of Keras's own classes, got a Lambda, \
which runs code written in the notebook. Use Keras's layers as they are.
    """
    _library_model(model, name)
    pending = list(getattr(model, "layers", []))
    while pending:
        layer = pending.pop()
        where = f"{name}'s layer {layer.name!r}"
        if type(layer).__name__ == "Lambda":
            _fail(where, "a layer of Keras's own classes", "a Lambda, which runs code written in "
                  "the notebook", "Use Keras's layers as they are.")
        activation = getattr(layer, "activation", None)
        if activation is not None and getattr(activation, "__module__", "").split(".")[0] != "keras":
            _fail(f"{where} activation", "one of Keras's activations",
                  f"{getattr(activation, '__name__', type(activation).__name__)}, defined in the notebook")
        pending += list(getattr(layer, "layers", []))


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


def check_layers(model: Any, expected: Sequence[str]) -> None:
    """Check a model's layer classes, in order, by class name.

    Parameters
    ----------
    model : keras.Model
        The model whose ``layers`` are checked.
    expected : sequence of str
        Layer class names in order, without the ``Input``.

    Raises
    ------
    AssertionError
        If the classes or their order differ.

    Examples
    --------
    >>> from tensorflow import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> check_layers(model, ["Dense"])
    >>> check_layers(model, ["Flatten", "Dense"])
    Traceback (most recent call last):
    ...
    AssertionError: layers: want ['Flatten', 'Dense'], got ['Dense']. Add or remove layers \
to match the specification (keras.Input is not a layer).
    """
    _library_model(model, "model")
    got = [type(layer).__name__ for layer in getattr(model, "layers", [])]
    if got != list(expected):
        _fail("layers", list(expected), got,
              "Add or remove layers to match the specification (keras.Input is not a layer).")


def check_layer(layer: Any, *, name: str = "layer", **expected: Any) -> None:
    """Check entries of a layer's ``get_config()``, such as units or activation.

    Tuples and lists compare equal, so ``kernel_size=(3, 3)`` matches ``[3, 3]``.

    Parameters
    ----------
    layer : keras.layers.Layer
        The layer to check.
    name : str, default 'layer'
        What is checked, as the message should call it.
    **expected
        Settings from ``layer.get_config()`` and their wanted values.

    Raises
    ------
    AssertionError
        If a setting is missing or has another value.

    Examples
    --------
    >>> from tensorflow import keras
    >>> dense = keras.layers.Dense(64, activation="relu")
    >>> check_layer(dense, units=64, activation="relu")
    >>> check_layer(dense, name="hidden layer", activation="sigmoid")
    Traceback (most recent call last):
    ...
    AssertionError: hidden layer activation: want 'sigmoid', got 'relu'.
    """
    _library_object(layer, name, "a layer")
    config = layer.get_config()
    for key, want in expected.items():
        if key not in config:
            _fail(f"{name} setting {key!r}", "present", f"a {type(layer).__name__} without it")
        got = config[key]
        if isinstance(want, (tuple, list)) and isinstance(got, (tuple, list)):
            want, got = tuple(want), tuple(got)
        if got != want:
            _fail(f"{name} {key}", repr(want), repr(got))


def check_param_count(model: Any, expected: int, *, trainable: int | None = None) -> None:
    """Check a built model's total (and optionally trainable) parameter count.

    Parameters
    ----------
    model : keras.Model
        A built model.
    expected : int
        The wanted total number of parameters.
    trainable : int, optional
        The wanted number of trainable parameters.

    Raises
    ------
    AssertionError
        If a count differs.

    Examples
    --------
    >>> from tensorflow import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> check_param_count(model, 10)
    >>> check_param_count(model, 12)
    Traceback (most recent call last):
    ...
    AssertionError: parameter count: want 12, got 10. Compare your model.summary() with \
the specification.
    """
    hint = "Compare your model.summary() with the specification."
    _library_model(model, "model")
    if model.count_params() != expected:
        _fail("parameter count", expected, model.count_params(), hint)
    if trainable is not None:
        got = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        if got != trainable:
            _fail("trainable parameter count", trainable, got, hint)


def _entry_name(entry: Any) -> str:
    """Name of a loss or metric as stored in ``get_compile_config()``."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        config = entry.get("config")
        if isinstance(config, str):
            return config
        if isinstance(config, dict) and "name" in config:
            return str(config["name"])
        return str(entry.get("class_name", entry))
    return getattr(entry, "name", getattr(entry, "__name__", repr(entry)))


def _flatten(entries: Any) -> list[Any]:
    if entries is None:
        return []
    if isinstance(entries, (list, tuple)):
        return [item for entry in entries for item in _flatten(entry)]
    return [entries]


def _loss_on_probe(loss: Any, name: str) -> float:
    """Mean of ``loss`` on fixed probabilities, with targets in the form ``name`` expects."""
    from tensorflow import keras

    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25]], "float32")
    labels = np.array([0, 2, 2])
    if "sparse" in name:
        targets = labels
    elif "categorical" in name:
        targets = np.eye(3, dtype="float32")[labels]
    else:
        targets = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], "float32")
    function = keras.losses.get(loss) if isinstance(loss, (str, dict)) else loss
    return float(np.mean(np.asarray(function(targets, probabilities))))


def _check_loss(model: Any, name: str) -> None:
    """Compare the compiled loss with ``name``'s by value, so any spelling of it counts."""
    stored = model.get_compile_config().get("loss")
    names = [_entry_name(entry) for entry in _flatten(stored)]
    shown = names[0] if len(names) == 1 else str(names)
    hint = ""
    if "'from_logits': True" in str(stored):
        shown += " with from_logits=True"
        hint = "The model outputs probabilities (softmax), not logits: leave from_logits False."
    try:
        got = _loss_on_probe(model.loss, name)
    except Exception as error:  # noqa: BLE001 - a loss for other targets fails on the probe
        _fail("loss", name, f"{shown}, which fails on {name}'s targets ({type(error).__name__})")
    want = _loss_on_probe(name, name)
    if not np.isclose(got, want, rtol=1e-4):
        _fail("loss", f"{name} (value {want:.4f} on a test batch)",
              f"{shown} (value {got:.4f})", hint)


def check_compiled(model: Any, *, optimizer: str | None = None,
                   learning_rate: float | None = None, loss: str | None = None,
                   metrics: Iterable[str] = ()) -> None:
    """Check how a model was compiled: optimizer class, learning rate, loss and metric names.

    The loss is compared by what it computes, on a fixed batch of probabilities with
    targets in the form the expected loss takes, so ``"sparse_categorical_crossentropy"``,
    ``keras.losses.SparseCategoricalCrossentropy()`` and the function itself all pass,
    while ``from_logits=True`` on a softmax model, or the loss for one-hot targets, fail.
    Metric names are those Keras stores: a string as given, or the ``name`` of a metric
    object.

    Parameters
    ----------
    model : keras.Model
        The compiled model.
    optimizer : str, optional
        The optimizer's class name, in any case ("Adam", "adam").
    learning_rate : float, optional
        The optimizer's learning rate (relative tolerance 1e-5).
    loss : str, optional
        The name of the Keras loss the model must compute, such as
        ``"sparse_categorical_crossentropy"``.
    metrics : iterable of str, default ()
        Metric names the model must record; others may be recorded too.

    Raises
    ------
    AssertionError
        If the model is not compiled or a setting differs.

    Examples
    --------
    >>> from tensorflow import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    >>> check_compiled(model, optimizer="SGD", learning_rate=0.1, loss="mse", metrics=["mae"])
    >>> check_compiled(model, optimizer="Adam")
    Traceback (most recent call last):
    ...
    AssertionError: optimizer: want Adam, got SGD.
    """
    _library_model(model, "model")
    if not getattr(model, "compiled", False):
        _fail("model", "compiled", "a model that was never compiled",
              "Call model.compile(...) before returning it.")
    config = model.get_compile_config()
    optimizer_config = config.get("optimizer")
    if isinstance(optimizer_config, str):
        optimizer_name, optimizer_settings = optimizer_config, {}
    else:
        optimizer_name = optimizer_config.get("class_name")
        optimizer_settings = optimizer_config.get("config", {})
    if optimizer is not None and optimizer_name.lower() != optimizer.lower():
        _fail("optimizer", optimizer, optimizer_name)
    if learning_rate is not None:
        got_rate = optimizer_settings.get("learning_rate")
        if not isinstance(got_rate, (int, float)) or not np.isclose(got_rate, learning_rate,
                                                                     rtol=1e-5):
            _fail("learning rate", learning_rate, got_rate)
    if loss is not None:
        _check_loss(model, loss)
    got_metrics = [_entry_name(entry) for entry in _flatten(config.get("metrics"))]
    missing = [name for name in metrics if name not in got_metrics]
    if missing:
        _fail("metrics", f"to include {missing}", got_metrics)


def check_history(history: Any, *, epochs: int | None = None, keys: Iterable[str] = ()) -> None:
    """Check the ``History`` that ``fit()`` returned: epochs run and metrics recorded.

    Parameters
    ----------
    history : keras.callbacks.History
        What ``fit()`` returned.
    epochs : int, optional
        The number of epochs that must have run.
    keys : iterable of str, default ()
        Metrics the history must hold, such as ``"val_loss"``.

    Raises
    ------
    AssertionError
        If ``history`` is not a History, a key is missing or the epoch count differs.

    Examples
    --------
    >>> from tensorflow import keras
    >>> history = keras.callbacks.History()
    >>> history.history = {"loss": [0.9, 0.5], "accuracy": [0.6, 0.8]}
    >>> check_history(history, epochs=2, keys=["loss", "accuracy"])
    >>> check_history(history, keys=["val_loss"])
    Traceback (most recent call last):
    ...
    AssertionError: history keys: want to include ['val_loss'], got ['accuracy', 'loss']. \
Pass validation data to fit() to record val_* metrics.
    """
    _library_object(history, "history", "a History")
    record = getattr(history, "history", None)
    if type(record) is not dict:
        _fail("history", "the History object that fit() returns", type(history).__name__)
    record = _plain(record, "history.history")
    missing = [key for key in keys if key not in record]
    if missing:
        hint = ("Pass validation data to fit() to record val_* metrics."
                if any(key.startswith("val_") for key in missing) else "")
        _fail("history keys", f"to include {missing}", sorted(record), hint)
    if epochs is not None:
        got = len(record.get("loss", []))
        if got != epochs:
            _fail("epochs trained", epochs, got)


# Concept questions. The visible test of a concept question must not show its answer, so it
# holds a digest of the answer and the explanation sealed with the answer as the key: the
# student gets the explanation once the answer is right. A four-letter choice can still be
# found by trying each letter; the seal keeps the answer off the page, not out of reach.
CONCEPT_KINDS = ("letter", "integer", "shape")


def _canonical(answer: Any, kind: str, question: str) -> str:
    """The answer written one way per value, or an AssertionError saying what was expected."""
    name = f"the answer to {question}"
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
    >>> check_concept("B", question="demo", kind="letter", hint="", **seal)
    Right. Because.
    """
    canonical = _canonical(answer, kind, question)
    text = explanation.encode()
    sealed = bytes(a ^ b for a, b in zip(text, _keystream(question, canonical, len(text))))
    return {"digest": _digest(question, canonical), "sealed": base64.b64encode(sealed).decode()}


def check_concept(answer: Any, *, question: str, kind: str, digest: str, sealed: str,
                  hint: str) -> None:
    """Check the answer to a concept question; when it is right, print why.

    Parameters
    ----------
    answer : object
        The student's answer: a letter, a whole number or a shape, as ``kind`` says.
    question : str
        The question's grade id.
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
    >>> check_concept([None, 4], question="demo", kind="shape", hint="", **seal)
    Right. Four units.
    >>> check_concept((None, 5), question="demo", kind="shape", hint="Count the units.", **seal)
    Traceback (most recent call last):
    ...
    AssertionError: (None, 5) is not the answer to demo. Count the units.
    """
    canonical = _canonical(answer, kind, question)
    if _digest(question, canonical) != digest:
        raise AssertionError(f"{canonical if kind != 'letter' else repr(canonical)} is not the "
                             f"answer to {question}. {hint}".strip())
    text = base64.b64decode(sealed)
    explanation = bytes(a ^ b for a, b in zip(text, _keystream(question, canonical, len(text))))
    print(f"Right. {explanation.decode()}")
