"""The click segmenter: a small UNet on a window around a click or box, saved as fp16 safetensors.

Input channels: the window's standardized gray values and the prior (click dot or box, see
engine.annotation.window). Output: lesion logits on the window. The folder holds
`segmenter.safetensors`, `config.json` (architecture, window size, the split it was trained on)
and a model card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ModelError
from engine.fileio import atomic_write, atomic_write_bytes

WEIGHTS = "segmenter.safetensors"
CONFIG = "config.json"


def _bundled_folder() -> Path:
    from engine.settings import RESOURCES

    return RESOURCES / "models" / "segmenter"


BUNDLED_FOLDER = _bundled_folder()


def default_folder() -> Path:
    """`segmenter/` inside the configured model folder (BUS_MODEL_DIR) when it has one, else the
    bundled resources/models/segmenter."""
    from engine.settings import get_settings

    inside = Path(get_settings().model_dir) / "segmenter"
    return inside if (inside / WEIGHTS).is_file() else BUNDLED_FOLDER


def build_unet(base: int, depth: int, in_channels: int = 2):
    """engine.evaluation.models.UNet with its first block taking `in_channels` inputs."""
    from engine.evaluation.models import UNet, _block

    net = UNet(base=base, depth=depth)
    net.down[0] = _block(in_channels, base)
    return net


@dataclass
class Segmenter:
    net: object  # torch.nn.Module in eval mode, float32
    window_px: int
    config: dict
    folder: Path | None = None
    # one window is small: one thread is as fast as two on an idle machine and far faster on a busy
    # one (measured 15 ms against 30-650 ms with two threads while other jobs held the cores)
    threads: int = 1

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """(B, 2, px, px) float32 inputs -> (B, px, px) logits."""
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                return self.net(torch.from_numpy(np.ascontiguousarray(batch, np.float32)))[:, 0].numpy()
        finally:
            torch.set_num_threads(previous)


def save_segmenter(net, config: dict, folder: Path) -> Path:
    """fp16 safetensors + config.json, each written to a temp file and renamed."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to(torch.float16).contiguous()
        for k, v in net.state_dict().items()
        if v.dtype.is_floating_point
    }
    state.update({k: v for k, v in net.state_dict().items() if not v.dtype.is_floating_point})
    atomic_write(folder / WEIGHTS, lambda tmp: save_file(state, str(tmp), metadata={"format": "pt"}))
    atomic_write_bytes(folder / CONFIG, (json.dumps(config, indent=2) + "\n").encode())
    return folder / WEIGHTS


def load_segmenter(folder: Path | None = None) -> Segmenter:
    """The segmenter in `folder` (default: default_folder()); ModelError names what is missing."""
    folder = Path(folder) if folder is not None else default_folder()
    weights, config_path = folder / WEIGHTS, folder / CONFIG
    if not weights.is_file() or not config_path.is_file():
        raise ModelError(f"{folder}: no click segmenter here (needs {WEIGHTS} and {CONFIG})")
    from safetensors import SafetensorError

    try:
        config = json.loads(config_path.read_text())
        from safetensors.torch import load_file

        net = build_unet(int(config["base"]), int(config["depth"]), int(config.get("in_channels", 2)))
        state = {k: v.float() if v.dtype.is_floating_point else v for k, v in load_file(str(weights)).items()}
        net.load_state_dict(state)
    except (KeyError, ValueError, RuntimeError, OSError, SafetensorError) as exc:
        raise ModelError(f"{folder}: the click segmenter cannot be loaded: {exc}") from exc
    net.eval()
    return Segmenter(net, int(config["window_px"]), config, folder)


def try_load_segmenter(folder: Path | None = None) -> Segmenter | None:
    """The segmenter, or None when the folder has none (callers then run the classical fallback and
    say so); a folder that has one but cannot load it still raises ModelError."""
    folder = Path(folder) if folder is not None else default_folder()
    if not (folder / WEIGHTS).is_file():
        return None
    return load_segmenter(folder)


def export_onnx(segmenter: Segmenter, path: Path, opset: int = 17) -> Path:
    """The segmenter as an ONNX graph (batch dimension dynamic), checked, written atomically."""
    import warnings

    import onnx
    import torch

    px = segmenter.window_px

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                segmenter.net, (torch.zeros(1, 2, px, px),), str(tmp), dynamo=False, opset_version=opset,
                input_names=["window"], output_names=["logits"],
                dynamic_axes={"window": {0: "batch"}, "logits": {0: "batch"}},
            )  # fmt: skip
        onnx.checker.check_model(str(tmp), full_check=True)

    return atomic_write(path, write)
