"""Domain shift, measured: a BUSI-only generator adapted on 10, 30 and 100 BrEaST images.

    bus-engine adapt-figures --base BUSI_ONLY_MODEL --reference BREAST_ONLY_MODEL --out out/adapt-figures

1. fixed, saved subsets: nested 10 / 30 / 100 BrEaST lesion images of the default split's training
   part (subsets.json); the held-out BrEaST lesions of its validation and test parts (heldout/split.json)
2. one LoRA adapter per subset (engine.adapt.train), each with the same steps: trainable parameters,
   CPU wall time, size on disk, load (fuse) time; and the base fine-tuned in full on all of
   BrEaST's training split (the reference the realism gap is measured to)
3. every model synthesizes every held-out lesion in place, with the generator figures' own
   per-lesion loop and measures (engine.generator.figures: realism AUC of the small CNN, FID/KID on
   the segmenter's features, mask adherence by the segmenter's Dice, attribute adherence by
   engine.language.measure): the BUSI-only model before adaptation, after each adapter, the full
   fine-tune, and the given models trained on BrEaST's training split alone and on BUSI + BrEaST
4. table.md, figures.json, adapt_figures.png; adherence changes with paired bootstrap intervals

Per-model results are saved as they are made (models/NAME.json), so a stopped run continues.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.adapt import PRESERVE_GUIDANCE
from engine.errors import DataError, InputError
from engine.fileio import atomic_write, atomic_write_bytes
from engine.generator import defaults
from engine.generator.heldout import read_split_file

BREAST = "breast"
BEFORE = "BUSI-only (before)"
REFERENCE = "BrEaST training split (reference)"
FINE_TUNED = "BUSI-only, fine-tuned in full on BrEaST's training split"
JOINT = "BUSI + BrEaST training split (joint)"
GAP_TARGET = 0.5  # adaptation on 30 images closes at least half the realism gap
ADHERENCE_DROP = 0.05  # mask and attribute adherence fall by no more than 5 %


@dataclass
class AdaptFigureSettings:
    base: Path  # the BUSI-only model
    reference: Path | None  # the model trained on BrEaST's training split (None: gap not measured)
    data_root: Path
    out: Path
    split: Path  # the fixed split both models were trained on (dataset/case/mask ids)
    joint: Path | None = None  # optional extra row: a model trained on BUSI + BrEaST's training split
    sizes: tuple[int, ...] = (10, 30, 100)
    steps: int = 300
    batch: int = 8
    rank: int = 8
    targets: str = "all"
    lr: float = 1e-3
    preserve_guidance: float = PRESERVE_GUIDANCE  # engine.adapt.train.guidance_drift's weight
    # The full fine-tune: the base with every denoiser weight trained on all of BrEaST's training
    # split (the comparison LoRA is measured against in the literature); 0 steps: not made.
    full_steps: int = 600
    full_lr: float = 1e-4
    eval_splits: tuple[str, ...] = ("validation", "test")
    limit: int | None = None
    seed: int = 0
    threads: int = 1
    sample_steps: int = defaults.STEPS
    guidance: float = defaults.GUIDANCE
    strength: float = defaults.STRENGTH
    native_detail: bool = defaults.NATIVE_DETAIL
    classifier: object | None = None  # engine.generator.realism.ClassifierConfig; None: its defaults
    describe_model: str = "refit"
    distance_splits: int = 10


# ---------------------------------------------------------------------- subsets
def breast_training_cases(split: dict[str, list[str]]) -> list[str]:
    """BrEaST case ids ("breast/caseNNN") of the split's training part, sorted."""
    return sorted({"/".join(i.split("/")[:2]) for i in split.get("train", []) if i.startswith(BREAST + "/")})


def make_subsets(cases: list[str], sizes, seed: int) -> dict[str, list[str]]:
    """Nested subsets (each larger one holds the smaller ones): prefixes of one seeded order."""
    if max(sizes) > len(cases):
        raise InputError(f"subset of {max(sizes)} images asked for, the training split has {len(cases)}")
    order = [cases[i] for i in np.random.default_rng(seed).permutation(len(cases))]
    return {str(n): sorted(order[:n]) for n in sorted(sizes)}


