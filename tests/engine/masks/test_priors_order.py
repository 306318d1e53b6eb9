"""Draws from the priors' frequency tables must not depend on the tables' dict order: priors read from
JSON come with sorted keys, freshly fitted ones in SHAPES / MARGIN_CLASSES order."""

import numpy as np

from engine.language.description import LesionDescription, Margin
from engine.masks.descriptors import shape_descriptors
from engine.masks.figures import TASKS, _request, task_label
from engine.masks.generator import _complete, description_for_class, generate_masks
from engine.masks.priors import MARGIN_CLASSES, SHAPES, RealMask, load_priors, measured_priors, save_priors


def _labelled_masks() -> list[RealMask]:
    """Generated masks standing in for labelled real ones, with uneven counts per (shape, margin)
    pair, so a draw in the wrong key order picks a different pair."""
    pairs = [
        (s, m)
        for i, s in enumerate(SHAPES)
        for j, m in enumerate(MARGIN_CLASSES)
        for _ in range(1 + (i + 2 * j) % 4)
    ]
    descs = [description_for_class(s, m, "parallel", 15.0) for s, m in pairs]
    masks = generate_masks(descs, range(len(descs)), 0.1, (200, 200), priors=load_priors(), soft=False)
    return [
        RealMask(f"case{k}", g.mask, s, m, 0.1, 15.0, shape_descriptors(g.mask))
        for k, ((s, m), g) in enumerate(zip(pairs, masks, strict=True))
    ]


def _draws(priors) -> tuple[list, list]:
    requests = []
    for task in TASKS:
        classes = sorted({task_label(task, s, m) for s in SHAPES for m in MARGIN_CLASSES} - {None})
        rng = np.random.default_rng(5)
        requests += [(task, cls, _request(task, cls, rng, priors)) for cls in classes for _ in range(40)]
    open_requests = [LesionDescription(), LesionDescription(margin=Margin(False))]
    completed = [
        (d.shape, d.margin)
        for seed in range(60)
        for d in (_complete(req, priors, np.random.default_rng(seed)) for req in open_requests)
    ]
    return requests, completed


def test_json_loaded_and_freshly_fitted_priors_give_the_same_requests(tmp_path):
    fitted = measured_priors(_labelled_masks())
    loaded = load_priors(save_priors(fitted, tmp_path / "priors.json"))
    assert loaded.margin_frequency == fitted.margin_frequency
    expected = _draws(fitted)
    assert _draws(loaded) == expected
    # and whatever order the tables are put in afterwards
    fitted.shape_frequency = dict(reversed(fitted.shape_frequency.items()))
    fitted.margin_frequency = {
        s: dict(reversed(m.items())) for s, m in reversed(fitted.margin_frequency.items())
    }
    assert _draws(fitted) == expected
    # the draws follow the fitted counts: pairs never seen are never requested
    seen = {(s, m) for s, row in loaded.margin_frequency.items() for m, c in row.items() if c}
    assert {req[2] for req in expected[0]} <= seen
