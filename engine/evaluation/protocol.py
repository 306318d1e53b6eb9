"""The evaluation's configuration: the reduced protocol (2 CPU cores, about 30 minutes) and the
full one (a GPU), plus the user's choices. Written verbatim into the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from engine.evaluation.training import TrainConfig

PROTOCOLS = {
    # 64 px, narrow models, few epochs, 200 diffusion images: 3 arms x 3 seeds x 2 tasks, about
    # 12 CPU-minutes at one thread (synthesis ~1 s per image, training ~10 ms per image and epoch),
    # so 30 minutes of wall time hold it while the process gets at least ~40 % of a core
    "reduced": {
        "size": 64,
        "train": TrainConfig(epochs=10, batch=16, lr=2e-3, base=8, depth=3),
        "canvas_px": 256,
        "synthetic": 200,
    },
    "full": {
        "size": 256,
        "train": TrainConfig(epochs=60, batch=16, lr=1e-3, base=32, depth=4),
        "canvas_px": 512,
        "synthetic": 1000,
    },
}
ARMS = ("real", "real+synthetic", "synthetic")


@dataclass
class EvaluationConfig:
    train: str  # dataset path or name under the data root
    test: list[str]  # further test datasets (the train dataset's held-out patients are always tested)
    out: Path
    synthetic: int = 0  # synthetic images for arms (b) and (c); 0 runs arm (a) only
    # folder of the synthetic-set cache (engine.evaluation.synthetic_cache); None: no cache
    synthetic_cache: Path | None = None
    seeds: int = 3
    protocol: str = "reduced"
    generator: str = "diffusion"
    model_dir: Path | None = None
    canvases: str | None = (
        None  # dataset holding lesion-free frames; default: the train dataset's normal images
    )
    limit: int | None = None  # at most this many cases per dataset (dry runs)
    size: int = 64
    train_config: TrainConfig = field(default_factory=TrainConfig)
    canvas_px: int = 256
    test_fraction: float = 0.2
    split_seed: int = 0
    bootstrap: int = 1000
    synthetic_seed: int = 0
    device: str = "auto"  # training and synthesis: auto (a GPU where torch sees one), cpu or cuda

    @classmethod
    def for_protocol(cls, protocol: str, **choices) -> EvaluationConfig:
        from engine.errors import InputError

        if protocol not in PROTOCOLS:
            raise InputError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
        p = PROTOCOLS[protocol]
        overrides = {k: v for k, v in choices.items() if v is not None}
        epochs = overrides.pop("epochs", None)
        values = {
            "protocol": protocol,
            "size": p["size"],
            "train_config": p["train"],
            "canvas_px": p["canvas_px"],
            "synthetic": p["synthetic"],
        }
        cfg = cls(**{**values, **overrides})
        if epochs is not None:
            cfg = replace(cfg, train_config=replace(cfg.train_config, epochs=epochs))
        return cfg

    def to_dict(self) -> dict:
        d = asdict(self)
        d["out"] = str(self.out)
        d["model_dir"] = str(self.model_dir) if self.model_dir else None
        d["synthetic_cache"] = str(self.synthetic_cache) if self.synthetic_cache else None
        return d
