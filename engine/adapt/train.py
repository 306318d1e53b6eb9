"""Fine-tune a LoRA adapter of the generator on a site's own images, on the CPU, resumable.

    adapt(AdaptConfig(model=Path("resources/models/default"), data=Path("my_studies"), out=Path("out/site")))

Writes into `out`: adapter_model.safetensors + adapter_config.json (the adapter, bound to the base
model's sha256), log.csv, checkpoint.pt (adapter, optimizer, step: `resume` continues from it) and
summary.json. Only the low-rank matrices train; the base model and the description conditioner
stay frozen, so the adapter is a few hundred kB. A penalty (`preserve_guidance`, guidance_drift)
keeps how the description steers the lesion close to the base model's, so the adapter learns the
site's texture without unlearning the attributes. `targets="full"` trains every denoiser weight
instead and saves a whole model folder (pipeline.json + model.safetensors).
"""

from __future__ import annotations

import copy
import json
import math
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from engine.adapt import PRESERVE_GUIDANCE
from engine.adapt.data import AdaptData, fingerprint, read_local_images
from engine.adapt.files import TARGET_SETS, AdapterConfig, base_sha256, save_adapter
from engine.adapt.lora import adapter_state, add_trainable_adapter, set_adapter_state, trainable_count
from engine.errors import InputError
from engine.fileio import append_csv_row, atomic_write, atomic_write_bytes

LOG_FIELDS = ("step", "loss", "lr", "seconds", "samples_per_second")
CHECKPOINT = "checkpoint.pt"
FULL = "full"
GUIDANCE_ROWS = 4  # described rows per step that the guidance-drift penalty looks at (it costs passes)


@dataclass
class AdaptConfig:
    model: Path  # the base model folder (pipeline.json + model.safetensors)
    data: Path  # dataset folder, DICOM study, or folder of studies/images
    out: Path
    rank: int = 8
    alpha: float | None = None  # LoRA scale alpha/rank; default alpha = rank
    # engine.adapt.files.TARGET_SETS ("all" or "no-cross-attention"), or FULL: every denoiser weight
    # trains and a whole model folder is saved (the full fine-tuning adapters are compared with)
    targets: str = "all"
    steps: int = 300
    batch: int = 8
    lr: float = 1e-3
    warmup: int = 20
    seed: int = 0
    p_null: float = 0.1  # lesion rows swapped for the null sequence: guidance keeps working
    # Weight of the penalty on changing how the description steers the output (guidance_drift);
    # 0 lets the adapter relearn it from the site's descriptions too.
    preserve_guidance: float = PRESERVE_GUIDANCE
    context_fraction: float = 0.25
    frames_per_study: int = 4
    save_every: int = 50
    log_every: int = 10
    resume: bool = False
    threads: int | None = None
    format: str | None = None  # dataset format (engine.datasets) or "dicom"; default: detected
    keep: tuple[str, ...] | None = None  # case or sample ids to use (e.g. a fixed subset)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


def adapt_loss(
    model,
    scheduler,
    batch: dict,
    gen: torch.Generator,
    p_null: float,
    timesteps=None,
    noise=None,
    preserve_guidance: float = 0.0,
    frozen=None,
) -> torch.Tensor:
    """v-prediction loss (the base training's objective), weighted per pixel by the batch's weight;
    random timesteps and noise from `gen` unless given (a fixed evaluation passes its own).
    `preserve_guidance` > 0 adds that weight times `guidance_drift` on a few described rows."""
    x0, conditions, weight = batch["x"], batch["conditions"], batch["weight"]
    b = x0.shape[0]
    if timesteps is None:
        timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (b,), generator=gen)
    if noise is None:
        noise = torch.randn(x0.shape, generator=gen)
    noisy = scheduler.add_noise(x0, noise, timesteps)
    target = scheduler.get_velocity(x0, noise, timesteps)
    conditioner = model.conditioner
    seq = conditioner.null(b).clone()  # context rows: no description
    n = batch["lesion_rows"]
    keep = torch.zeros(0, dtype=torch.bool)
    if n:
        with torch.no_grad():
            described = conditioner(batch["tokens"], batch["attributes"], batch["token_mask"])
        keep = torch.rand(n, generator=gen) >= p_null
        seq[:n] = torch.where(keep[:, None, None], described, seq[:n])
    pred = model(noisy, conditions, timesteps, seq.detach())
    loss = ((pred - target) ** 2 * weight).sum() / weight.sum()
    if preserve_guidance > 0 and n:
        rows = torch.nonzero(keep).flatten()[:GUIDANCE_ROWS]
        if len(rows):
            drift = guidance_drift(
                model, noisy[rows], conditions[rows], timesteps[rows], seq[rows].detach(), pred[rows],
                conditioner.null(len(rows)), weight[rows], frozen,
            )  # fmt: skip
            loss = loss + preserve_guidance * drift
    return loss


