"""helpers.checks: pass on right answers, fail with want/got messages on wrong ones."""

import functools
import re

import keras
import numpy as np
import pytest

from helpers import checks


def _cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((3, 3)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def test_shape_check_accepts_any_size_where_none():
    checks.check_shape(np.zeros((3, 4)), (None, 4))
    with pytest.raises(AssertionError, match=r"want \(n, 5\), got \(3, 4\)"):
        checks.check_shape(np.zeros((3, 4)), (None, 5))
    with pytest.raises(AssertionError, match=r"want \(3,\), got \(3, 1\)"):
        checks.check_shape(np.zeros((3, 1)), (3,))


def test_close_check_reports_the_worst_element():
    checks.check_close([1.0, 2.0], [1.0, 2.0 + 1e-9])
    with pytest.raises(AssertionError, match="want 3.0 at flat index 1, got 2.5"):
        checks.check_close([1.0, 2.5], [1.0, 3.0], name="values")
    with pytest.raises(AssertionError, match=r"values shape: want \(2,\), got \(3,\)"):
        checks.check_close([1, 2, 3], [1, 2], name="values")


def test_at_least_treats_nan_as_failure():
    with pytest.raises(AssertionError, match="want at least 0.5, got nan"):
        checks.check_at_least(float("nan"), 0.5)


def test_layer_checks_name_the_wrong_setting():
    model = _cnn()
    checks.check_layers(model, ["Conv2D", "MaxPooling2D", "Flatten", "Dense"])
    checks.check_layer(model.layers[0], filters=16, kernel_size=[3, 3], padding="valid")
    with pytest.raises(AssertionError, match="conv filters: want 32, got 16"):
        checks.check_layer(model.layers[0], name="conv", filters=32)
    with pytest.raises(AssertionError, match="setting 'units': want present"):
        checks.check_layer(model.layers[0], units=16)


def test_param_count_checks_total_and_trainable():
    model = _cnn()
    total = 160 + 8 * 8 * 16 * 10 + 10
    checks.check_param_count(model, total, trainable=total)
    model.layers[0].trainable = False
    with pytest.raises(AssertionError, match=f"trainable parameter count: want {total}"):
        checks.check_param_count(model, total, trainable=total)


def test_compiled_check_reads_objects_and_strings():
    model = _cnn()
    with pytest.raises(AssertionError, match="never compiled"):
        checks.check_compiled(model, optimizer="Adam")
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3")])
    checks.check_compiled(model, optimizer="adam", learning_rate=0.01,
                          loss="sparse_categorical_crossentropy", metrics=["accuracy", "top3"])
    with pytest.raises(AssertionError, match="learning rate: want 0.001"):
        checks.check_compiled(model, learning_rate=0.001)
    with pytest.raises(AssertionError, match="loss: want mse, got sparse_categorical_crossentropy"):
        checks.check_compiled(model, loss="mse")
    with pytest.raises(AssertionError, match=r"metrics: want to include \['mae'\]"):
        checks.check_compiled(model, metrics=["mae"])


def test_history_check_counts_epochs_from_a_real_fit():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.zeros((8, 2)), np.zeros(8), epochs=2, verbose=0)
    checks.check_history(history, epochs=2, keys=["loss"])
    with pytest.raises(AssertionError, match="epochs trained: want 3, got 2"):
        checks.check_history(history, epochs=3)
    with pytest.raises(AssertionError, match="want the History object"):
        checks.check_history({"loss": [1.0]})


def test_type_check_shortens_long_values():
    with pytest.raises(AssertionError, match=r"want an ndarray, got a list \(\[0, 0, .*\.\.\.\)"):
        checks.check_type([0] * 100, np.ndarray)


