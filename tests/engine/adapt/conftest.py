"""A tiny seeded base model, a tiny site dataset (folder layout, masks and a normal image) and one
adapter trained on it in a few steps: shared by the adaptation tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.generator.pipeline import BusTumorPipeline
from tests.engine.generator.tiny import HashTextEncoder, ellipse, tiny_model, tissue


def write_site(root, n: int = 4, normal: int = 1, seed: int = 0):
    """images/, masks/, labels.csv: n images, the last `normal` of them without a lesion."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = ["image,label,mm_per_pixel"]
    for i in range(n):
        Image.fromarray(tissue(seed=seed + i)).save(root / "images" / f"im{i}.png")
        label = "normal" if i >= n - normal else "benign"
        if label == "benign":
            mask = ellipse(cy=55 + 6 * i, cx=100 + 8 * i)
            Image.fromarray(mask.astype(np.uint8) * 255).save(root / "masks" / f"im{i}.png")
        rows.append(f"im{i}.png,{label},0.1")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="session")
def site_data(tmp_path_factory):
    return write_site(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture(scope="session")
def site(tmp_path_factory, site_data):
    """(base model folder, site dataset folder, trained adapter folder)."""
    import torch

    from engine.adapt.train import AdaptConfig, adapt

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("adapt")
    base = BusTumorPipeline(tiny_model(), text_encoder=HashTextEncoder()).save_pretrained(root / "base")
    data = site_data
    cfg = AdaptConfig(model=base, data=data, out=root / "adapter", steps=6, batch=4, rank=4, log_every=2)
    adapt(cfg, text_encoder=HashTextEncoder(), log=lambda m: None)
    return base, data, root / "adapter"


def other_base(path):
    """A different tiny model (another seed): adapters of `site` must not load on it."""
    return BusTumorPipeline(tiny_model(seed=1), text_encoder=HashTextEncoder()).save_pretrained(path)
