"""Denoiser and encoder calls on exported ONNX graphs in onnxruntime: numpy in, numpy out, no torch.

An exported folder (see engine.backends.export) holds `pipeline.json` (the model's config with an
"onnx" entry), `denoiser.onnx`, `encoder.onnx` (MiniLM text encoder + description conditioner in one
graph, with the null sequence for guidance as a second output) and `tokenizer.json`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from engine.backends.select import cuda_fallback_note, onnx_providers_for
from engine.errors import ModelError
from engine.language.attributes import ATTRIBUTE_FIELDS, description_to_index_lists
from engine.language.description import LesionDescription

CONFIG_NAME = "pipeline.json"
DENOISER_FILE = "denoiser.onnx"
ENCODER_FILE = "encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
WEIGHTS_FILE = "model.safetensors"  # the torch weights the graphs are exported from
ONNX_FILES = (DENOISER_FILE, ENCODER_FILE, TOKENIZER_FILE)
log = logging.getLogger("engine.backends")


def onnx_folder(model_dir: str | Path) -> Path | None:
    """The folder holding the ONNX graphs: the model folder itself or its `onnx/` subfolder."""
    model_dir = Path(model_dir)
    for folder in (model_dir, model_dir / "onnx"):
        if all((folder / name).is_file() for name in ONNX_FILES) and (folder / CONFIG_NAME).is_file():
            return folder
    return None


def weights_digest(path: str | Path) -> str:
    """sha256 of a weights file: ties exported graphs to the weights they were exported from."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def onnx_matches_weights(folder: str | Path, model_dir: str | Path) -> bool:
    """Whether the graphs in `folder` were exported from `model_dir`'s weights (True when the model
    folder has no weights: the graphs are all there is). Older exports did not record it: False."""
    weights = Path(model_dir) / WEIGHTS_FILE
    if not weights.is_file():
        return True
    try:
        recorded = json.loads((Path(folder) / CONFIG_NAME).read_text())["onnx"]["weights_sha256"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return False
    return recorded == weights_digest(weights)


def attribute_arrays(description: LesionDescription | None) -> tuple[np.ndarray, np.ndarray]:
    """([1, F] int64 field indices in ATTRIBUTE_FIELDS order, [1, 4] int64 margin subtypes)."""
    row = description_to_index_lists(description)
    fields = np.array([[row[name] for name in ATTRIBUTE_FIELDS]], np.int64)
    return fields, np.array([row["margin_subtypes"]], np.int64)


class OnnxBackend:
    """onnx-cpu or onnx-cuda: `denoise` and `encode` as the torch backend, on numpy arrays."""

    def __init__(
        self,
        folder: str | Path,
        name: str = "onnx-cpu",
        threads: int | None = None,
        optimization: str = "all",
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.folder = folder
        self.name = name
        try:
            config = json.loads((folder / CONFIG_NAME).read_text())
            self.max_tokens = int(config["components"]["conditioner"]["config"]["text_tokens"])
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ModelError(f"{folder / CONFIG_NAME}: not a valid exported pipeline config: {exc}") from exc
        options = ort.SessionOptions()
        options.graph_optimization_level = {
            "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[optimization]
        if threads:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        # onnxruntime-gpu logs its own multi-line error when CUDA is unusable; we say it in one line.
        options.log_severity_level = 4 if name == "onnx-cuda" else 3
        providers = onnx_providers_for(name)
        self.sessions = {}
        for key, file in (("denoiser", DENOISER_FILE), ("encoder", ENCODER_FILE)):
            path = folder / file
            try:
                self.sessions[key] = ort.InferenceSession(str(path), options, providers=providers)
            except Exception as exc:  # onnxruntime raises its own exception types
                raise ModelError(f"{path}: onnxruntime could not load it: {exc}") from exc
        self.providers = self.sessions["denoiser"].get_providers()
        self.note = cuda_fallback_note(name, self.providers)
        if self.note:
            log.warning(self.note)
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding(length=self.max_tokens, pad_id=0, pad_token="[PAD]")

    @property
    def device(self) -> str:
        return "cuda" if any(p != "CPUExecutionProvider" for p in self.providers) else "cpu"

    def about(self) -> dict:
        """Entries for the synthesis record."""
        import platform

        import onnxruntime

        return {
            "providers": self.providers,
            "backend_note": self.note,
            "onnxruntime": onnxruntime.__version__,
            "python": platform.python_version(),
        }

    def denoise(self, noisy, conditions, timestep, sequence) -> np.ndarray:
        """(noisy [B,1,S,S], conditions [B,C,S,S], timestep [B], sequence [B,L,W]) -> [B,1,S,S] float32."""
        batch = noisy.shape[0]
        feeds = {
            "noisy": np.ascontiguousarray(noisy, np.float32),
            "conditions": np.ascontiguousarray(conditions, np.float32),
            "timestep": np.broadcast_to(np.asarray(timestep, np.float32), (batch,)).copy(),
            "sequence": np.ascontiguousarray(sequence, np.float32),
        }
        return self.sessions["denoiser"].run(None, feeds)[0]

    def encode(
        self, text: str, description: LesionDescription | None, batch: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(conditional [B, L, W], unconditional [B, L, W]) cross-attention sequences."""
        encoding = self.tokenizer.encode(text)
        fields, subtypes = attribute_arrays(description)
        cond, null = self.sessions["encoder"].run(
            None,
            {
                "input_ids": np.array([encoding.ids], np.int64),
                "attention_mask": np.array([encoding.attention_mask], np.int64),
                "attributes": fields,
                "margin_subtypes": subtypes,
            },
        )
        return np.repeat(cond, batch, axis=0), np.repeat(null, batch, axis=0)