def load_or_make_subsets(path: Path, split: dict, sizes, seed: int) -> dict[str, list[str]]:
    """The saved subsets when they exist (they must be drawn from this split), else new ones, saved."""
    cases = breast_training_cases(split)
    if path.is_file():
        saved = json.loads(path.read_text())
        subsets = saved["subsets"]
        stray = sorted({c for ids in subsets.values() for c in ids} - set(cases))
        if stray:
            raise DataError(
                f"{path}: {len(stray)} ids (e.g. {stray[0]}) are not in the split's BrEaST training part"
            )
        missing = [n for n in sizes if str(n) not in subsets]
        if not missing:
            return subsets
    subsets = make_subsets(cases, sizes, seed)
    record = {
        "seed": seed,
        "from": "BrEaST cases of the split's train part",
        "pool": len(cases),
        "subsets": subsets,
    }
    atomic_write_bytes(path, (json.dumps(record, indent=1) + "\n").encode())
    return subsets


def write_heldout_split(folder: Path, split: dict, splits: tuple[str, ...]) -> Path:
    """A split.json of BrEaST's held-out lesions only, for engine.generator.heldout.load_heldout."""
    missing = [s for s in splits if s not in split]
    if missing:
        raise DataError(f"the split has no {', '.join(missing)} part")
    heldout = {s: sorted(i for i in split[s] if i.startswith(BREAST + "/")) for s in splits}
    atomic_write_bytes(folder / "split.json", (json.dumps(heldout, indent=1) + "\n").encode())
    return folder


# ---------------------------------------------------------------------- adapters
def train_adapters(s: AdaptFigureSettings, subsets: dict, log=print) -> dict[int, dict]:
    """One adapter per subset size (a finished one is kept, a stopped one resumed)."""
    from engine.adapt.files import CONFIG_NAME, WEIGHTS_NAME, read_config
    from engine.adapt.train import CHECKPOINT, AdaptConfig, adapt

    out = {}
    for n in s.sizes:
        folder = s.out / "adapters" / f"breast-{n}"
        done = (folder / CONFIG_NAME).is_file() and _same_recipe(read_config(folder), s)
        if not done:
            log(f"adapting on {n} BrEaST images ({s.steps} steps, rank {s.rank}) ...")
            load_before = os.getloadavg()[0]
            adapt(
                AdaptConfig(
                    model=s.base,
                    data=s.data_root / "bus" / "BrEaST-Lesions_USG",
                    out=folder,
                    rank=s.rank,
                    targets=s.targets,
                    steps=s.steps,
                    batch=s.batch,
                    lr=s.lr,
                    seed=s.seed,
                    threads=s.threads,
                    format=BREAST,
                    keep=tuple(subsets[str(n)]),
                    resume=(folder / CHECKPOINT).is_file(),
                    log_every=25,
                ),
                log=log,
            )
            note = {
                "load_average_before": round(load_before, 2),
                "load_average_after": round(os.getloadavg()[0], 2),
            }
            atomic_write_bytes(folder / "load.json", (json.dumps(note) + "\n").encode())
        cfg = read_config(folder)
        load_note = json.loads((folder / "load.json").read_text()) if (folder / "load.json").is_file() else {}
        out[n] = {
            "folder": str(folder),
            "images": cfg.training.get("images"),
            "lesion_windows": cfg.training.get("lesion_windows"),
            "trainable_parameters": cfg.trainable_parameters,
            "wall_seconds": cfg.training.get("wall_seconds"),
            "device": cfg.training.get("device"),
            "size_bytes": (folder / WEIGHTS_NAME).stat().st_size,
            "load_seconds": adapter_load_seconds(s.base, folder),
            **load_note,
        }
    return out


def _same_recipe(cfg, s: AdaptFigureSettings) -> bool:
    """Whether a finished adapter was trained as these settings ask (else it is trained again)."""
    from engine.adapt.files import TARGET_SETS

    t = cfg.training
    return (
        cfg.rank == s.rank
        and tuple(cfg.target_modules) == TARGET_SETS[s.targets]
        and (t.get("steps"), t.get("batch"), t.get("lr"), t.get("seed")) == (s.steps, s.batch, s.lr, s.seed)
        and t.get("preserve_guidance", 0.0) == s.preserve_guidance
    )