def guidance_drift(model, noisy, conditions, timesteps, described, pred_described, null, weight, frozen=None):
    """How far training moved the description's pull on the prediction (with the description minus
    without it: what classifier-free guidance amplifies) from the base model's: `frozen`, a copy of
    the base, or else `model` with its adapter switched off.

    Penalising it lets the adapter learn the site's texture, which both predictions share, while
    the lesion still looks the way its description asks (attribute adherence)."""
    from engine.adapt.lora import base_only

    pred_null = model(noisy, conditions, timesteps, null)
    with torch.no_grad(), nullcontext(frozen) if frozen is not None else base_only(model) as base:
        twice = base(
            torch.cat([noisy, noisy]),
            torch.cat([conditions, conditions]),
            torch.cat([timesteps, timesteps]),
            torch.cat([described, null]),
        )
    base_pull = twice[: len(noisy)] - twice[len(noisy) :]
    drift = (pred_described - pred_null) - base_pull
    return (drift**2 * weight).sum() / weight.sum()


def progress_line(step: int, total: int, loss: float, rate: float) -> str:
    eta = (total - step) / rate if rate > 0 else math.inf
    eta_txt = "?" if math.isinf(eta) else time.strftime("%H:%M:%S", time.gmtime(eta))
    filled = int(24 * step / max(total, 1))
    return f"[{'#' * filled}{'.' * (24 - filled)}] step {step}/{total} loss {loss:.4f} {rate:.2f} it/s ETA {eta_txt}"


