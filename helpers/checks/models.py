"""Checks of Keras models: their classes, layers, parameters, compilation, history,
learning-rate schedules, and callbacks replayed through recorded learning curves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers.checks._base import _fail, _library_model, _library_object, _plain


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
    >>> import keras
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
    >>> import keras
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
    >>> import keras
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
    import keras

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
    >>> import keras
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
    >>> import keras
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


def scheduled_rate(schedule: Any, epoch: int, rate: float) -> float:
    """The learning rate ``keras.callbacks.LearningRateScheduler(schedule)`` sets at ``epoch``.

    The schedule is called as Keras calls it during ``fit()``, so every schedule Keras
    accepts works here: ``schedule(epoch, rate)``, or ``schedule(epoch)``.

    Parameters
    ----------
    schedule : callable
        The scheduler's ``schedule`` function.
    epoch : int
        The epoch about to start, counted from 0.
    rate : float
        The optimizer's learning rate before that epoch.

    Returns
    -------
    float
        The learning rate the optimizer holds once the scheduler has run (a float32 value).

    Raises
    ------
    AssertionError
        If Keras cannot call the schedule or use what it returns.

    Examples
    --------
    >>> round(scheduled_rate(lambda epoch: 0.01 * 0.5 ** epoch, 2, 0.1), 6)
    0.0025
    >>> round(scheduled_rate(lambda epoch, rate: rate * 0.9, 2, 0.1), 6)
    0.09
    """
    from types import SimpleNamespace

    import keras

    optimizer = keras.optimizers.SGD(learning_rate=rate)
    scheduler = keras.callbacks.LearningRateScheduler(schedule)
    scheduler.set_model(SimpleNamespace(optimizer=optimizer))  # all the scheduler reads
    try:
        scheduler.on_epoch_begin(epoch)
    except Exception as error:  # noqa: BLE001 - reported as what Keras could not do
        _fail(f"the schedule at epoch {epoch}", "a function LearningRateScheduler can call as "
              "schedule(epoch, rate) or schedule(epoch), returning a float",
              f"{type(error).__name__}: {error}")
    return float(np.asarray(optimizer.learning_rate))


LOGGED = ("loss", "val_loss", "accuracy", "val_accuracy")  # what replay_callbacks passes on


@dataclass(frozen=True)
class Replay:
    """What callbacks did to a replayed run: ``epochs`` trained before they stopped it (all,
    if none did), the epoch (from 0) whose weights the model held at the end, and the
    learning rate after each epoch trained."""

    epochs: int
    kept_epoch: int
    learning_rates: tuple[float, ...]


def replay_callbacks(callbacks: Any, curves: Mapping[str, Sequence[float]], *,
                     learning_rate: float = 0.005) -> Replay:
    """Drive Keras callbacks through a recorded run, epoch by epoch, as ``fit()`` does.

    A stand-in model (compiled with Adam at ``learning_rate``) holds weights that mark the
    epoch they were set in, so the weights a callback keeps or restores show which epoch
    they come from. Each epoch ends with the logs the curves give for it; training ends when
    a callback stops it, or after the last epoch.

    Parameters
    ----------
    callbacks : list of keras.callbacks.Callback
        Keras's own callbacks, as they would be passed to ``fit()``.
    curves : mapping of str to sequence of float
        The logged values per epoch, such as ``{"loss": [...], "val_loss": [...]}``; keys
        the logs would not hold (such as ``"new_data_loss"``) are left out.
    learning_rate : float, default 0.005
        The optimizer's learning rate at the start.

    Returns
    -------
    Replay

    Raises
    ------
    AssertionError
        If ``callbacks`` is not a list of Keras's own callbacks, or the curves hold no
        values the logs would.

    Examples
    --------
    >>> import keras
    >>> stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    >>> replay = replay_callbacks([stop], {"val_loss": [0.9, 0.5, 0.7, 0.6, 0.4]})
    >>> replay.epochs, replay.kept_epoch
    (4, 1)
    """
    import keras

    if not isinstance(callbacks, (list, tuple)):
        _fail("callbacks", "a list of Keras callbacks", type(callbacks).__name__)
    for index, callback in enumerate(callbacks):
        _library_object(callback, f"callback {index + 1}", "a callback")
        if not isinstance(callback, keras.callbacks.Callback):
            _fail(f"callback {index + 1}", "a keras.callbacks.Callback", type(callback).__name__)
    logged = {key: [float(value) for value in values] for key, values in curves.items()
              if key in LOGGED}
    if not logged:
        _fail("the curves' keys", f"at least one of {list(LOGGED)}", sorted(curves))
    epochs = min(len(values) for values in logged.values())
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    kernel = model.layers[0].kernel
    driver = keras.callbacks.CallbackList(list(callbacks), model=model, epochs=epochs, verbose=0)
    model.stop_training = False
    driver.on_train_begin()
    rates = []
    for epoch in range(epochs):
        kernel.assign(np.full(kernel.shape, epoch, dtype="float32"))
        driver.on_epoch_begin(epoch)
        driver.on_epoch_end(epoch, {key: values[epoch] for key, values in logged.items()})
        rates.append(float(np.asarray(model.optimizer.learning_rate)))
        if model.stop_training:
            break
    driver.on_train_end()
    return Replay(len(rates), int(round(float(kernel.numpy().mean()))), tuple(rates))