def test_type_check_rejects_value_subclasses_that_could_fake_comparisons():
    class AlwaysEqual(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    class FakeArray(np.ndarray):
        pass

    checks.check_type(np.float64(0.5), float)
    checks.check_type(np.zeros(3), np.ndarray)
    checks.check_type(keras.Sequential(), keras.Model)  # subclasses of other types are fine
    with pytest.raises(AssertionError, match="want a plain int, got an AlwaysEqual, a subclass"):
        checks.check_type(AlwaysEqual(3), int)
    with pytest.raises(AssertionError, match="want a plain ndarray"):
        checks.check_type(np.zeros(3).view(FakeArray), np.ndarray)


def test_equal_check_compares_containers_exactly():
    checks.check_equal({"dense": [(4, 2), (2,)]}, {"dense": [(4, 2), (2,)]})
    checks.check_equal(np.arange(3), np.array([0, 1, 2]))
    checks.check_equal(3, 3)
    with pytest.raises(AssertionError, match=r"shapes: want \[\(2, 4\)\], got \[\[2, 4\]\]"):
        checks.check_equal([[2, 4]], [(2, 4)], name="shapes")
    with pytest.raises(AssertionError, match="want 'a', got 'b'"):
        checks.check_equal("b", "a")
    with pytest.raises(AssertionError, match="extra"):
        checks.check_equal({"a": 1, "extra": 2}, {"a": 1})
    with pytest.raises(AssertionError):
        checks.check_equal(np.zeros((2, 1)), np.zeros(2))


def test_equal_check_ignores_notebook_types_that_claim_equality():
    class AlwaysEqual(dict):
        def __eq__(self, other):
            return True

    with pytest.raises(AssertionError, match="got an AlwaysEqual, a type from test_checks"):
        checks.check_equal(AlwaysEqual(), {"a": 1})


def test_that_check_reads_a_plain_bool_and_shows_the_sentence_it_was_given():
    checks.check_that(np.int64(3) < 4, "never shown")
    message = "build_cnn() has 250,000 parameters; keep it under 200,000."
    with pytest.raises(AssertionError, match=f"^{re.escape(message)}$"):
        checks.check_that(250_000 < 200_000, message)
    with pytest.raises(AssertionError, match="the condition checked: want True or False, got a list, a type from builtins"):
        checks.check_that([0], message)


def _peeking_types(calls: list[str]) -> dict[str, type]:
    """Answer types whose methods would read the test that checks them; each call is noted."""
    def peek(name, result):
        def method(self, *args, **kwargs):
            calls.append(name)
            return result
        return method

    return {
        "str": type("PeekingStr", (str,), {"strip": peek("strip", "B"), "upper": peek("upper", "B"),
                                            "__eq__": peek("eq", True), "__hash__": str.__hash__}),
        "int": type("PeekingInt", (int,), {"__int__": peek("int", 448), "__index__": peek("index", 448),
                                            "__eq__": peek("eq", True), "__hash__": int.__hash__}),
        "tuple": type("PeekingTuple", (tuple,), {"__iter__": peek("iter", iter((None, 14))),
                                                  "__len__": peek("len", 2)}),
        "float": type("PeekingFloat", (float,), {"__float__": peek("float", 1.0),
                                                  "__ge__": peek("ge", True)}),
        "array": type("PeekingArray", (np.ndarray,), {"__array__": peek("array", np.zeros(3)),
                                                       "shape": property(peek("shape", (3,)))}),
        "list": type("PeekingList", (list,), {"__iter__": peek("iter", iter([1.0, 2.0, 3.0]))}),
    }


def test_checks_run_no_code_of_an_answer_s_own_type():
    """Answers are read by type alone: a method written in the notebook could read the test
    (its frames, its source, the input history) while a check holds the expected value."""
    calls: list[str] = []
    peeking = _peeking_types(calls)
    seal = checks.seal_concept("demo", "B", kind="letter", explanation="Because.")
    concept = functools.partial(checks.check_concept, question="demo", exercise="Exercise 7", hint="")
    attempts = [
        lambda: concept(peeking["str"]("A"), kind="letter", **seal),
        lambda: concept(peeking["int"](1), kind="integer",
                        **checks.seal_concept("demo", 448, kind="integer", explanation=".")),
        lambda: concept(peeking["tuple"]((None, 1)), kind="shape",
                        **checks.seal_concept("demo", (None, 14), kind="shape", explanation=".")),
        lambda: checks.check_that(peeking["int"](1), "never shown"),
        lambda: checks.check_equal(peeking["str"]("A"), "B"),
        lambda: checks.check_equal([peeking["int"](1)], [448]),
        lambda: checks.check_close(peeking["list"]([0.0]), [1.0, 2.0, 3.0]),
        lambda: checks.check_close(np.zeros(3).view(peeking["array"]), np.ones(3)),
        lambda: checks.check_shape(np.zeros(2).view(peeking["array"]), (3,)),
        lambda: checks.check_range(peeking["list"]([5.0]), 0.0, 1.0),
        lambda: checks.check_at_least(peeking["float"](0.1), 0.9),
    ]
    for attempt in attempts:
        with pytest.raises(AssertionError, match="a type from test_checks"):
            attempt()
    assert calls == []


def test_model_checks_refuse_classes_written_in_the_notebook():
    calls: list[str] = []

    class Counting(keras.Sequential):
        def count_params(self):
            calls.append("count_params")
            return 101_770

    model = Counting([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(AssertionError, match="model: want a model of Keras's own classes, got a Counting, a class from test_checks"):
        checks.check_param_count(model, 101_770)
    with pytest.raises(AssertionError, match="got a Counting, a class from test_checks"):
        checks.check_layers(model, ["Dense"])

    class Custom(keras.layers.Dense):
        pass

    wrapped = keras.Sequential([keras.Input((4,)), Custom(2, name="mine")])
    with pytest.raises(AssertionError, match="model's layer 'mine': want a layer of Keras's own classes"):
        checks.check_param_count(wrapped, 10)
    assert calls == []
    checks.check_param_count(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), 10)


def test_raises_check_reports_no_error_other_errors_and_messages():
    def scale(images):
        if np.ndim(images) != 3:
            raise ValueError(f"expected 3 axes, got shape {np.shape(images)}")
        return images

    checks.check_raises(ValueError, scale, np.zeros((2, 3)), match=r"\(2, 3\)")
    with pytest.raises(AssertionError, match=r"scale\(\.\.\.\): want a ValueError, got no error"):
        checks.check_raises(ValueError, scale, np.zeros((1, 2, 3)))
    with pytest.raises(AssertionError, match="f: want a ValueError, got a ZeroDivisionError"):
        checks.check_raises(ValueError, lambda: 1 / 0, name="f")
    with pytest.raises(AssertionError, match=r"error message: want to contain 'got\$'"):
        checks.check_raises(ValueError, scale, np.zeros(2), match="got$")


@pytest.mark.parametrize("loss, passes", [
    ("sparse_categorical_crossentropy", True),
    (keras.losses.SparseCategoricalCrossentropy(), True),
    (keras.losses.sparse_categorical_crossentropy, True),
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True), False),
    ("categorical_crossentropy", False),
    ("mse", False),
])
def test_compiled_check_compares_the_loss_by_value(loss, passes):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss=loss)
    if passes:
        checks.check_compiled(model, loss="sparse_categorical_crossentropy")
    else:
        with pytest.raises(AssertionError, match="loss: want sparse_categorical_crossentropy"):
            checks.check_compiled(model, loss="sparse_categorical_crossentropy")


