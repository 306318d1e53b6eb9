"""Train the generator: v-prediction diffusion on cached lesion windows, EMA, resumable, DDP-ready.

    bus-engine train --out out/train [--resume]            # one process
    torchrun --nproc_per_node 2 -m engine.cli.main train --out out/train   # DDP (gloo on CPU, nccl on CUDA)

Writes into --out: split.json (fixed, patient-grouped), log.csv, loss.png, checkpoint.pt (model,
EMA, optimizer, step: `--resume` continues from it) and model/ (the EMA weights as a pipeline
folder, fp16 safetensors + pipeline.json), plus summary.json.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.errors import DataError, InputError
from engine.fileio import append_csv_row, atomic_write, atomic_write_bytes
from engine.generator.data import CACHE_VERSION, Cache, build_cache, load_cache, load_or_make_split
from engine.generator.schedulers import TRAINING_SCHEDULE, make_training_scheduler
from engine.generator.unet import DenoiserConfig, GeneratorModel

LOG_FIELDS = ("step", "epoch", "loss", "val_loss", "lr", "seconds", "samples_per_second")


@dataclass
class TrainConfig:
    out: Path
    data_root: Path | None = None
    cache: Path | None = None  # default: ~/.cache/bus-studio/generator-windows-v2-s{size}.npz
    datasets: tuple[str, ...] = ("busi", "breast")
    # Train (and validate) on these datasets' part of the split only, e.g. ("busi",) for a BUSI-only
    # base model; the split itself stays the one over all data, so test sets are comparable.
    train_datasets: tuple[str, ...] | None = None
    gain_jitter: float = 0.2  # random overall gain (x0.8-1.2) on half the windows: scanners differ
    steps: int = 2000
    minutes: float | None = None  # stop (and save) after this wall time, whatever `steps` says
    batch: int = 32
    lr: float = 3e-4
    warmup: int = 100
    ema_decay: float = 0.999
    p_null: float = 0.1  # whole condition swapped for the null sequence (classifier-free guidance)
    p_drop_text: float = 0.2
    p_drop_attribute: float = 0.2
    seed: int = 0
    save_every: int = 200
    val_every: int = 200
    log_every: int = 10
    resume: bool = False
    threads: int | None = None
    split: Path | None = (
        None  # a saved split.json to reuse (e.g. the default model's); else made from the data
    )
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["denoiser"] = self.denoiser.to_dict()
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


def default_cache_path(size: int = 64) -> Path:
    return (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "bus-studio"
        / f"generator-windows-v{CACHE_VERSION}-s{size}.npz"
    )


def select_datasets(split: dict[str, list[str]], datasets) -> dict[str, list[str]]:
    """The split restricted to sample ids of `datasets` (ids are "dataset/case/mask")."""
    if not datasets:
        return split
    keep = tuple(f"{d}/" for d in datasets)
    return {name: [i for i in ids if i.startswith(keep)] for name, ids in split.items()}


# ---------------------------------------------------------------------- distributed helpers
def _dist_info() -> tuple[int, int, int]:
    return (
        int(os.environ.get("RANK", 0)),
        int(os.environ.get("WORLD_SIZE", 1)),
        int(os.environ.get("LOCAL_RANK", 0)),
    )


def _setup_distributed(device: torch.device) -> tuple[int, int]:
    rank, world, local = _dist_info()
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch.distributed.init_process_group(backend)
    return rank, world


def parameter_digest(model: torch.nn.Module) -> str:
    h = hashlib.sha1()
    for name, p in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().float().numpy().tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------- batches
class Batches:
    """Seeded random batches from one split of the cache, with flips and gain jitter; rank-aware.

    The split's windows, conditions and tokens sit on `device` once, so a GPU step copies nothing.
    """

    def __init__(
        self,
        cache: Cache,
        ids: list[str],
        batch: int,
        seed: int,
        rank: int = 0,
        world: int = 1,
        device: torch.device | str = "cpu",
        gain_jitter: float = 0.0,
    ):
        index = {sid: i for i, sid in enumerate(cache.ids())}
        rows = np.array([index[i] for i in ids], np.int64)
        if rows.size == 0:
            raise DataError("the training split is empty")
        self.rows = np.arange(rows.size)
        self.batch, self.seed, self.rank, self.world = batch, seed, rank, world
        self.gain_jitter = gain_jitter
        self.x = torch.from_numpy(cache.windows[rows][:, None]).to(device)
        self.conditions = torch.from_numpy(cache.conditions[rows]).to(device)
        self.tokens = torch.from_numpy(cache.caption_tokens).to(device)
        self.token_mask = torch.from_numpy(cache.caption_mask).to(device)
        self.caption_index = torch.from_numpy(cache.caption_index[rows]).to(device)
        self.attributes = {k: torch.from_numpy(v[rows]).to(device) for k, v in cache.attributes.items()}

    def get(self, step: int, augment: bool = True) -> dict[str, torch.Tensor]:
        # Each (step, rank) has its own stream: resuming at step k gives the same batches as never stopping.
        rng = np.random.default_rng([self.seed, step, self.rank])
        rows = self.rows[rng.integers(0, self.rows.size, self.batch)]
        flips = rng.random(self.batch) < 0.5 if augment else np.zeros(self.batch, bool)
        gains = np.ones(self.batch)
        if augment and self.gain_jitter > 0:
            jitter = rng.uniform(1.0 - self.gain_jitter, 1.0 + self.gain_jitter, self.batch)
            gains = np.where(rng.random(self.batch) < 0.5, jitter, 1.0)
        return self.take(rows, flips, gains)

    def take(self, rows: np.ndarray, flips: np.ndarray, gains: np.ndarray | None = None) -> dict:
        device = self.x.device
        index = torch.from_numpy(np.asarray(rows, np.int64)).to(device)
        flip = torch.from_numpy(np.asarray(flips, bool)).to(device)[:, None, None, None]
        x = self.x[index]
        cond = self.conditions[index]
        x = torch.where(flip, x.flip(-1), x)
        cond = torch.where(flip, cond.flip(-1), cond)
        if gains is not None and np.any(gains != 1.0):
            # Gain acts on echo amplitude (0 = black): rescale [0, 2] and keep the context consistent.
            g = torch.from_numpy(np.asarray(gains, np.float32)).to(device)[:, None, None, None]
            x = ((x + 1.0) * g).clamp(0.0, 2.0) - 1.0
            region = cond[:, 2:3]
            cond = torch.cat([cond[:, :3], x * (1.0 - region)], dim=1)
        cap = self.caption_index[index]
        return {
            "x": x,
            "conditions": cond,
            "tokens": self.tokens[cap],
            "token_mask": self.token_mask[cap],
            "attributes": {k: v[index] for k, v in self.attributes.items()},
        }


def _sequence(
    model: GeneratorModel, batch: dict, cfg: TrainConfig, gen: torch.Generator | None
) -> torch.Tensor:
    from engine.language.encoder import drop_attributes

    conditioner = model.conditioner
    b = batch["x"].shape[0]
    token_mask = batch["token_mask"]
    attributes = batch["attributes"]
    if gen is not None:
        keep_text = (torch.rand(b, generator=gen) >= cfg.p_drop_text).to(token_mask.device)
        token_mask = token_mask & keep_text[:, None]
        attributes = drop_attributes(attributes, cfg.p_drop_attribute, gen)
    seq = conditioner(batch["tokens"], attributes, token_mask)
    if gen is not None:
        null = (torch.rand(b, generator=gen) < cfg.p_null).to(seq.device)
        seq = torch.where(null[:, None, None], conditioner.null(b).to(seq.dtype), seq)
    return seq


def diffusion_loss(
    model, scheduler, batch, cfg, gen, device, timesteps=None, noise=None, noise_gen=None
) -> torch.Tensor:
    """Weighted v-prediction loss; `noise_gen` (a generator on `device`) draws timesteps and noise
    there (a GPU step then makes no host-side noise), else `gen` draws them on the CPU."""
    x0 = batch["x"].to(device)
    conditions = batch["conditions"].to(device)
    b = x0.shape[0]
    draw = noise_gen if noise_gen is not None else gen
    where = device if noise_gen is not None else "cpu"
    if timesteps is None:
        timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (b,), generator=draw, device=where)
    if noise is None:
        noise = torch.randn(x0.shape, generator=draw, device=where)
    timesteps, noise = timesteps.to(device), noise.to(device)
    noisy = scheduler.add_noise(x0, noise, timesteps)
    target = scheduler.get_velocity(x0, noise, timesteps)
    seq = _sequence(model.module if hasattr(model, "module") else model, {**batch}, cfg, gen).to(device)
    pred = model(noisy, conditions, timesteps, seq)
    # The generation region is what gets pasted back: weight it most, keep some loss on the context.
    weight = 0.2 + conditions[:, 2:3]
    return ((pred.float() - target.float()) ** 2 * weight).sum() / weight.sum()


@torch.no_grad()
def validation_loss(model, scheduler, cache, ids, cfg, device, max_samples: int = 128) -> float:
    """Loss on fixed timesteps and noise (seeded), no dropout: comparable across steps and runs."""
    if not ids:
        return float("nan")
    batches = Batches(cache, ids[:max_samples], len(ids[:max_samples]), seed=12345, device=device)
    batch = batches.take(batches.rows, np.zeros(batches.rows.size, bool))
    gen = torch.Generator().manual_seed(12345)
    n = batches.rows.size
    t = torch.linspace(50, scheduler.config.num_train_timesteps - 50, n).long()
    noise = torch.randn(batch["x"].shape, generator=gen)
    model.eval()
    loss = diffusion_loss(model, scheduler, batch, cfg, None, device, t, noise)
    return float(loss)


def plot_losses(log_path: Path, out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(log_path.open()))
    if not rows:
        return
    step = [int(r["step"]) for r in rows]
    loss = [float(r["loss"]) for r in rows]
    val = [(int(r["step"]), float(r["val_loss"])) for r in rows if r["val_loss"] not in ("", "nan")]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(step, loss, lw=0.8, label="train (weighted v-loss)")
    if val:
        ax.plot(*zip(*val, strict=True), "o-", label="validation (fixed t, noise)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    try:
        # format named: the temp file's name does not end in .png
        atomic_write(out_png, lambda tmp: fig.savefig(tmp, format="png"))
    finally:
        plt.close(fig)


def _progress(
    step: int, total: int, loss: float, started: float, first_step: int, deadline: float | None
) -> str:
    done = step - first_step
    elapsed = time.time() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - step) / rate if rate > 0 else float("inf")
    if deadline is not None:
        eta = min(eta, max(deadline - time.time(), 0.0))
    width = 24
    filled = int(width * step / max(total, 1))
    eta_txt = "?" if math.isinf(eta) else time.strftime("%H:%M:%S", time.gmtime(eta))
    return f"[{'#' * filled}{'.' * (width - filled)}] step {step}/{total} loss {loss:.4f} {rate:.2f} it/s ETA {eta_txt}"


def train(cfg: TrainConfig, text_encoder=None, log=print) -> dict:
    """Train (or resume) and save the EMA model; returns the summary (also written to summary.json)."""
    from engine.generator.pipeline import BusTumorPipeline

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rank, world = _setup_distributed(device)
    if device.type == "cuda":
        device = torch.device("cuda", _dist_info()[2])
        torch.cuda.set_device(device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    is_main = rank == 0
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_path = Path(cfg.cache or default_cache_path(cfg.denoiser.size))
    if not cache_path.exists():
        if not is_main:
            raise DataError("the training cache must be built by rank 0 before a distributed run")
        if cfg.data_root is None:
            raise InputError("no training cache and no --data folder to build it from")
        if text_encoder is None:
            from engine.language.encoder import TextEncoder

            text_encoder = TextEncoder()
        log(f"building the training cache {cache_path} from {cfg.data_root}")
        build_cache(
            Path(cfg.data_root), cache_path, text_encoder, cfg.datasets, progress=log, size=cfg.denoiser.size
        )
    cache = load_cache(cache_path)
    if cache.windows.shape[-1] != cfg.denoiser.size:
        raise DataError(
            f"{cache_path} holds {cache.windows.shape[-1]}-pixel windows but the model is "
            f"{cfg.denoiser.size} pixels; pass the cache of that size (or none, to build it)"
        )
    split_path = out / "split.json"
    if cfg.split is not None and not split_path.exists():
        import shutil

        if not Path(cfg.split).is_file():
            raise InputError(f"--split {cfg.split} does not exist")
        if is_main:
            shutil.copyfile(cfg.split, split_path)
    if world > 1:
        torch.distributed.barrier()
    split = load_or_make_split(split_path, cache.meta)
    fit = select_datasets(split, cfg.train_datasets)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    model = GeneratorModel(cfg.denoiser, int(cache.caption_tokens.shape[1])).to(device)
    ema = GeneratorModel(cfg.denoiser, int(cache.caption_tokens.shape[1])).to(device)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    scheduler = make_training_scheduler()
    step, elapsed_before = 0, 0.0
    ckpt_path = out / "checkpoint.pt"
    log_path = out / "log.csv"
    if cfg.resume:
        if not ckpt_path.is_file():
            raise InputError(f"--resume: no checkpoint at {ckpt_path}")
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed_before = int(state["step"]), float(state.get("seconds", 0.0))
        log(f"resumed from {ckpt_path} at step {step}")
    elif is_main and log_path.exists():
        log_path.unlink()  # a fresh run starts a fresh log
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device] if device.type == "cuda" else None
        )
    batches = Batches(cache, fit["train"], cfg.batch, cfg.seed, rank, world, device, cfg.gain_jitter)
    amp = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else torch.autocast("cpu", enabled=False)
    )
    started = time.time()
    deadline = started + cfg.minutes * 60 if cfg.minutes else None
    first_step = step
    epoch_size = max(len(fit["train"]) // (cfg.batch * world), 1)
    best_val = float("inf")
    summary: dict = {}

    def save_checkpoint():
        if is_main:
            state = {
                "model": model.state_dict(),
                "ema": ema.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "seconds": elapsed_before + time.time() - started,
                "config": cfg.to_dict(),
            }
            atomic_write(ckpt_path, lambda tmp: torch.save(state, tmp))

    while step < cfg.steps and not (deadline and time.time() >= deadline):
        model.train()
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step * 101 + rank)
        noise_gen = None
        if device.type == "cuda":
            noise_gen = torch.Generator(device=device).manual_seed(cfg.seed * 1_000_003 + step * 101 + rank)
        lr = cfg.lr * min(1.0, (step + 1) / max(cfg.warmup, 1))
        for g in optimizer.param_groups:
            g["lr"] = lr
        t0 = time.time()
        with amp:
            loss = diffusion_loss(net, scheduler, batches.get(step), cfg, gen, device, noise_gen=noise_gen)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        decay = min(cfg.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - decay)
        loss_value = float(loss.detach())
        if world > 1:
            t = torch.tensor([loss_value], device=device)
            torch.distributed.all_reduce(t)
            loss_value = float(t) / world
        row = None
        if is_main and (step % cfg.log_every == 0 or step == cfg.steps):
            dt = time.time() - t0
            row = {
                "step": step,
                "epoch": round(step / epoch_size, 3),
                "loss": round(loss_value, 6),
                "lr": lr,
                "seconds": round(elapsed_before + time.time() - started, 1),
                "samples_per_second": round(cfg.batch * world / max(dt, 1e-9), 2),
            }
        if is_main and step % cfg.val_every == 0:
            row = row or {
                "step": step,
                "epoch": round(step / epoch_size, 3),
                "loss": round(loss_value, 6),
                "lr": lr,
            }
            row["val_loss"] = round(validation_loss(ema, scheduler, cache, fit["validation"], cfg, device), 6)
            if row["val_loss"] < best_val:
                # The EMA weights at their best validation loss: with a few hundred windows a long
                # run can overfit, and this is the early-stopped model beside the final one.
                best_val = row["val_loss"]
                BusTumorPipeline(ema, info={"steps": step, "val_loss_ema": best_val}).save_pretrained(
                    out / "model_best"
                )
        if row is not None:
            append_csv_row(log_path, row, LOG_FIELDS)
            log(_progress(step, cfg.steps, loss_value, started, first_step, deadline))
        if step % cfg.save_every == 0:
            save_checkpoint()
    save_checkpoint()
    digests = [parameter_digest(model)]
    if world > 1:
        gathered = [None] * world
        torch.distributed.all_gather_object(gathered, digests[0])
        digests = gathered
    if is_main:
        wall = elapsed_before + time.time() - started
        val = validation_loss(ema, scheduler, cache, fit["validation"], cfg, device)
        sources: dict[str, int] = {}
        for m in cache.meta:
            sources[m["caption_source"]] = sources.get(m["caption_source"], 0) + 1
        summary = {
            "steps": step,
            "batch": cfg.batch,
            "world_size": world,
            "wall_seconds": round(wall, 1),
            "final_val_loss_ema": round(val, 6),
            "device": str(device) if device.type != "cpu" else f"cpu ({torch.get_num_threads()} threads)",
            "torch": torch.__version__,
            "samples": {k: len(v) for k, v in fit.items()},
            "best_val_loss_ema": best_val if best_val < float("inf") else None,
            "caption_sources": sources,
            "parameters": sum(p.numel() for p in model.parameters()),
            "rank_parameter_digests": digests,
            "config": cfg.to_dict(),
            "schedule": TRAINING_SCHEDULE,
        }
        info = {
            k: summary[k]
            for k in ("steps", "batch", "wall_seconds", "final_val_loss_ema", "device", "samples")
        }
        BusTumorPipeline(ema, info=info).save_pretrained(out / "model")
        atomic_write_bytes(out / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
        if log_path.exists():
            plot_losses(log_path, out / "loss.png")
        log(f"saved the EMA model to {out / 'model'} after {step} steps ({wall / 60:.1f} min)")
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return summary


def export_checkpoint(out: Path, destination: Path | None = None) -> Path:
    """Save the EMA weights of OUT/checkpoint.pt as a pipeline folder (default OUT/model), no training.

    For a run that was stopped (or is still going): the model as of its last checkpoint.
    """
    from engine.generator.pipeline import BusTumorPipeline

    out = Path(out)
    ckpt_path = out / "checkpoint.pt"
    if not ckpt_path.is_file():
        raise InputError(f"no checkpoint at {ckpt_path}")
    state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    cfg = state["config"]
    denoiser = DenoiserConfig.from_dict(cfg["denoiser"])
    text_tokens = state["ema"]["conditioner.null_sequence"].shape[0] - _attribute_tokens()
    ema = GeneratorModel(denoiser, int(text_tokens))
    ema.load_state_dict(state["ema"])
    info = {
        "steps": int(state["step"]),
        "batch": cfg["batch"],
        "wall_seconds": round(float(state.get("seconds", 0.0)), 1),
        "exported_from": str(ckpt_path),
    }
    destination = Path(destination or out / "model")
    BusTumorPipeline(ema, info=info).save_pretrained(destination)
    if (out / "log.csv").exists():
        plot_losses(out / "log.csv", out / "loss.png")
    return destination


def _attribute_tokens() -> int:
    from engine.language.attributes import ATTRIBUTE_FIELDS

    return len(ATTRIBUTE_FIELDS)


def main(argv=None) -> int:  # pragma: no cover - `bus-engine train` is the entry point
    from engine.cli.main import main as cli_main

    return cli_main(["train", *(argv if argv is not None else sys.argv[1:])])
