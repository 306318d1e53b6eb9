"""Tiny configurations (32 px, narrow models, few epochs): the loops learn, and repeat exactly."""

import numpy as np
import pytest
import torch

from engine.datasets import load_folder
from engine.errors import InputError
from engine.evaluation import metrics
from engine.evaluation.arrays import load_cases
from engine.evaluation.models import SmallCNN, UNet
from engine.evaluation.training import (
    TrainConfig,
    predict_malignancy,
    predict_masks,
    train_classifier,
    train_segmentation,
)

from .toy import write_toy_folder

TINY = TrainConfig(epochs=12, batch=8, lr=1e-2, base=4, depth=2)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    torch.set_num_threads(1)
    root = write_toy_folder(tmp_path_factory.mktemp("toy"), n_lesions=32, seed=0, size=64)
    return load_cases("toy", load_folder(root).lesion_cases(), 32)


def test_models_give_the_right_shapes():
    x = torch.zeros(2, 1, 32, 32)
    assert UNet(4, 3)(x).shape == (2, 1, 32, 32)
    assert SmallCNN(4, 3)(x).shape == (2,)


def test_segmentation_learns_the_toy_lesions_and_repeats(toy):
    model = train_segmentation(toy, TINY, seed=0)
    pred = predict_masks(model, toy.images)
    mean_dice = np.mean([metrics.dice(p, t) for p, t in zip(pred, toy.masks, strict=True)])
    untrained = predict_masks(UNet(TINY.base, TINY.depth).eval(), toy.images)
    before = np.mean([metrics.dice(p, t) for p, t in zip(untrained, toy.masks, strict=True)])
    assert mean_dice > 0.5 and mean_dice > before + 0.2
    again = predict_masks(train_segmentation(toy, TINY, seed=0), toy.images)
    assert np.array_equal(pred, again)


def test_classifier_learns_the_toy_labels_and_repeats(toy):
    model = train_classifier(toy, TINY, seed=1)
    prob = predict_malignancy(model, toy.images)
    assert metrics.roc_auc(toy.labels, prob) > 0.85
    assert np.array_equal(prob, predict_malignancy(train_classifier(toy, TINY, seed=1), toy.images))


def test_training_refuses_bad_sizes(toy):
    with pytest.raises(InputError):
        train_segmentation(toy.subset([0]), TINY, seed=0)
    with pytest.raises(InputError):
        train_segmentation(toy, TrainConfig(epochs=1, base=4, depth=6), seed=0)


def test_device_choice():
    from engine.evaluation.training import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InputError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no usable CUDA"):
            resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_the_gpu_learns_like_on_the_cpu(toy):
    model = train_segmentation(toy, TINY, seed=0, device="cuda")
    pred = predict_masks(model, toy.images)
    assert np.mean([metrics.dice(p, t) for p, t in zip(pred, toy.masks, strict=True)]) > 0.5
    prob = predict_malignancy(train_classifier(toy, TINY, seed=1, device="cuda"), toy.images)
    assert metrics.roc_auc(toy.labels, prob) > 0.85