def train_full_fine_tune(s: AdaptFigureSettings, split: dict, log=print) -> Path | None:
    """The base fine-tuned in full on every BrEaST training image (kept when made with the same
    recipe, resumed when stopped); None when `full_steps` is 0."""
    from engine.adapt.train import CHECKPOINT, FULL, AdaptConfig, adapt

    if s.full_steps < 1:
        return None
    folder = s.out / "fine-tuned-full"
    cases = breast_training_cases(split)
    recipe = {"steps": s.full_steps, "lr": s.full_lr, "batch": s.batch, "seed": s.seed, "images": len(cases)}
    summary = folder / "summary.json"
    if summary.is_file():
        t = json.loads(summary.read_text())["training"]
        if {k: t.get(k) for k in recipe} == recipe:
            return folder
    log(f"fine-tuning the base in full on {len(cases)} BrEaST training images ({s.full_steps} steps) ...")
    adapt(
        AdaptConfig(
            model=s.base, data=s.data_root / "bus" / "BrEaST-Lesions_USG", out=folder, targets=FULL,
            preserve_guidance=0.0, steps=s.full_steps, batch=s.batch, lr=s.full_lr, seed=s.seed,
            threads=s.threads, format=BREAST, keep=tuple(cases),
            resume=(folder / CHECKPOINT).is_file(), log_every=25,
        ),
        log=log,
    )  # fmt: skip
    return folder


def adapter_load_seconds(base: Path, adapter: Path, repeats: int = 3) -> float:
    """Median seconds to fuse the adapter into an already loaded base pipeline (reading included)."""
    from engine.generator.pipeline import BusTumorPipeline

    times = []
    for _ in range(repeats):
        pipe = BusTumorPipeline.from_pretrained(base)
        t = time.perf_counter()
        pipe.load_adapter(adapter, 1.0)
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 4)


# ---------------------------------------------------------------------- measuring one model
def measure_model(
    pipe, lesions, segmenter, describe, describe_info, figure_settings, s, log=print, baseline=True
) -> dict:
    """The generator figures' measures of one model's in-place syntheses of the held-out lesions.

    `baseline`: also the physics draft's realism and distances (the same for every model: once)."""
    from engine.generator.distances import REAL_VS_REAL, segmenter_features, split_half_distances
    from engine.generator.figures import attribute_figure, collect, mask_figure
    from engine.generator.realism import classifier_auc

    pipe(lesions[0].image, lesions[0].mask, lesions[0].description, steps=2)  # warm-up: text encoder
    c = collect(lesions, pipe, segmenter, describe, figure_settings, log)
    real = np.stack(c.windows["real"])
    out = {}
    for name in ("diffusion", "physics") if baseline else ("diffusion",):
        synthetic = np.stack(c.windows[name])
        realism = classifier_auc(real, synthetic, c.groups, s.classifier, s.seed)
        feats_real = segmenter_features(segmenter, real, c.boxes)
        feats = segmenter_features(segmenter, synthetic, c.boxes)
        distances = split_half_distances(feats_real, {name: feats}, c.groups, s.distance_splits, s.seed)
        out[name] = {
            "realism_auc": realism["auc"],
            "realism_pooled": [realism["pooled_auc"], realism["pooled_low"], realism["pooled_high"]],
            "fold_aucs": realism["fold_aucs"],
            "fid": distances[name]["fid"],
            "fid_sd": distances[name]["fid_sd"],
            "kid": distances[name]["kid"],
            "kid_sd": distances[name]["kid_sd"],
            "fid_real_vs_real": distances[REAL_VS_REAL]["fid"],
            "kid_real_vs_real": distances[REAL_VS_REAL]["kid"],
        }
    masks = mask_figure(c, s.seed)["subsets"]["all held-out lesions"]["methods"]
    attributes = attribute_figure(c, describe_info, s.seed)["methods"]
    for name in out:
        out[name]["mask_dice"] = masks[name]["mean"]
        out[name]["mask_adherence"] = masks[name]["ratio"]  # Dice on synthetic / Dice on real
        both = attributes.get(name, {}).get("both", {})
        out[name]["attribute_agreement"] = both.get("agreement", float("nan"))
        out[name]["attribute_adherence"] = both.get("ratio", float("nan"))  # agreement / real's
    out["real_mask_dice"] = masks["real"]["mean"]
    out["seconds_per_lesion"] = statistics.median(r["seconds"]["diffusion"] for r in c.records)
    out["lesions"] = len(c.records)
    out["records"] = c.records
    return out


