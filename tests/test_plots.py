"""helpers.plots: every figure is labelled, and bad input gets a clear error."""

import keras
import matplotlib
import numpy as np
import pytest

from helpers import plots

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    matplotlib.pyplot.close("all")


def test_learning_curves_are_labelled_and_reject_missing_metrics():
    ax = plots.plot_learning_curves({"accuracy": [0.5, 0.7, 0.8]}, metric="accuracy")
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "accuracy"
    assert ax.get_lines()[0].get_xdata().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"key 'val_loss', got \['accuracy'\]"):
        plots.plot_learning_curves({"accuracy": [0.5]}, metric="val_loss")


def test_image_grid_tiles_images_and_checks_lengths():
    ax = plots.plot_image_grid(np.ones((7, 28, 28, 1)), ncols=3)
    assert ax.images[0].get_array().shape == (3 * 29 - 1, 3 * 29 - 1)
    with pytest.raises(ValueError, match="expected 7 labels, got 2"):
        plots.plot_image_grid(np.ones((7, 28, 28)), labels=[1, 2])
    with pytest.raises(ValueError, match=r"got \(7, 784\)"):
        plots.plot_image_grid(np.ones((7, 784)))


def test_weight_histograms_skip_layers_without_weights():
    model = keras.Sequential([keras.Input((4, 4)), keras.layers.Flatten(),
                              keras.layers.Dense(3, name="out")])
    ax = plots.plot_weight_histograms(model)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["out (48 weights)"]
    with pytest.raises(ValueError, match="at least one layer holding weights"):
        plots.plot_weight_histograms(keras.Sequential([keras.Input((4,)), keras.layers.Flatten()]))


def test_filters_scale_each_tile_and_reject_dense_kernels():
    kernel = np.arange(3 * 3 * 2 * 4, dtype=float).reshape(3, 3, 2, 4)
    tiles = plots.plot_filters(kernel, ncols=4).images[0].get_array()
    assert np.nanmin(tiles) == 0.0 and np.nanmax(tiles) == 1.0
    with pytest.raises(ValueError, match=r"\(h, w, in, out\), got \(784, 10\)"):
        plots.plot_filters(np.zeros((784, 10)))


def test_confusion_matrix_counts_and_names_classes():
    ax = plots.plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], class_names=["a", "b", "c"])
    assert ax.images[0].get_array()[2, 2] == 2 and ax.get_ylabel() == "true label"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="expected as many predictions as labels"):
        plots.plot_confusion_matrix([0, 1], [0])
