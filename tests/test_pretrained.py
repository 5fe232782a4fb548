"""helpers.pretrained: the shipped base network is small, correct, and reproducible by its script."""

import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import data, pretrained


def _architecture(model):
    return [(type(layer).__name__, layer.get_config()) for layer in model.layers]


def test_the_shipped_file_is_small_and_has_the_built_architecture():
    assert pretrained.ASSET_PATH.stat().st_size <= 2 * 1024 * 1024
    shipped = pretrained.load_base_network()
    assert _architecture(shipped) == _architecture(pretrained.build_base_network())
    assert shipped.count_params() == pretrained.base_network_metadata()["parameters"]


def test_the_shipped_network_has_the_accuracy_its_metadata_states():
    (_, _), (x_test, y_test) = data.load_mnist_sample(classes=pretrained.BASE_CLASSES,
                                                      test_size=500)
    images = (x_test / 255.0).astype("float32")[..., np.newaxis]
    predictions = np.argmax(pretrained.load_base_network().predict(images, verbose=0), axis=1)
    accuracy = float(np.mean(predictions == y_test))
    stated = pretrained.base_network_metadata()["test_accuracy"]
    assert accuracy == pytest.approx(stated, abs=0.002) and accuracy >= 0.95


def test_the_script_reproduces_the_shipped_network(tmp_path):
    model, accuracy = pretrained.train_base_network()
    assert accuracy == pytest.approx(pretrained.base_network_metadata()["test_accuracy"], abs=0.02)
    path = tmp_path / "base.keras"
    pretrained.save_base_network(model, accuracy, path)
    assert path.with_suffix(".json").exists()
    assert _architecture(model) == _architecture(pretrained.load_base_network())


def test_a_missing_file_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(pretrained, "ASSET_PATH", tmp_path / "missing.keras")
    with pytest.raises(FileNotFoundError, match="python -m helpers.pretrained"):
        pretrained.load_base_network()


def test_without_a_network_the_imagenet_loader_says_why(bwrap, tmp_path):
    """Offline for real: a sandbox with no network, and an empty Keras cache."""
    code = ("from helpers import pretrained\n"
            "try:\n    pretrained.load_imagenet_extractor(timeout=5)\n"
            "except pretrained.WeightsUnavailable as reason:\n    print('unavailable:', reason)\n")
    result = subprocess.run(
        ["bwrap", "--dev-bind", "/", "/", "--unshare-net", sys.executable, "-c", code],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, KERAS_HOME=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("unavailable: could not download the ImageNet weights"), \
        result.stdout
    assert "Downloading data" not in result.stdout, "the helper prints nothing itself"