def heldout_loss(pipe, lesions, seed: int) -> float:
    """The denoising objective on the held-out lesion windows: v-loss (weighted like training) at
    fixed timesteps (spread over the schedule) and seeded noise, conditioned on each description.
    It shows what an adapter learned about the target domain, apart from how samples look."""
    import torch

    from engine.adapt.data import AdaptData, LocalImage
    from engine.adapt.train import adapt_loss
    from engine.generator.schedulers import make_training_scheduler

    model = pipe.model
    images = [
        LocalImage(x.sample_id, [x.sample_id], x.image, [x.mask], [x.description], [x.description_source])
        for x in lesions
    ]
    data = AdaptData(images, model.denoiser.config.size, pipe.text_encoder, model.conditioner.text_tokens)
    batch = data.lesion_batch()
    scheduler = make_training_scheduler()
    n = data.lesions
    last = scheduler.config.num_train_timesteps - 50
    gen = torch.Generator().manual_seed(seed)
    timesteps = torch.linspace(50, last, n).long()
    noise = torch.randn(batch["x"].shape, generator=gen)
    with torch.no_grad():
        return float(adapt_loss(model, scheduler, batch, gen, 0.0, timesteps, noise))


def _model_list(
    s: AdaptFigureSettings, adapters: dict, fine_tuned: Path | None
) -> list[tuple[str, Path, list]]:
    models = [(BEFORE, s.base, [])]
    models += [(_adapted(n), s.base, [(Path(adapters[n]["folder"]), 1.0)]) for n in s.sizes]
    if fine_tuned is not None:
        models.append((FINE_TUNED, fine_tuned, []))
    if s.reference is not None:
        models.append((REFERENCE, s.reference, []))
    if s.joint is not None:
        models.append((JOINT, s.joint, []))
    return models


def _adapted(n) -> str:
    return f"adapted, {n} BrEaST images"


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


