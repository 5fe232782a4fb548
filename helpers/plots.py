"""Figures the notebooks share. Each ``plot_*`` draws on ``ax`` (a new one if ``None``),
labels everything, and returns the Axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "plot_learning_curves",
    "plot_image_grid",
    "plot_weight_histograms",
    "plot_filters",
    "plot_confusion_matrix",
]


def _axes(ax: plt.Axes | None, figsize: tuple[float, float] = (6, 4)) -> plt.Axes:
    return plt.subplots(figsize=figsize)[1] if ax is None else ax


def _mosaic(tiles: np.ndarray, ncols: int, pad: int = 1) -> np.ndarray:
    """Tile ``(n, h, w)`` arrays into one 2D image, with NaN gaps that draw blank."""
    count, height, width = tiles.shape
    nrows = -(-count // ncols)
    canvas = np.full((nrows * (height + pad) - pad, ncols * (width + pad) - pad), np.nan)
    for index, tile in enumerate(tiles):
        row, col = divmod(index, ncols)
        top, left = row * (height + pad), col * (width + pad)
        canvas[top:top + height, left:left + width] = tile
    return canvas


def plot_learning_curves(history: Any, *, metric: str = "loss", ax: plt.Axes | None = None,
                         title: str | None = None) -> plt.Axes:
    """Plot a metric per epoch for training and, if recorded, validation.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        What ``fit()`` returned, or its ``.history`` dict.
    metric : str, default "loss"
        Key to plot; ``"val_" + metric`` is added when present.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Title of the axes; by default "<metric> per epoch".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_learning_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    >>> [line.get_label() for line in ax.get_lines()]
    ['training', 'validation']
    """
    record = getattr(history, "history", history)
    if not isinstance(record, dict) or metric not in record:
        keys = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"expected a history with the key {metric!r}, got {keys}")
    ax = _axes(ax)
    epochs = np.arange(1, len(record[metric]) + 1)
    ax.plot(epochs, record[metric], marker="o", label="training")
    if f"val_{metric}" in record:
        ax.plot(epochs, record[f"val_{metric}"], marker="o", label="validation")
    ax.set(xlabel="epoch", ylabel=metric, title=title or f"{metric} per epoch")
    ax.legend()
    return ax


def plot_image_grid(images: Any, *, labels: Sequence[Any] | None = None,
                    predictions: Sequence[Any] | None = None, ncols: int = 10,
                    ax: plt.Axes | None = None, title: str = "Images") -> plt.Axes:
    """Show grayscale images in a grid, with labels and (red where wrong) predictions.

    Parameters
    ----------
    images : array of shape (n, h, w) or (n, h, w, 1)
        Grayscale images.
    labels, predictions : sequences of length n, optional
        Shown above each image; a prediction that differs from its label is red.
    ncols : int, default 10
        Images per row.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, default "Images"
        Title of the axes.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_image_grid(np.zeros((3, 8, 8)), labels=[0, 1, 2], predictions=[0, 1, 1])
    >>> [text.get_color() for text in ax.texts]
    ['black', 'black', 'red']
    """
    tiles = np.asarray(images, dtype=np.float64)
    if tiles.ndim == 4 and tiles.shape[-1] == 1:
        tiles = tiles[..., 0]
    if tiles.ndim != 3:
        raise ValueError(f"expected images of shape (n, h, w) or (n, h, w, 1), got {tiles.shape}")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != len(tiles):
            raise ValueError(f"expected {len(tiles)} {name}, got {len(values)}")
    ncols = max(1, min(ncols, len(tiles)))
    ax = _axes(ax, figsize=(1.1 * ncols, 1.3 * -(-len(tiles) // ncols)))
    ax.imshow(_mosaic(tiles, ncols), cmap="gray_r")
    height, width = tiles.shape[1:]
    for index in range(len(tiles)):
        row, col = divmod(index, ncols)
        parts = [] if labels is None else [f"{labels[index]}"]
        wrong = False
        if predictions is not None:
            parts.append(f"pred {predictions[index]}")
            wrong = labels is not None and predictions[index] != labels[index]
        if parts:
            ax.text(col * (width + 1) + width / 2, row * (height + 1) - 0.5, " / ".join(parts),
                    ha="center", va="bottom", fontsize=7, color="red" if wrong else "black")
    ax.set_title(title, pad=12)
    ax.set_axis_off()
    return ax


def plot_weight_histograms(model: Any, *, bins: int = 50, ax: plt.Axes | None = None,
                           title: str = "Kernel weights per layer") -> plt.Axes:
    """Overlay a histogram of each layer's kernel (its first weight array).

    Parameters
    ----------
    model : keras.Model
        A built model; layers without weights are skipped.
    bins : int, default 50
        Bins of each histogram.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, default "Kernel weights per layer"
        Title of the axes.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If no layer holds weights.

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="hidden")])
    >>> ax = plot_weight_histograms(model)
    >>> ax.get_legend().get_texts()[0].get_text()
    'hidden (32 weights)'
    """
    ax = _axes(ax)
    drawn = 0
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            kernel = np.ravel(weights[0])
            ax.hist(kernel, bins=bins, alpha=0.5, label=f"{layer.name} ({kernel.size} weights)")
            drawn += 1
    if not drawn:
        raise ValueError("expected a model with at least one layer holding weights, got none")
    ax.set(xlabel="weight value", ylabel="count", title=title)
    ax.legend()
    return ax


def plot_filters(kernel: Any, *, ncols: int = 8, ax: plt.Axes | None = None,
                 title: str = "Convolution filters") -> plt.Axes:
    """Show a Conv2D kernel of shape (h, w, in, out) as a grid, one tile per filter.

    Filters are averaged over input channels and each is scaled to its own range.

    Parameters
    ----------
    kernel : array of shape (h, w, in, out)
        A ``Conv2D`` kernel, in Keras's layout.
    ncols : int, default 8
        Filters per row.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, default "Convolution filters"
        Title of the axes.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``kernel`` does not have 4 axes.

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_filters(np.random.default_rng(0).normal(size=(3, 3, 1, 16)))
    >>> ax.get_title()
    'Convolution filters'
    """
    weights = np.asarray(kernel, dtype=np.float64)
    if weights.ndim != 4:
        raise ValueError(f"expected a Conv2D kernel of shape (h, w, in, out), got {weights.shape}")
    tiles = np.moveaxis(weights.mean(axis=2), -1, 0)
    low = tiles.min(axis=(1, 2), keepdims=True)
    span = np.ptp(tiles, axis=(1, 2), keepdims=True)
    tiles = (tiles - low) / np.where(span > 0, span, 1.0)
    ncols = max(1, min(ncols, len(tiles)))
    ax = _axes(ax, figsize=(ncols, -(-len(tiles) // ncols)))
    ax.imshow(_mosaic(tiles, ncols), cmap="gray")
    ax.set_title(title)
    ax.set_axis_off()
    return ax


def plot_confusion_matrix(y_true: Any, y_pred: Any, *,
                          class_names: Sequence[str] | None = None,
                          ax: plt.Axes | None = None,
                          title: str = "Confusion matrix") -> plt.Axes:
    """Draw counts of true (rows) against predicted (columns) integer labels.

    Parameters
    ----------
    y_true, y_pred : sequences of int
        True and predicted labels, of the same length.
    class_names : sequence of str, optional
        Tick labels; by default the label numbers.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, default "Confusion matrix"
        Title of the axes.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the two label sequences differ in length.

    Examples
    --------
    >>> ax = plot_confusion_matrix([0, 1, 1], [0, 1, 0])
    >>> ax.images[0].get_array().tolist()
    [[1, 0], [1, 1]]
    """
    true = np.asarray(y_true).astype(int).ravel()
    pred = np.asarray(y_pred).astype(int).ravel()
    if true.shape != pred.shape:
        raise ValueError(f"expected as many predictions as labels ({true.size}), got {pred.size}")
    count = int(max(true.max(), pred.max())) + 1 if class_names is None else len(class_names)
    matrix = np.zeros((count, count), dtype=int)
    np.add.at(matrix, (true, pred), 1)
    names = [str(i) for i in range(count)] if class_names is None else list(class_names)
    ax = _axes(ax, figsize=(5, 5))
    ax.imshow(matrix, cmap="Blues")
    for (row, col), value in np.ndenumerate(matrix):
        ax.text(col, row, value, ha="center", va="center",
                color="white" if value > matrix.max() / 2 else "black")
    ax.set(xticks=range(count), yticks=range(count), xticklabels=names, yticklabels=names,
           xlabel="predicted label", ylabel="true label", title=title)
    return ax
