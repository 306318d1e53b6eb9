"""The tumor generator's five figures on its model's held-out lesions (`bus-engine generator-figures`).

Every held-out lesion is synthesized in place: on its own frame, in its own mask, with the
description a user would give (radiologists' labels for BrEaST, the attribute measurement for
BUSI). The real frame is the reference; the physics draft (no learning) is the baseline beside
every figure; two controls with a visible flaw (another image's lesion cut and pasted into the
mask; naive darkening plus noise) show whether a figure can tell anything apart.

 1 realism     grouped 5-fold AUC of a small CNN, real lesion windows vs synthetic (<= 0.75)
 2 mask        Dice of the click segmenter (box prompt on the requested mask) on the synthetic
               frame, as a fraction of its Dice on the real frame (>= 0.8)
 3 attributes  engine.language.measure agrees with the requested echo pattern and posterior
               features, as a fraction of how often it agrees with the radiologists on the real
               BrEaST frames (>= 0.8)
 4 distances   FID and KID on the click segmenter's encoder features (trained on real ultrasound),
               with a real-vs-real split half as the scale; Inception FID when weights are given
 5 speed       latency per lesion (full, default, preview) and peak memory on CPU
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import DataError, InputError
from engine.generator import defaults
from engine.generator.heldout import HeldOutLesion, load_heldout
from engine.generator.realism import (
    ClassifierConfig,
    classifier_auc,
    cut_and_paste_control,
    lesion_window,
    naive_control,
    window_pixels,
)
from engine.generator.window import crop_mask, lesion_box

METHODS = ("physics", "diffusion", "cut_and_paste", "naive")  # each compared with "real"
CONTROLS = ("cut_and_paste", "naive")
EMPTY_TISSUE = "empty_tissue"
LABELS = {
    "real": "real (reference)",
    "physics": "physics draft (baseline)",
    "diffusion": "diffusion",
    "cut_and_paste": "cut-and-paste (control)",
    "naive": "darkening + noise (control)",
    EMPTY_TISSUE: "box on lesion-free tissue (floor)",
}
REALISM_TARGET = 0.75  # AUC at most
POWER_AUC = 0.9  # both controls must reach this for the realism set-up to count as having power
ADHERENCE_TARGET = 0.8  # synthetic / real, at least
ATTRIBUTE_FIELDS = ("echo_pattern", "posterior_features")


@dataclass
class FigureSettings:
    model_dir: Path
    data_root: Path
    splits: tuple[str, ...] = ("validation", "test")
    limit: int | None = None
    seed: int = 0
    threads: int = 1
    steps: int = defaults.STEPS
    guidance: float = defaults.GUIDANCE
    strength: float = defaults.STRENGTH
    native_detail: bool = defaults.NATIVE_DETAIL
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    describe_model: str = "refit"  # "refit" without the held-out patients, or "bundled"
    inception: Path | None = None
    segmenter_dir: Path | None = None  # default: MODEL/segmenter, else the bundled one
    speed_lesions: int = 5
    examples: int = 6
    distance_splits: int = 10


@dataclass
class Collected:
    """What the per-lesion loop keeps: records, model-free windows and the window boxes."""

    records: list[dict]
    windows: dict[str, list[np.ndarray]]  # "real" and each method: [WINDOW_PX, WINDOW_PX] in [0, 1]
    boxes: list[tuple[float, float, float, float]]
    groups: list[str]  # image of each lesion


# --- per lesion ----------------------------------------------------------------------------------


def segmenter_dice(segmenter, frame: np.ndarray, mask: np.ndarray) -> float:
    """Dice of the click segmenter's box-prompt mask (the annotation tools' entry) with `mask`."""
    from engine.annotation.click_segment import segment
    from engine.evaluation.metrics import dice

    try:
        found = segment(frame, box=lesion_box(mask), segmenter=segmenter).mask
    except InputError:  # nothing found in the box
        found = np.zeros(mask.shape, bool)
    return dice(found, mask)


def lesion_free_mask(mask: np.ndarray) -> np.ndarray | None:
    """The mask moved sideways (same depth) onto tissue beside the lesion, not touching its box;
    None where the frame has no room. The segmenter's Dice there is the floor of figure 2: what a
    generator that draws nothing would score."""
    x0, y0, x1, y1 = lesion_box(mask)
    w = x1 - x0
    step = w + max(w // 4, 4)
    for dx in (step, -step, 2 * step, -2 * step):
        if x0 + dx >= 0 and x1 + dx <= mask.shape[1]:
            out = np.zeros_like(mask)
            out[y0:y1, x0 + dx : x1 + dx] = mask[y0:y1, x0:x1]
            return out
    return None


def _donor(lesions: list[HeldOutLesion], i: int) -> HeldOutLesion:
    """Another frame's lesion for the cut-and-paste control: half the list away, then onwards."""
    n = len(lesions)
    for k in range(n // 2, n // 2 + n):
        other = lesions[(i + k) % n]
        if other.image_key != lesions[i].image_key:
            return other
    raise DataError("the cut-and-paste control needs lesions of at least two images")


def _synthesize(lesion, index, donor, pipe, settings) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    from engine.generator.pipeline import physics_only

    seed = settings.seed + index
    frames, seconds = {"real": lesion.image}, {}
    makers = {
        "physics": lambda: physics_only(lesion.image, lesion.mask, lesion.description, seed=seed).pixels[0],
        "diffusion": lambda: pipe(
            lesion.image,
            lesion.mask,
            lesion.description,
            seed=seed,
            steps=settings.steps,
            guidance=settings.guidance,
            strength=settings.strength,
            native_detail=settings.native_detail,
        ).pixels[0],  # fmt: skip
        "cut_and_paste": lambda: cut_and_paste_control(lesion.image, lesion.mask, donor.image, donor.mask),
        "naive": lambda: naive_control(lesion.image, lesion.mask, seed),
    }
    for name, make in makers.items():
        t = time.perf_counter()
        frames[name] = make()
        seconds[name] = time.perf_counter() - t
    return frames, seconds


def _measured(frame, lesion, model) -> dict:
    from engine.language.measure import measure

    desc, _ = measure(frame, lesion.mask, None, model=model)  # sizes are not compared: no mm needed
    return {f: getattr(desc, f).value for f in ATTRIBUTE_FIELDS}


def collect(lesions, pipe, segmenter, describe_model, settings, log=print) -> Collected:
    from engine.generator.distances import window_box

    seen = _segmenter_training_cases(segmenter)
    records, boxes = [], []
    windows: dict[str, list[np.ndarray]] = {m: [] for m in ("real", *METHODS)}
    started = time.perf_counter()
    for i, lesion in enumerate(lesions):
        frames, seconds = _synthesize(lesion, i, _donor(lesions, i), pipe, settings)
        window = lesion_window(lesion.mask)
        boxes.append(window_box(crop_mask(lesion.mask, window)))
        for name, frame in frames.items():
            windows[name].append(window_pixels(frame, window))
        dice = {name: segmenter_dice(segmenter, frame, lesion.mask) for name, frame in frames.items()}
        free = lesion_free_mask(lesion.mask)
        if free is not None:
            dice[EMPTY_TISSUE] = segmenter_dice(segmenter, lesion.image, free)
        record = {
            "id": lesion.sample_id,
            "image": lesion.image_key,
            "description_source": lesion.description_source,
            "seen_by_segmenter": lesion.case_id in seen.get(lesion.dataset, ()),
            "seconds": {k: round(v, 4) for k, v in seconds.items()},
            "dice": {k: round(v, 4) for k, v in dice.items()},
        }
        radiologists = lesion.radiologists
        if radiologists is not None and describe_model is not None:
            record["requested"] = {
                f: (getattr(radiologists, f).value if getattr(radiologists, f) else None)
                for f in ATTRIBUTE_FIELDS
            }
            record["measured"] = {
                name: _measured(frame, lesion, describe_model) for name, frame in frames.items()
            }
        records.append(record)
        done = i + 1
        if done % 10 == 0 or done == len(lesions):
            elapsed = time.perf_counter() - started
            log(
                f"  {done}/{len(lesions)} lesions, {elapsed:.0f} s, "
                f"about {elapsed / done * (len(lesions) - done):.0f} s left", flush=True
            )  # fmt: skip
    return Collected(records, windows, boxes, [x.image_key for x in lesions])


def _segmenter_training_cases(segmenter) -> dict[str, set[str]]:
    """Case ids the click segmenter trained on, per dataset (its config records its split)."""
    split = segmenter.config.get("split", {})
    return {d: set(v.get("train", ())) for d, v in split.items() if isinstance(v, dict)}


# --- the five figures ----------------------------------------------------------------------------


def auc_by_dataset(result: dict, groups: list[str], seed: int) -> dict:
    """The pooled out-of-fold AUC on each dataset's lesions alone (BUSI frames carry burned-in
    calipers that synthesis erases, a cue BrEaST frames do not give)."""
    from engine.generator.realism import pooled_auc

    datasets = np.array([g.split("/", 1)[0] for g in groups])
    real, synthetic = np.array(result["real_scores"]), np.array(result["synthetic_scores"])
    out = {}
    for name in sorted(set(datasets)):
        idx = np.nonzero(datasets == name)[0]
        if len(idx) >= 2:
            e = pooled_auc(real[idx], synthetic[idx], seed)
            out[name] = {"pooled_auc": e.value, "low": e.low, "high": e.high, "lesions": int(len(idx))}
    return out


def _classify_methods(
    real: np.ndarray, windows: dict, groups: list[str], cfg: ClassifierConfig, seed: int, log
):
    """classifier_auc of every method's windows against `real`, with its pooled AUC per dataset."""
    methods = {}
    for name in METHODS:
        t, cpu = time.perf_counter(), time.process_time()
        methods[name] = classifier_auc(real, np.stack(windows[name]), groups, cfg, seed)
        methods[name]["by_dataset"] = auc_by_dataset(methods[name], groups, seed)
        log(
            f"  {LABELS[name]:32s} AUC {methods[name]['auc']:.3f} "
            f"(folds {', '.join(f'{a:.2f}' for a in methods[name]['fold_aucs'])}) "
            f"{time.perf_counter() - t:.0f} s wall, {time.process_time() - cpu:.0f} s CPU", flush=True
        )  # fmt: skip
    return methods


def realism_figure(c: Collected, cfg: ClassifierConfig, seed: int, log=print) -> dict:
    real = np.stack(c.windows["real"])
    methods = _classify_methods(real, c.windows, c.groups, cfg, seed, log)
    controls = {name: methods[name]["auc"] for name in CONTROLS}
    return {
        "methods": methods,
        "target": REALISM_TARGET,
        "power_check": {
            "controls": controls,
            "threshold": POWER_AUC,
            "passed": min(controls.values()) >= POWER_AUC,
        },
        "classifier": cfg.to_dict(),
        "window_px": int(real.shape[-1]),
    }


def canvas_realism_figure(lesions, pipe, settings: FigureSettings, log=print) -> dict:
    """Figure 1 again with no leakage: each held-out BUSI lesion drawn on its own lesion-free BUSI
    frame (engine.generator.canvas_realism), its real window against the twin's. The cut-and-paste
    control pastes the real lesion itself onto the canvas."""
    import dataclasses

    from engine.generator.canvas_realism import load_canvases, moved_mask

    if not any(x.dataset == "busi" for x in lesions):
        return {"lesions": 0, "note": "no held-out BUSI lesions"}
    try:
        canvases = load_canvases(settings.data_root)
    except DataError as e:  # figure 1 stands without it; say why it is missing
        return {"lesions": 0, "note": str(e)}
    windows: dict[str, list[np.ndarray]] = {m: [] for m in ("real", *METHODS)}
    groups, pairs = [], []
    for i, lesion in enumerate(lesions):
        if lesion.dataset != "busi" or len(pairs) == len(canvases):
            continue
        name, canvas = canvases[len(pairs)]
        mask = moved_mask(lesion.mask, canvas.shape)
        if mask is None:
            continue
        twin = dataclasses.replace(lesion, image=canvas, mask=mask)
        frames, _ = _synthesize(twin, i, lesion, pipe, settings)
        windows["real"].append(window_pixels(lesion.image, lesion_window(lesion.mask)))
        for method in METHODS:
            windows[method].append(window_pixels(frames[method], lesion_window(mask)))
        groups.append(lesion.image_key)
        pairs.append([lesion.sample_id, f"busi/{name}"])
    if len(set(groups)) < 4:
        return {"lesions": len(pairs), "note": "too few BUSI lesions to draw on canvases"}
    log(f"  {len(pairs)} BUSI lesions drawn on as many lesion-free frames", flush=True)
    real = np.stack(windows["real"])
    methods = _classify_methods(real, windows, groups, settings.classifier, settings.seed, log)
    return {"methods": methods, "lesions": len(pairs), "pairs": pairs, "target": REALISM_TARGET}


def paired_summary(values: np.ndarray, reference: np.ndarray, seed: int, resamples: int = 1000) -> dict:
    """Mean of `values` and mean(values) / mean(reference) over the same lesions, each with a paired
    percentile bootstrap 95 % interval (lesions resampled; vectorized)."""
    values, reference = np.asarray(values, float), np.asarray(reference, float)
    idx = np.random.default_rng(seed).integers(0, len(values), (resamples, len(values)))
    means, refs = values[idx].mean(1), reference[idx].mean(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(refs > 0, means / refs, np.nan)
    ref_mean = float(reference.mean())
    return {
        "mean": float(values.mean()),
        "low": float(np.percentile(means, 2.5)),
        "high": float(np.percentile(means, 97.5)),
        "median": float(np.median(values)),
        "n": len(values),
        "ratio": float(values.mean()) / ref_mean if ref_mean > 0 else float("nan"),
        "ratio_low": float(np.nanpercentile(ratios, 2.5)) if np.isfinite(ratios).any() else float("nan"),
        "ratio_high": float(np.nanpercentile(ratios, 97.5)) if np.isfinite(ratios).any() else float("nan"),
    }


def mask_figure(c: Collected, seed: int) -> dict:
    subsets = {
        "all held-out lesions": c.records,
        "not seen by the segmenter in training": [r for r in c.records if not r["seen_by_segmenter"]],
    }
    out = {"target": ADHERENCE_TARGET, "subsets": {}}
    for subset, records in subsets.items():
        if len(records) < 2:
            out["subsets"][subset] = {"n": len(records)}
            continue
        rows = {}
        for name in ("real", *METHODS, EMPTY_TISSUE):
            have = [r for r in records if name in r["dice"]]
            if len(have) < 2:
                continue
            values = np.array([r["dice"][name] for r in have])
            reference = np.array([r["dice"]["real"] for r in have])
            rows[name] = paired_summary(values, reference, seed)
        out["subsets"][subset] = {"n": len(records), "methods": rows}
    return out


def attribute_figure(c: Collected, describe_info: dict, seed: int) -> dict:
    from engine.evaluation.metrics import wilson_interval

    records = [r for r in c.records if "measured" in r]
    out = {
        "target": ADHERENCE_TARGET,
        "lesions": len(records),
        "describe_model": describe_info,
        "methods": {},
    }
    if not records:
        out["note"] = "no BrEaST lesion (radiologists' labels) among the evaluated lesions"
        return out
    for name in ("real", *METHODS):
        row = {}
        for f in (*ATTRIBUTE_FIELDS, "both"):
            fields = ATTRIBUTE_FIELDS if f == "both" else (f,)
            have = [r for r in records if all(r["requested"][g] is not None for g in fields)]
            agree = np.array(
                [all(r["measured"][name][g] == r["requested"][g] for g in fields) for r in have], float
            )
            reference = np.array(
                [all(r["measured"]["real"][g] == r["requested"][g] for g in fields) for r in have], float
            )
            low, high = wilson_interval(int(agree.sum()), len(agree))
            row[f] = {
                "agreement": float(agree.mean()) if len(agree) else float("nan"),
                "low": low,
                "high": high,
                "n": len(agree),
            }
            if len(agree) >= 2:
                paired = paired_summary(agree, reference, seed)
                row[f].update({k: paired[k] for k in ("ratio", "ratio_low", "ratio_high")})
        out["methods"][name] = row
    return out


def distance_figure(c: Collected, segmenter, inception, splits: int, seed: int) -> dict:
    from engine.generator.distances import segmenter_features, split_half_distances

    names = ("real", *METHODS)
    feats = {n: segmenter_features(segmenter, np.stack(c.windows[n]), c.boxes) for n in names}
    out = {
        "segmenter": {
            "features": "click segmenter encoder bottleneck, averaged over the window (box prompt on the lesion)",
            "dim": int(feats["real"].shape[1]),
            "values": split_half_distances(
                feats["real"], {n: feats[n] for n in METHODS}, c.groups, splits, seed
            ),
        }
    }
    if inception is None:
        out["inception"] = {
            "computed": False,
            "why": "no Inception weights given (--inception PATH, a torchvision inception_v3 state dict); "
            "ImageNet weights are not available offline",
        }
    else:
        feats = {n: inception(np.stack(c.windows[n])) for n in names}
        out["inception"] = {
            "computed": True,
            "weights": str(inception.path),
            "features": "Inception v3 pool (2048) with torchvision's architecture and the given weights, "
            "windows resized to 299 px; torchvision's ImageNet weights are not the TF-FID port of "
            "pytorch-fid, so the values are not directly comparable with published FIDs",
            "dim": int(feats["real"].shape[1]),
            "values": split_half_distances(
                feats["real"], {n: feats[n] for n in METHODS}, c.groups, splits, seed
            ),
        }
    return out


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def speed_figure(c: Collected, lesions, pipe, settings: FigureSettings, log=print) -> dict:
    """Median latency per lesion: the default mode over every lesion of the run (timed in the loop),
    full (strength 1.0) and preview (10 steps) on the first few lesions; peak process RSS."""
    sample = lesions[: settings.speed_lesions]
    modes = {
        f"full ({settings.steps} steps, guidance {settings.guidance:g}, strength 1.0)": (
            dict(steps=settings.steps, guidance=settings.guidance, strength=1.0, native_detail=settings.native_detail), 3.0,
        ),
        f"preview (10 steps, guidance {settings.guidance:g}, strength {settings.strength:g})": (
            dict(steps=10, guidance=settings.guidance, strength=settings.strength, native_detail=settings.native_detail), 1.0,
        ),
    }  # fmt: skip
    rows = {
        "physics draft (baseline)": {
            "median_s": statistics.median(r["seconds"]["physics"] for r in c.records),
            "lesions": len(c.records),
            "target_s": None,
        },
        f"default ({settings.steps} steps, guidance {settings.guidance:g}, strength {settings.strength:g})": {
            "median_s": statistics.median(r["seconds"]["diffusion"] for r in c.records),
            "lesions": len(c.records),
            "target_s": 3.0,
        },
    }
    for name, (kw, target) in modes.items():
        times = []
        for i, lesion in enumerate(sample):
            t = time.perf_counter()
            pipe(lesion.image, lesion.mask, lesion.description, seed=settings.seed + i, **kw)
            times.append(time.perf_counter() - t)
        rows[name] = {"median_s": statistics.median(times), "lesions": len(times), "target_s": target}
        log(f"  {name}: {rows[name]['median_s']:.2f} s per lesion", flush=True)
    import torch

    return {
        "modes": rows,
        "threads": torch.get_num_threads(),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }


# --- the run ------------------------------------------------------------------------------------


def describe_model_for(settings: FigureSettings, lesions: list[HeldOutLesion], log=print):
    """The attribute measurement's model for figure 3, and what it is.

    The bundled model was fitted on every BrEaST lesion, the held-out ones included, so on the real
    frames it is measured in-sample (agreement too high, the ratio too low). "refit" fits the same
    model without the evaluated lesions' patients (about a minute: every other BrEaST lesion's
    features are computed)."""
    from engine.language.measure import load_describe_model

    breast = [x for x in lesions if x.dataset == "breast"]
    if settings.describe_model == "bundled" or not breast:
        return load_describe_model(), {
            "kind": "bundled",
            "note": "resources/language/describe_model.json, fitted on all BrEaST lesions: the real "
            "reference is in-sample",
        }
    if settings.describe_model != "refit":
        raise InputError(f"describe model {settings.describe_model!r} must be 'refit' or 'bundled'")
    from engine.datasets import load_breast
    from engine.datasets.images import read_case_mask, read_gray
    from engine.language.features import lesion_features
    from engine.language.validation import Sample, fit_final

    held = {x.patient_id for x in breast}
    cases = [
        c
        for c in load_breast(settings.data_root / "bus" / "BrEaST-Lesions_USG").lesion_cases()
        if c.patient_id not in held
    ]
    log(
        f"refitting the attribute measurement on {len(cases)} BrEaST lesions of other patients ...",
        flush=True,
    )
    samples = []
    for case in cases:
        image = read_gray(case.image_path)
        mask = read_case_mask(case.mask_paths, image.shape)
        samples.append(Sample(case.case_id, case.patient_id, lesion_features(image, mask), case.description))
    model = fit_final(samples, settings.seed, {"data": "BrEaST-Lesions_USG without the held-out patients"})
    return model, {
        "kind": "refit",
        "note": f"fitted like the bundled model on {len(samples)} BrEaST lesions, none of the "
        f"{len(held)} evaluated patients': the real reference is out-of-sample",
        "lesions": len(samples),
    }


def _data_note(data: dict, settings: FigureSettings) -> str:
    """Which splits, and why the test split alone is not enough (from its own sizes)."""
    sizes = data["split_sizes"]
    test, val = sizes.get("test", 0), sizes.get("validation", 0)
    if tuple(settings.splits) == ("test",):
        return f"test split only ({test} lesions)"
    breast_test = data["split_datasets"].get("test", {}).get("breast", 0)
    half_width = 1.96 * (0.25 / max(breast_test, 1)) ** 0.5  # a 95 % interval of a rate near 0.5
    return (
        f"validation + test splits ({val} + {test} lesions): the test split alone is too small for "
        f"these figures (its {breast_test} BrEaST lesions give an agreement rate a 95 % interval of "
        f"about +-{half_width:.2f}, and 5-fold CNN training would see about {int(2 * test * 0.8)} "
        f"windows); the validation split is never trained on, but the trainer measures a validation "
        f"loss on it and can export the weights at its best (model_best), a mild optimism if a "
        f"model was chosen that way; --split test uses the test split alone"
    )


def run_figures(settings: FigureSettings, log=print) -> dict:
    import torch

    from engine.annotation.segmenter import BUNDLED_FOLDER, WEIGHTS, load_segmenter
    from engine.generator.distances import InceptionFeatures
    from engine.generator.pipeline import BusTumorPipeline

    started, cpu_started = time.perf_counter(), time.process_time()
    load_start = [round(v, 2) for v in os.getloadavg()]
    torch.set_num_threads(settings.threads)
    inception = InceptionFeatures(settings.inception) if settings.inception else None  # fail before the work
    pipe = BusTumorPipeline.from_pretrained(settings.model_dir)
    seg_dir = settings.segmenter_dir
    if seg_dir is None:
        inside = Path(settings.model_dir) / "segmenter"
        seg_dir = inside if (inside / WEIGHTS).is_file() else BUNDLED_FOLDER
    segmenter = load_segmenter(seg_dir)
    log(
        f"model {settings.model_dir}; segmenter {seg_dir}; torch threads {torch.get_num_threads()}",
        flush=True,
    )
    lesions, data = load_heldout(
        settings.model_dir, settings.data_root, settings.splits, settings.limit, settings.seed
    )
    if len({x.image_key for x in lesions}) < 4:
        raise DataError(
            f"{len(lesions)} held-out lesions of {len({x.image_key for x in lesions})} images: the figures need "
            "lesions of at least 4 images (raise --limit)"
        )
    data["note"] = _data_note(data, settings)
    log(f"held-out lesions: {data['lesions']} ({data['per_dataset']}); {data['note']}", flush=True)
    describe, describe_info = describe_model_for(settings, lesions, log)
    pipe(
        lesions[0].image, lesions[0].mask, lesions[0].description, steps=2
    )  # warm-up: loads the text encoder
    log("synthesizing every held-out lesion in place (physics, diffusion, two controls) ...", flush=True)
    collected = collect(lesions, pipe, segmenter, describe, settings, log)
    log("1. realism: SmallCNN, grouped 5-fold AUC, real vs synthetic windows", flush=True)
    realism = realism_figure(collected, settings.classifier, settings.seed, log)
    log("1b. realism without leakage: the BUSI lesions drawn on lesion-free frames", flush=True)
    canvas_realism = canvas_realism_figure(lesions, pipe, settings, log)
    log("4. FID / KID on the segmenter's encoder features", flush=True)
    distances = distance_figure(collected, segmenter, inception, settings.distance_splits, settings.seed)
    log("5. speed", flush=True)
    speed = speed_figure(collected, lesions, pipe, settings, log)
    examples = list(range(min(settings.examples, len(lesions))))
    return {
        "model": str(settings.model_dir),
        "model_info": pipe.info,
        "model_window_px": int(pipe.config.size) if hasattr(pipe.config, "size") else None,
        "segmenter": str(seg_dir),
        "settings": {
            "splits": list(settings.splits),
            "limit": settings.limit,
            "seed": settings.seed,
            "threads": settings.threads,
            "steps": settings.steps,
            "guidance": settings.guidance,
            "strength": settings.strength,
            "native_detail": settings.native_detail,
            "describe_model": settings.describe_model,
            "inception": str(settings.inception) if settings.inception else None,
        },
        "data": data,
        "realism": realism,
        "canvas_realism": canvas_realism,
        "mask_adherence": mask_figure(collected, settings.seed),
        "attributes": attribute_figure(collected, describe_info, settings.seed),
        "distances": distances,
        "speed": speed,
        "load_average_start": load_start,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "lesions": collected.records,
        "_examples": {
            "ids": [lesions[i].sample_id for i in examples],
            "requests": [lesions[i].description.to_dict() for i in examples],
            "windows": {
                n: [collected.windows[n][i] for i in examples] for n in ("real", "physics", "diffusion")
            },
        },
    }