# ---------------------------------------------------------------------- the run
def run_adapt_figures(s: AdaptFigureSettings, log=print) -> dict:
    import torch

    from engine.annotation.segmenter import BUNDLED_FOLDER, load_segmenter
    from engine.backends.onnx_backend import weights_digest
    from engine.generator.figures import FigureSettings, describe_model_for
    from engine.generator.heldout import load_heldout
    from engine.generator.pipeline import BusTumorPipeline
    from engine.generator.realism import ClassifierConfig

    s.classifier = s.classifier or ClassifierConfig()

    started = time.perf_counter()
    load_start = [round(v, 2) for v in os.getloadavg()]
    torch.set_num_threads(s.threads)
    s.out.mkdir(parents=True, exist_ok=True)
    split = read_split_file(Path(s.split))
    subsets = load_or_make_subsets(s.out / "subsets.json", split, s.sizes, s.seed)
    heldout_dir = write_heldout_split(s.out / "heldout", split, s.eval_splits)
    lesions, data = load_heldout(heldout_dir, s.data_root, s.eval_splits, s.limit, s.seed)
    if len({x.image_key for x in lesions}) < 4:
        raise DataError(
            f"{len(lesions)} held-out BrEaST lesions: the figures need lesions of at least 4 images"
        )
    log(f"held-out BrEaST lesions: {len(lesions)} ({', '.join(s.eval_splits)} of {s.split})")
    figure_settings = FigureSettings(
        model_dir=s.base, data_root=s.data_root, splits=s.eval_splits, limit=s.limit, seed=s.seed,
        threads=s.threads, steps=s.sample_steps, guidance=s.guidance, strength=s.strength,
        native_detail=s.native_detail, classifier=s.classifier, describe_model=s.describe_model,
    )  # fmt: skip
    describe, describe_info = describe_model_for(figure_settings, lesions, log)
    segmenter = load_segmenter(BUNDLED_FOLDER)
    adapters = train_adapters(s, subsets, log)
    fine_tuned = train_full_fine_tune(s, split, log)
    rows, kept = {}, []
    for name, model_dir, with_adapters in _model_list(s, adapters, fine_tuned):
        path = s.out / "models" / f"{_slug(name)}.json"
        key = {
            "model": str(model_dir),
            "adapters": [
                [str(p), w, weights_digest(Path(p) / "adapter_model.safetensors")] for p, w in with_adapters
            ],
            "weights": weights_digest(Path(model_dir) / "model.safetensors"),
            "adapter_steps": s.steps,
            "lesions": [x.sample_id for x in lesions],
            "sampling": [s.sample_steps, s.guidance, s.strength, s.seed, s.native_detail],
        }
        pipe = BusTumorPipeline.from_pretrained(model_dir, adapters=with_adapters)
        if path.is_file() and json.loads(path.read_text()).get("key") == key:
            result = json.loads(path.read_text())["result"]
            log(f"{name}: kept from {path}")
            kept.append(name)
        else:
            log(f"{name}: synthesizing {len(lesions)} held-out lesions ...")
            result = measure_model(
                pipe, lesions, segmenter, describe, describe_info, figure_settings, s, log, baseline=not rows
            )
        if result["diffusion"].get("heldout_loss") is None:
            result["diffusion"]["heldout_loss"] = heldout_loss(pipe, lesions, s.seed)
        atomic_write_bytes(
            path, (json.dumps(_finite({"key": key, "result": result}), indent=1) + "\n").encode()
        )
        rows[name] = result
        d = result["diffusion"]
        log(
            f"  realism AUC {d['realism_auc']:.3f}  FID {d['fid']:.2f}  KID {d['kid']:.4f}  "
            f"held-out loss {d['heldout_loss']:.4f}"
        )
    return {
        "settings": {
            "base": str(s.base),
            "reference": str(s.reference) if s.reference else None,
            "joint": str(s.joint) if s.joint else None,
            "split": str(s.split),
            "sizes": list(s.sizes),
            "adapter": {
                "steps": s.steps,
                "batch": s.batch,
                "rank": s.rank,
                "lr": s.lr,
                "targets": s.targets,
                "preserve_guidance": s.preserve_guidance,
            },
            "full_fine_tune": {
                "steps": s.full_steps,
                "lr": s.full_lr,
                "images": len(breast_training_cases(split)),
                "folder": str(fine_tuned) if fine_tuned else None,
            },
            "sampling": {
                "steps": s.sample_steps,
                "guidance": s.guidance,
                "strength": s.strength,
                "native_detail": s.native_detail,
            },
            "eval_splits": list(s.eval_splits),
            "threads": s.threads,
            "seed": s.seed,
            "classifier": s.classifier.to_dict(),
        },
        "data": {k: v for k, v in data.items() if k != "skipped"} | {"skipped": len(data["skipped"])},
        "describe_model": describe_info,
        "subsets": {n: len(v) for n, v in subsets.items()},
        "adapters": {str(n): v for n, v in adapters.items()},
        "models": {n: {k: v for k, v in r.items() if k != "records"} for n, r in rows.items()},
        "summary": summarize(rows, s),
        "kept": kept,
        "load_average": {"start": load_start, "end": [round(v, 2) for v in os.getloadavg()]},
        "cpu_count": os.cpu_count(),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def summarize(rows: dict, s: AdaptFigureSettings) -> dict:
    """Gap to each reference closed by each adapter (realism AUC, FID, KID, held-out loss; lower is
    better for each) and its change in mask/attribute adherence. A gap is only defined where the
    reference is better than the model before adaptation (for realism: by more than
    `realism_resolution`).

    The realism target is judged against the full fine-tune when there is one: of the two models
    trained on all of BrEaST's training split, it is the one that starts from the same base (a
    model trained on those 200 images alone is measured too, suffix "_scratch")."""
    before = rows[BEFORE]["diffusion"]
    references = {
        "": rows.get(FINE_TUNED) or rows.get(REFERENCE),
        "_scratch": rows.get(REFERENCE),
        "_joint": rows.get(JOINT),
    }
    out = {}
    for n in s.sizes:
        after = rows[_adapted(n)]["diffusion"]
        row = {}
        for metric in ("realism_auc", "fid", "kid", "heldout_loss"):
            if metric not in before or metric not in after:
                continue
            for suffix, ref in references.items():
                gap = before[metric] - ref["diffusion"][metric] if ref else float("nan")
                floor = (
                    realism_resolution(before, ref["diffusion"]) if ref and metric == "realism_auc" else 0.0
                )
                closed = (before[metric] - after[metric]) / gap if gap > floor else float("nan")
                row[f"{metric}_gap_closed{suffix}"] = closed
        for metric in ("mask_adherence", "attribute_adherence", "mask_dice", "attribute_agreement"):
            b = before[metric]
            row[f"{metric}_change"] = (
                after[metric] / b - 1.0 if b and math.isfinite(b) and b > 0 else float("nan")
            )
        row.update(
            paired_changes(rows[BEFORE].get("records", []), rows[_adapted(n)].get("records", []), s.seed)
        )
        out[str(n)] = row
    k = str(30 if 30 in s.sizes else s.sizes[len(s.sizes) // 2])
    target_row = out[k]
    gap_ok = target_row["realism_auc_gap_closed"]
    out["targets"] = {
        f"realism gap closed with {k} images >= {GAP_TARGET}": (gap_ok >= GAP_TARGET)
        if math.isfinite(gap_ok)
        else None,
        f"adherence falls <= {ADHERENCE_DROP:.0%} after every adaptation": all(
            out[str(n)][f"{m}_change"] >= -ADHERENCE_DROP
            for n in s.sizes
            for m in ("mask_adherence", "attribute_adherence")
            if math.isfinite(out[str(n)][f"{m}_change"])
        ),
    }
    return out


def realism_resolution(before: dict, reference: dict) -> float:
    """Twice the standard error of the difference of two models' mean fold AUCs: a realism gap
    smaller than this is the classifier's noise (at the ceiling, where every fold is near 1, it is
    not a gap at all), so no share of it is reported as closed."""
    folds = [np.asarray(d.get("fold_aucs") or [], float) for d in (before, reference)]
    if any(len(f) < 2 for f in folds):
        return 0.0
    return float(2.0 * math.sqrt(sum(f.var(ddof=1) / len(f) for f in folds)))


def paired_changes(before: list[dict], after: list[dict], seed: int) -> dict:
    """The relative change of attribute agreement and of the segmenter's Dice, lesion by lesion, with
    paired bootstrap 95 % intervals (the same lesions resampled for both models), and how many
    lesions' attribute agreement flipped each way: what 52 lesions can and cannot resolve."""
    from engine.generator.figures import ATTRIBUTE_FIELDS, paired_summary

    by_id = {r["id"]: r for r in before}
    pairs = [(by_id[r["id"]], r) for r in after if r["id"] in by_id]
    out = {}
    dice = [(b["dice"]["diffusion"], a["dice"]["diffusion"]) for b, a in pairs if "dice" in a and "dice" in b]
    described = [
        (b, a)
        for b, a in pairs
        if "measured" in a
        and "measured" in b
        and all(a["requested"][g] is not None for g in ATTRIBUTE_FIELDS)
    ]
    agree = [
        tuple(
            float(all(r["measured"]["diffusion"][g] == r["requested"][g] for g in ATTRIBUTE_FIELDS))
            for r in pair
        )
        for pair in described
    ]
    for name, values in (("mask_dice", dice), ("attribute_agreement", agree)):
        if len(values) < 2:
            continue
        b, a = np.array(values).T
        paired = paired_summary(a, b, seed)
        out[f"{name}_change_low"] = paired["ratio_low"] - 1.0
        out[f"{name}_change_high"] = paired["ratio_high"] - 1.0
    if agree:
        b, a = np.array(agree).T
        out["attribute_flips"] = {
            "lost": int(((b == 1) & (a == 0)).sum()),
            "gained": int(((b == 0) & (a == 1)).sum()),
        }
    return out


def _finite(value):
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------- report
def _f(v, digits=3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def markdown(results: dict, command: str) -> str:
    st = results["settings"]
    lines = [
        "# Site adaptation figures (domain shift BUSI -> BrEaST)",
        "",
        f"Command: `{command}`",
        "",
        f"- Base: `{st['base']}` (BUSI only); reference: `{st['reference']}` (BrEaST training split); "
        f"split `{st['split']}`.",
        _full_line(st, results),
        f"- Held-out: {results['data']['lesions']} BrEaST lesions of {results['data']['images']} images "
        f"({' + '.join(st['eval_splits'])} parts), each synthesized in place (its frame, mask and "
        "radiologists' description), with the generator figures' measures.",
        f"- Adapters: LoRA rank {st['adapter']['rank']}, {st['adapter']['steps']} steps at batch "
        f"{st['adapter']['batch']}, lr {st['adapter']['lr']:g}, guidance-drift penalty "
        f"{st['adapter'].get('preserve_guidance', 0.0):g}, on nested subsets of BrEaST training images "
        f"({', '.join(f'{n}' for n in results['subsets'])}; subsets.json).",
        f"- Sampling: {st['sampling']['steps']} steps, guidance {st['sampling']['guidance']:g}, strength "
        f"{st['sampling']['strength']:g}, native detail {'on' if st['sampling'].get('native_detail') else 'off'}, "
        f"seed {st['seed']}; {st['threads']} torch thread(s) on "
        f"{results['cpu_count']} CPU cores, load average {results['load_average']['start'][0]:.1f} at the "
        f"start and {results['load_average']['end'][0]:.1f} at the end; wall time "
        f"{results['wall_seconds'] / 60:.1f} min"
        + (
            f" (rows kept from an earlier run with the same settings: {', '.join(results['kept'])})."
            if results.get("kept")
            else "."
        ),
        "",
        "| model | realism AUC | FID (seg.) | KID (seg.) | held-out loss | mask adherence | attribute agreement |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results["models"].items():
        d = r["diffusion"]
        lines.append(
            f"| {name} | {_f(d['realism_auc'])} | {_f(d['fid'], 2)} | {_f(d['kid'], 4)} | "
            f"{_f(d.get('heldout_loss'), 4)} | {_f(d['mask_adherence'])} | {_f(d['attribute_agreement'])} |"
        )
    first = next(iter(results["models"].values()))
    p = first["physics"]  # the physics draft is measured with the first model only (it has no model)
    lines += [
        f"| physics draft (baseline, no model) | {_f(p['realism_auc'])} | {_f(p['fid'], 2)} | "
        f"{_f(p['kid'], 4)} | n/a | {_f(p['mask_adherence'])} | {_f(p['attribute_agreement'])} |",
        "",
        f"Real vs real (split halves): FID {_f(first['diffusion']['fid_real_vs_real'], 2)}, KID "
        f"{_f(first['diffusion']['kid_real_vs_real'], 4)}. Mask adherence: segmenter Dice on the synthetic "
        "frame / on the real frame; attribute agreement: engine.language.measure agrees with the requested "
        "echo pattern and posterior features; held-out loss: the training objective (v-loss, weighted on "
        "the generation region) on the held-out windows at fixed timesteps and noise. On the real "
        f"held-out frames themselves the attribute agreement is {_f(_real_agreement(first['diffusion']))}.",
        "",
        "| adapter | trainable parameters | CPU wall time | size on disk | load (fuse) time | "
        "realism gap closed | FID gap closed | loss gap closed | realism / FID / loss gap to BrEaST-only "
        "closed | FID / loss gap to joint closed | mask adherence change | attribute adherence change |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, a in results["adapters"].items():
        row = results["summary"][n]
        lines.append(
            f"| {n} images | {a['trainable_parameters']:,} | {a['wall_seconds'] / 60:.1f} min ({a['device']}) | "
            f"{a['size_bytes'] / 1e6:.2f} MB | {a['load_seconds'] * 1000:.0f} ms | "
            f"{_f(row['realism_auc_gap_closed'], 2)} | {_f(row['fid_gap_closed'], 2)} | "
            f"{_f(row.get('heldout_loss_gap_closed'), 2)} | "
            f"{_f(row.get('realism_auc_gap_closed_scratch'), 2)} / {_f(row.get('fid_gap_closed_scratch'), 2)} / "
            f"{_f(row.get('heldout_loss_gap_closed_scratch'), 2)} | "
            f"{_f(row.get('fid_gap_closed_joint'), 2)} / {_f(row.get('heldout_loss_gap_closed_joint'), 2)} | "
            f"{_f(100 * row['mask_adherence_change'], 1)} %{_interval(row, 'mask_dice')} | "
            f"{_f(100 * row['attribute_adherence_change'], 1)} %{_interval(row, 'attribute_agreement')}"
            f"{_flips(row)} |"
        )
    reference = "the full fine-tune" if FINE_TUNED in results["models"] else "the BrEaST-only model"
    lines += [
        "",
        f"Gaps closed (first three columns): to {reference}; n/a where it is not better than the base "
        "(for realism: by more than twice the standard error of the two mean fold AUCs' difference). "
        "Adherence changes: relative to the model before adaptation, with paired bootstrap 95 % intervals "
        "over the held-out lesions, and the lesions whose attribute agreement was lost or gained.",
        "",
        "Targets:",
    ]
    for target, met in results["summary"]["targets"].items():
        lines.append(f"- {target}: {'n/a' if met is None else ('yes' if met else '**no**')}")
    return "\n".join(lines) + "\n"


def _real_agreement(d: dict) -> float:
    """The measure's agreement on the real held-out frames (agreement / adherence ratio to real)."""
    a, ratio = d.get("attribute_agreement"), d.get("attribute_adherence")
    return a / ratio if a is not None and ratio and math.isfinite(ratio) and ratio > 0 else float("nan")


def _interval(row: dict, name: str) -> str:
    low, high = row.get(f"{name}_change_low"), row.get(f"{name}_change_high")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f" [{100 * low:+.0f}, {100 * high:+.0f}]"


def _flips(row: dict) -> str:
    flips = row.get("attribute_flips")
    return f" ({flips['lost']} lesions lost, {flips['gained']} gained)" if flips else ""


def _full_line(st: dict, results: dict) -> str:
    full = st.get("full_fine_tune") or {}
    if not full.get("folder"):
        return "- No full fine-tune was made (--full-steps 0)."
    return (
        f"- Full fine-tune: the base with every denoiser weight trained on all {full['images']} "
        f"BrEaST training images, {full['steps']} steps at batch {st['adapter']['batch']}, lr {full['lr']:g} "
        f"(`{full['folder']}`); the realism target is judged against it."
    )


def plot(results: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = results["models"]
    sizes = [int(n) for n in results["adapters"]]
    adapted = [models[_adapted(n)]["diffusion"] for n in sizes]
    before = models[BEFORE]["diffusion"]
    reference = models.get(REFERENCE, {}).get("diffusion")
    joint = models.get(JOINT, {}).get("diffusion")
    full = models.get(FINE_TUNED, {}).get("diffusion")
    panels = (
        ("realism_auc", "realism AUC (0.5 = indistinguishable)"),
        ("fid", "FID on segmenter features"),
        ("heldout_loss", "held-out denoising loss"),
        ("mask_adherence", "mask adherence (Dice synthetic / real)"),
        ("attribute_agreement", "attribute agreement"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), dpi=100)
    for ax, (key, title) in zip(axes, panels, strict=True):
        if key not in before:
            continue
        ax.plot(sizes, [a[key] for a in adapted], "o-", label="adapted (LoRA)")
        ax.axhline(before[key], color="tab:red", ls="--", label="BUSI-only (before)")
        if reference:
            ax.axhline(reference[key], color="tab:green", ls=":", label="BrEaST-trained (reference)")
        if full:
            ax.axhline(full[key], color="tab:orange", ls=(0, (5, 1)), label="fine-tuned in full on BrEaST")
        if joint:
            ax.axhline(joint[key], color="tab:purple", ls="-.", label="BUSI + BrEaST (joint)")
        if key == "attribute_agreement" and math.isfinite(_real_agreement(before)):
            ax.axhline(_real_agreement(before), color="black", ls="-", lw=0.8, label="the real frames")
            ax.legend(fontsize=7)
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.set_xlabel("BrEaST images adapted on")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    finally:
        plt.close(fig)
    return path


def write_report(results: dict, out: Path, command: str) -> list[Path]:
    out = Path(out)
    paths = [
        atomic_write_bytes(out / "figures.json", (json.dumps(_finite(results), indent=2) + "\n").encode()),
        atomic_write_bytes(out / "table.md", markdown(results, command).encode()),
        plot(results, out / "adapt_figures.png"),
    ]
    return paths