def test_concept_check_accepts_every_spelling_of_the_answer_and_prints_why(capsys):
    seal = checks.seal_concept("q", (None, 14, 14, 8), kind="shape", explanation="Stride 2 halves.")
    for spelling in ((None, 14, 14, 8), [None, np.int64(14), 14, 8]):
        checks.check_concept(spelling, question="q", exercise="Exercise 7", kind="shape", hint="", **seal)
    assert capsys.readouterr().out == "Right. Stride 2 halves.\n" * 2
    letter = checks.seal_concept("l", "B", kind="letter", explanation="Sparse labels.")
    checks.check_concept(" b ", question="l", exercise="Exercise 7", kind="letter", hint="", **letter)
    number = checks.seal_concept("n", 448, kind="integer", explanation="16 x 28.")
    checks.check_concept(np.int32(448), question="n", exercise="Exercise 7", kind="integer", hint="", **number)


@pytest.mark.parametrize("kind, right, answer, message", [
    ("letter", "B", "C", "'C' is not the answer to Exercise 7. Think."),
    ("letter", "B", "BC", 'want one letter such as "B", got \'BC\''),
    ("letter", "B", 2, 'want one letter such as "B", got 2'),
    ("integer", 448, 432, "432 is not the answer to Exercise 7. Think."),
    ("integer", 1, True, "want a whole number such as 1024 (an int), got True"),
    ("integer", 448, 448.0, "want a whole number such as 1024 (an int), got 448.0"),
    ("integer", 448, "448", "want a whole number such as 1024 (an int), got '448'"),
    ("shape", (None, 4), (None, 5), "(None, 5) is not the answer to Exercise 7. Think."),
    ("shape", (None, 4), "(None, 4)", "want a tuple of ints (None for the batch axis)"),
    ("shape", (None, 4), (None, 4.0), "want a tuple of ints (None for the batch axis)"),
])
def test_concept_check_rejects_wrong_answers_and_forms_with_a_hint(kind, right, answer, message):
    seal = checks.seal_concept("q", right, kind=kind, explanation="Secret.")
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_concept(answer, question="q", exercise="Exercise 7", kind=kind, hint="Think.", **seal)


