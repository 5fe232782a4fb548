"""helpers.set_seed: one call makes Python, NumPy and TensorFlow repeatable."""

import random

import keras
import numpy as np
import pytest
import tensorflow as tf

import helpers


def _draws():
    return random.random(), np.random.rand(), float(tf.random.uniform(()))


def test_the_same_seed_repeats_every_generator():
    helpers.set_seed(7)
    first = _draws()
    helpers.set_seed(7)
    assert _draws() == first
    helpers.set_seed(8)
    assert _draws() != first


def test_the_same_seed_repeats_training():
    def train():
        helpers.set_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(np.ones((16, 3)), np.zeros((16, 2)), epochs=2, verbose=0)
        return model.get_weights()

    for first, second in zip(train(), train()):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_invalid_seeds_are_rejected(seed):
    with pytest.raises(ValueError, match="expected a non-negative integer seed"):
        helpers.set_seed(seed)