def adapt(cfg: AdaptConfig, text_encoder=None, log=print) -> dict:
    """Train (or resume) the adapter and save it; returns the summary (also in summary.json)."""
    from engine.generator.pipeline import BusTumorPipeline
    from engine.generator.schedulers import make_training_scheduler

    if cfg.steps < 1 or cfg.batch < 1:
        raise InputError(f"steps ({cfg.steps}) and batch ({cfg.batch}) must be 1 or more")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    if out.resolve() == Path(cfg.model).resolve():
        raise InputError(f"{out}: write the adapter to a folder of its own, not the base model's")
    base_hash = base_sha256(cfg.model)
    pipe = BusTumorPipeline.from_pretrained(cfg.model, text_encoder=text_encoder)
    model = pipe.model.float()
    images = read_local_images(
        cfg.data, cfg.format, set(cfg.keep) if cfg.keep else None, cfg.frames_per_study
    )
    data = AdaptData(
        images,
        model.denoiser.config.size,
        text_encoder,
        model.conditioner.text_tokens,
        cfg.context_fraction,
    )
    data_hash = fingerprint(images)
    log(
        f"adapting {cfg.model} on {data.summary()['images']} images ({data.lesions} lesion windows, "
        f"{len(data.context_images)} without mask) from {cfg.data}"
    )
    torch.manual_seed(cfg.seed)
    full = cfg.targets == FULL
    params, trained_state, restore, frozen = _trainable(model, cfg)
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    scheduler = make_training_scheduler()
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path, log_path = out / CHECKPOINT, out / "log.csv"
    step, seconds_before = 0, 0.0
    if cfg.resume:
        if not ckpt_path.is_file():
            raise InputError(f"--resume: no checkpoint at {ckpt_path}")
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        now_state = (
            ("base_sha256", base_hash),
            ("data", data_hash),
            ("rank", cfg.rank),
            ("targets", cfg.targets),
            ("preserve_guidance", cfg.preserve_guidance),
        )
        made_before = {"targets": "all", "preserve_guidance": 0.0}  # checkpoints older than the key
        for key, now in now_state:
            was = state.get(key, made_before.get(key))
            if was != now:
                raise InputError(
                    f"--resume: {ckpt_path} was made with another {key} ({was}, now {now}); "
                    "start a fresh run in another folder"
                )
        restore(state.get("trained", state.get("adapter")))  # "adapter": before full fine-tuning
        optimizer.load_state_dict(state["optimizer"])
        step, seconds_before = int(state["step"]), float(state["seconds"])
        log(f"resumed from {ckpt_path} at step {step}")
    elif log_path.exists():
        log_path.unlink()  # a fresh run starts a fresh log
    started = time.time()
    first = step

    def seconds() -> float:
        return seconds_before + time.time() - started

    def save_checkpoint() -> None:
        state = {
            "trained": trained_state(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "seconds": seconds(),
            "base_sha256": base_hash,
            "data": data_hash,
            "rank": cfg.rank,
            "targets": cfg.targets,
            "preserve_guidance": cfg.preserve_guidance,
            "config": cfg.to_dict(),
        }
        atomic_write(ckpt_path, lambda tmp: torch.save(state, tmp))

    model.train()
    loss_value = float("nan")
    while step < cfg.steps:
        t0 = time.time()
        lr = cfg.lr * min(1.0, (step + 1) / max(cfg.warmup, 1))
        for g in optimizer.param_groups:
            g["lr"] = lr
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        batch = data.batch(step, cfg.batch, cfg.seed)
        loss = adapt_loss(
            model, scheduler, batch, gen, cfg.p_null, preserve_guidance=cfg.preserve_guidance, frozen=frozen
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        step += 1
        loss_value = float(loss.detach())
        if step % cfg.log_every == 0 or step == cfg.steps:
            row = {
                "step": step,
                "loss": round(loss_value, 6),
                "lr": lr,
                "seconds": round(seconds(), 1),
                "samples_per_second": round(cfg.batch / max(time.time() - t0, 1e-9), 2),
            }
            append_csv_row(log_path, row, LOG_FIELDS)
            rate = (step - first) / max(time.time() - started, 1e-9)
            log(progress_line(step, cfg.steps, loss_value, rate))
        if step % cfg.save_every == 0:
            save_checkpoint()
    save_checkpoint()
    wall = seconds()
    training = {
        **data.summary(),
        "steps": step,
        "batch": cfg.batch,
        "lr": cfg.lr,
        "seed": cfg.seed,
        "preserve_guidance": cfg.preserve_guidance,
        "data": str(cfg.data),
        "data_fingerprint": data_hash,
        "wall_seconds": round(wall, 1),
        "device": f"cpu ({torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "final_loss": round(loss_value, 6),
    }
    if full:
        return _save_fine_tuned(pipe, cfg, base_hash, training, trainable_count(params), log)
    config = AdapterConfig(
        rank=cfg.rank,
        alpha=float(cfg.alpha if cfg.alpha is not None else cfg.rank),
        target_modules=TARGET_SETS[cfg.targets],
        base_model=str(cfg.model),
        base_sha256=base_hash,
        trainable_parameters=trainable_count(params),
        training=training,
    )
    save_adapter(out, adapter_state(model), config)
    summary = {**config.to_dict(), "config": cfg.to_dict()}
    atomic_write_bytes(out / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
    log(
        f"saved the adapter to {out} ({config.trainable_parameters} trainable parameters, "
        f"{step} steps, {wall / 60:.1f} min)"
    )
    return summary


def _trainable(model, cfg: AdaptConfig):
    """(parameters to train, a function reading their state, one restoring it, the frozen base copy
    the guidance penalty compares against or None): a LoRA adapter, or every denoiser weight."""
    if cfg.targets not in TARGET_SETS and cfg.targets != FULL:
        raise InputError(f"targets {cfg.targets!r} must be one of {', '.join([*TARGET_SETS, FULL])}")
    if cfg.targets != FULL:
        params = add_trainable_adapter(model, cfg.rank, cfg.alpha, TARGET_SETS[cfg.targets])
        # the adapter switched off is the base (engine.adapt.lora.base_only): no copy needed
        return params, lambda: adapter_state(model), lambda state: set_adapter_state(model, state), None
    frozen = copy.deepcopy(model).requires_grad_(False) if cfg.preserve_guidance > 0 else None
    model.requires_grad_(False)
    params = list(model.denoiser.parameters())
    for p in params:
        p.requires_grad_(True)

    def trained_state():
        return {k: v.detach().clone() for k, v in model.denoiser.state_dict().items()}

    return params, trained_state, model.denoiser.load_state_dict, frozen


def _save_fine_tuned(pipe, cfg: AdaptConfig, base_hash: str, training: dict, trainable: int, log) -> dict:
    """A full fine-tune is a model of its own: pipeline.json + model.safetensors in `out`, its info
    naming the base it started from."""
    out = Path(cfg.out)
    pipe.info = {
        **(pipe.info or {}),
        "fine_tuned_from": {"model_dir": str(cfg.model), "weights_sha256": base_hash},
        "training": training,
    }
    pipe.save_pretrained(out)
    summary = {
        "model": str(out),
        "trainable_parameters": trainable,
        "training": training,
        "config": cfg.to_dict(),
    }
    atomic_write_bytes(out / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
    log(
        f"saved the fine-tuned model to {out} ({trainable} trainable parameters, {training['wall_seconds'] / 60:.1f} min)"
    )
    return summary


def main(argv=None) -> int:  # pragma: no cover - `bus-engine adapt` is the entry point
    from engine.cli.main import main as cli_main

    return cli_main(["adapt", *(argv if argv is not None else sys.argv[1:])])