def test_concept_seal_hides_the_answer_and_explanation():
    seal = checks.seal_concept("w1_concept_x", 448, kind="integer", explanation="16 x 28 = 448.")
    text = repr(seal)
    assert "448" not in text and "16 x 28" not in text
    other = checks.seal_concept("w1_concept_y", 448, kind="integer", explanation="16 x 28 = 448.")
    assert other["digest"] != seal["digest"], "the same answer must seal differently per question"
    with pytest.raises(ValueError, match="kind must be one of"):
        checks.seal_concept("q", 1, kind="float", explanation="")


def _stopper_and_reducer(patience, reducer_patience, restore=True):
    return [keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=restore),
            keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=reducer_patience, min_lr=1e-4)]


def test_a_replay_shows_when_keras_s_callbacks_stop_what_they_keep_and_the_rates():
    val_loss = [0.9, 0.6, 0.5, 0.55, 0.52, 0.58, 0.6, 0.61, 0.4]
    replay = checks.replay_callbacks(_stopper_and_reducer(4, 2), {"val_loss": val_loss},
                                     learning_rate=0.01)
    assert (replay.epochs, replay.kept_epoch) == (7, 2)  # best at epoch 2, then 4 without
    assert replay.learning_rates == pytest.approx([0.01] * 4 + [0.005] * 2 + [0.0025], rel=1e-5)
    last = checks.replay_callbacks(_stopper_and_reducer(4, 2, restore=False), {"val_loss": val_loss})
    assert (last.epochs, last.kept_epoch) == (7, 6)
    never = checks.replay_callbacks(_stopper_and_reducer(20, 2), {"val_loss": val_loss})
    assert (never.epochs, never.kept_epoch) == (9, 8)  # ran to the end; the last was best


def test_a_replay_takes_only_keras_s_own_callbacks_and_logged_values():
    class Lenient(keras.callbacks.EarlyStopping):
        pass
    Lenient.__module__ = "__main__"  # as if written in the notebook
    with pytest.raises(AssertionError, match="callback 1: want a callback of Keras's own classes"):
        checks.replay_callbacks([Lenient()], {"val_loss": [1.0, 0.5]})
    with pytest.raises(AssertionError, match="callbacks: want a list of Keras callbacks"):
        checks.replay_callbacks(keras.callbacks.EarlyStopping(), {"val_loss": [1.0, 0.5]})
    with pytest.raises(AssertionError, match=r"the curves' keys: want at least one of"):
        checks.replay_callbacks([keras.callbacks.EarlyStopping()], {"new_data_loss": [1.0, 0.5]})
