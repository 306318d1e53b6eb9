"""The generator figures' report: figures.json, figures.md (one table per figure) and PNG plots.

Plots use matplotlib's Agg backend (no display); every file is written atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from engine.fileio import atomic_write, atomic_write_bytes
from engine.generator.distances import REAL_VS_REAL
from engine.generator.figures import CONTROLS, LABELS, METHODS

BASELINE, OURS = "physics", "diffusion"


def _f(v, digits=3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _meets(ok) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def _json_ready(value):
    """Results without the example windows ("_" keys), NaN as null (strict JSON)."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def markdown(results: dict, command: str) -> str:
    data, speed = results["data"], results["speed"]
    lines = [
        "# Tumor generator figures",
        "",
        f"Command: `{command}`",
        "",
        f"- Model: `{results['model']}` ({json.dumps(results['model_info'])}), model window "
        f"{results['model_window_px']} px; segmenter `{results['segmenter']}`.",
        f"- Held-out lesions: {data['lesions']} in {data['images']} images "
        f"({', '.join(f'{k} {v}' for k, v in data['per_dataset'].items())}); {data['note']}."
        + (f" Skipped: {len(data['skipped'])}." if data["skipped"] else ""),
        "- Each lesion is synthesized in place: its own frame, its own mask, its description "
        "(radiologists' labels for BrEaST, engine.language.measure for BUSI).",
        f"- Seed {results['settings']['seed']}, diffusion {results['settings']['steps']} steps, guidance "
        f"{results['settings']['guidance']:g}, strength {results['settings']['strength']:g}, native detail "
        f"{'on' if results['settings'].get('native_detail') else 'off'}; "
        f"{speed['threads']} torch thread(s) on {speed['cpu_count']} CPU cores; load average "
        f"{results['load_average_start'][0]:.1f} at the start, {speed['load_average'][0]:.1f} at the end; "
        f"wall time {results['wall_seconds'] / 60:.1f} min, CPU time {results['cpu_seconds'] / 60:.1f} min.",
        "",
    ]
    lines += _realism_md(results["realism"])
    if "canvas_realism" in results:
        lines += _canvas_realism_md(results["canvas_realism"])
    lines += _mask_md(results["mask_adherence"])
    lines += _attributes_md(results["attributes"])
    lines += _distances_md(results["distances"])
    lines += _speed_md(speed)
    return "\n".join(lines) + "\n"


def _auc_table(methods: dict, target: float) -> list[str]:
    """One row per method: fold mean, folds, pooled AUC with its interval, target met (not for controls)."""
    out = [
        f"| method | AUC (mean of folds) | fold AUCs | pooled out-of-fold AUC [95 % CI] | meets <= {target} |",
        "|---|---|---|---|---|",
    ]
    for name in METHODS:
        m = methods[name]
        ok = m["auc"] <= target if name not in CONTROLS else None
        out.append(
            f"| {LABELS[name]} | {_f(m['auc'])} | {', '.join(_f(a, 2) for a in m['fold_aucs'])} | "
            f"{_f(m['pooled_auc'])} [{_f(m['pooled_low'])}, {_f(m['pooled_high'])}] | {_meets(ok)} |"
        )
    return out


def _realism_md(r: dict) -> list[str]:
    c = r["classifier"]
    out = [
        f"## 1. Realism: AUC of a small CNN telling real lesion windows from synthetic ones (target <= {r['target']})",
        "",
        f"SmallCNN (engine.evaluation; base {c['base']}, {c['depth']} stages, {c['epochs']} epochs), "
        f"{r['window_px']}x{r['window_px']} windows, grouped {c['folds']}-fold CV (the real and synthetic "
        "windows of a frame in one fold), one synthetic window per real one. 0.5 = indistinguishable.",
        "",
    ]
    out += _auc_table(r["methods"], r["target"])
    datasets = sorted({d for name in METHODS for d in r["methods"][name].get("by_dataset", {})})
    if datasets:
        out += [
            "",
            "Pooled out-of-fold AUC on each dataset's lesions alone [95 % CI]:",
            "",
            "| method | " + " | ".join(datasets) + " |",
            "|---|" + "---|" * len(datasets),
        ]
        for name in METHODS:
            by = r["methods"][name].get("by_dataset", {})
            cells = [
                f"{_f(by[d]['pooled_auc'])} [{_f(by[d]['low'])}, {_f(by[d]['high'])}] (n={by[d]['lesions']})"
                if d in by
                else "n/a"
                for d in datasets
            ]
            out.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    p = r["power_check"]
    verdict = (
        "passed: the set-up tells a visible flaw apart"
        if p["passed"]
        else "**FAILED: a control scores below the threshold, so this set-up cannot tell a visible flaw "
        "apart and the generators' AUCs mean nothing**"
    )
    controls = ", ".join(f"{LABELS[k]} {_f(v)}" for k, v in p["controls"].items())
    out += ["", f"Power check (both controls >= {p['threshold']}): {controls}: {verdict}.", ""]
    return out


def _canvas_realism_md(r: dict) -> list[str]:
    out = [
        "## 1b. Realism without leakage: the BUSI lesions drawn on lesion-free BUSI frames",
        "",
        "Each held-out BUSI lesion's mask and description moved to its own lesion-free frame (same "
        "relative position) and drawn there; its real window against the twin's window. Nothing of the "
        "real lesion can leak into the synthetic one, but the backgrounds differ. The cut-and-paste "
        "control here pastes the real lesion itself onto the canvas, so its AUC is what the change of "
        "background alone gives away: the floor of this protocol.",
        "",
    ]
    if "methods" not in r:
        return out + [f"{r.get('note', 'not run')} ({r.get('lesions', 0)} lesions).", ""]
    out += [
        f"{r['lesions']} lesions on as many canvases.",
        "",
    ]
    return out + _auc_table(r["methods"], r["target"]) + [""]


def _mask_md(r: dict) -> list[str]:
    out = [
        f"## 2. Mask adherence: segmenter Dice on the synthetic frame / on the real frame (target >= {r['target']})",
        "",
        "The click segmenter (trained on real images) gets the requested mask's box, as in the "
        "annotation tools; Dice of its mask with the requested mask. The floor row puts the same "
        "box on lesion-free tissue beside the lesion (what drawing nothing would score).",
        "",
    ]
    for subset, s in r["subsets"].items():
        out += [f"{subset} ({s['n']} lesions):", ""]
        if "methods" not in s:
            out += ["too few lesions.", ""]
            continue
        out += [
            "| method | mean Dice [95 % CI] | median | ratio to real [95 % CI] | meets >= 0.8 |",
            "|---|---|---|---|---|",
        ]
        for name, m in s["methods"].items():
            ok = m["ratio"] >= r["target"] if name in ("physics", "diffusion") else None
            out.append(
                f"| {LABELS[name]} (n={m['n']}) | {_f(m['mean'])} [{_f(m['low'])}, {_f(m['high'])}] | "
                f"{_f(m['median'])} | {_f(m['ratio'], 2)} [{_f(m['ratio_low'], 2)}, {_f(m['ratio_high'], 2)}] | {_meets(ok)} |"
            )
        out.append("")
    return out


def _attributes_md(r: dict) -> list[str]:
    out = [
        "## 3. Attribute adherence: engine.language.measure agrees with the request, as a fraction of "
        f"its agreement with the radiologists on the real frames (target >= {r['target']})",
        "",
        f"BrEaST held-out lesions: {r['lesions']}; requests = the radiologists' labels. Measurement model: "
        f"{r['describe_model']['kind']} ({r['describe_model']['note']}).",
        "",
    ]
    if not r["methods"]:
        return [*out, r.get("note", ""), ""]
    out += [
        "| method | echo pattern agrees [95 % CI] | ratio | posterior features agree | ratio | both agree | ratio | meets >= 0.8 (both) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in r["methods"].items():
        cells = []
        for f in ("echo_pattern", "posterior_features", "both"):
            a = row[f]
            cells += [
                f"{_f(a['agreement'], 2)} [{_f(a['low'], 2)}, {_f(a['high'], 2)}] (n={a['n']})",
                _f(a.get("ratio"), 2),
            ]
        ratio = row["both"].get("ratio")
        ok = ratio >= r["target"] if name in ("physics", "diffusion") and ratio is not None else None
        out.append(f"| {LABELS[name]} | {' | '.join(cells)} | {_meets(ok)} |")
    out += ["", "Ratios carry a paired bootstrap 95 % interval in figures.json.", ""]
    return out


def _distance_rows(values: dict) -> list[str]:
    """One row per method (and real vs real): FID (sd) and KID (sd) over the halvings."""
    return [
        f"| {name if name == REAL_VS_REAL else LABELS[name]} | {_f(v['fid'], 2)} ({_f(v['fid_sd'], 2)}) | "
        f"{_f(v['kid'], 4)} ({_f(v['kid_sd'], 4)}) |"
        for name, v in values.items()
    ]


def _distances_md(r: dict) -> list[str]:
    s = r["segmenter"]
    first = next(iter(s["values"].values()))
    out = [
        "## 4. FID and KID on features of a network trained on real ultrasound (lower is better)",
        "",
        f"Features: {s['features']} ({s['dim']}-d). Each figure compares one half of the held-out images' "
        f"real windows with the other half's synthetic ones ({first['n_per_half']} per half), mean (sd) over "
        f"{first['splits']} random halvings; the real-vs-real row is the scale: a generator cannot beat it.",
        "",
        "| method | FID (segmenter) | KID (segmenter) |",
        "|---|---|---|",
    ]
    out += _distance_rows(s["values"])
    inc = r["inception"]
    if inc["computed"]:
        out += [
            "",
            f"Standard FID and KID ({inc['features']}; weights `{inc['weights']}`, {inc['dim']}-d):",
            "",
            "| method | FID | KID |",
            "|---|---|---|",
        ]
        out += _distance_rows(inc["values"])
    else:
        out += ["", f"Standard (Inception) FID: not computed: {inc['why']}."]
    return [*out, ""]


def _speed_md(s: dict) -> list[str]:
    out = [
        f"## 5. Speed on CPU ({s['threads']} torch thread(s), in process)",
        "",
        "| mode | median s per lesion | lesions timed | target | meets |",
        "|---|---|---|---|---|",
    ]
    for name, m in s["modes"].items():
        ok = m["median_s"] <= m["target_s"] if m["target_s"] else None
        target = f"<= {m['target_s']:g} s" if m["target_s"] else "-"
        out.append(f"| {name} | {_f(m['median_s'], 2)} | {m['lesions']} | {target} | {_meets(ok)} |")
    out += [
        "",
        f"Peak memory (process RSS, whole run): {s['peak_rss_mb']:.0f} MB. Load average at the end "
        f"(1, 5, 15 min): {', '.join(f'{v:.1f}' for v in s['load_average'])} on {s['cpu_count']} cores.",
    ]
    return out


# --- plots -----------------------------------------------------------------------------------------


def _save(fig, path: Path) -> Path:
    # format named: the temporary file's name does not end in .png
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))


def _colors(names) -> list[str]:
    palette = {"real": "0.55", "physics": "tab:orange", "diffusion": "tab:blue", "cut_and_paste": "tab:red",
               "naive": "tab:purple", "empty_tissue": "0.8", REAL_VS_REAL: "0.55"}  # fmt: skip
    return [palette.get(n, "tab:gray") for n in names]


def _bar(ax, names, values, errors=None, title="", ylabel=""):
    x = np.arange(len(names))
    ax.bar(x, values, color=_colors(names), yerr=errors, capsize=3)
    ax.set_xticks(x, [LABELS.get(n, n) for n in names], rotation=30, ha="right", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)


def plot_report(results: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []

    def figure(name, draw, size=(6, 3.5), cols=1):
        fig, axes = plt.subplots(1, cols, figsize=size)
        draw(axes)
        written.append(_save(fig, out / name))
        plt.close(fig)

    r = results["realism"]

    def realism(ax):
        names = list(METHODS)
        aucs = [r["methods"][n]["auc"] for n in names]
        spread = [np.std(r["methods"][n]["fold_aucs"]) for n in names]
        _bar(
            ax,
            names,
            aucs,
            spread,
            "1. realism: real vs synthetic AUC (lower is better)",
            "AUC (mean of folds, sd)",
        )
        ax.axhline(0.5, color="k", lw=1, ls=":", label="0.5 indistinguishable")
        ax.axhline(r["target"], color="g", lw=1, ls="--", label=f"target {r['target']}")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7)

    figure("fig1_realism.png", realism)

    m = results["mask_adherence"]

    def mask(axes):
        axes = np.atleast_1d(axes)
        for ax, (subset, s) in zip(axes, m["subsets"].items(), strict=False):
            if "methods" not in s:
                ax.set_axis_off()
                continue
            names = list(s["methods"])
            means = [s["methods"][n]["mean"] for n in names]
            err = np.array([[s["methods"][n]["mean"] - s["methods"][n]["low"] for n in names],
                            [s["methods"][n]["high"] - s["methods"][n]["mean"] for n in names]])  # fmt: skip
            _bar(
                ax, names, means, err, f"2. mask adherence: {subset} (n={s['n']})", "segmenter Dice (95 % CI)"
            )
            if "real" in s["methods"]:
                ax.axhline(m["target"] * s["methods"]["real"]["mean"], color="g", lw=1, ls="--",
                           label=f"target: {m['target']} x real")  # fmt: skip
                ax.legend(fontsize=7)
            ax.set_ylim(0, 1.05)

    figure("fig2_mask_adherence.png", mask, size=(11, 3.8), cols=len(m["subsets"]))

    a = results["attributes"]
    if a["methods"]:

        def attributes(ax):
            names = list(a["methods"])
            fields = ("echo_pattern", "posterior_features", "both")
            x = np.arange(len(names))
            for k, f in enumerate(fields):
                vals = [a["methods"][n][f]["agreement"] for n in names]
                ax.bar(x + (k - 1) * 0.27, vals, 0.27, label=f.replace("_", " "))
            ax.set_xticks(x, [LABELS[n] for n in names], rotation=30, ha="right", fontsize=8)
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("measure agrees with the request")
            ax.set_title(
                f"3. attribute adherence, BrEaST (n={a['lesions']}); real: vs radiologists", fontsize=10
            )
            ax.legend(fontsize=7)

        figure("fig3_attributes.png", attributes, size=(7, 3.8))

    d = results["distances"]["segmenter"]["values"]

    def distances(axes):
        names = list(d)
        for ax, key, label in zip(axes, ("fid", "kid"), ("FID", "KID"), strict=True):
            _bar(ax, names, [d[n][key] for n in names], [d[n][f"{key}_sd"] for n in names],
                 f"4. {label} on segmenter features (lower is better)", f"{label} (sd over halvings)")  # fmt: skip

    figure("fig4_fid_kid.png", distances, size=(11, 3.8), cols=2)

    s = results["speed"]

    def speed(ax):
        names = list(s["modes"])
        vals = [s["modes"][n]["median_s"] for n in names]
        x = np.arange(len(names))
        ax.bar(x, vals, color=["tab:orange"] + ["tab:blue"] * (len(names) - 1))
        for i, n in enumerate(names):
            if s["modes"][n]["target_s"]:
                ax.plot([i - 0.4, i + 0.4], [s["modes"][n]["target_s"]] * 2, "g--", lw=1)
        ax.set_xticks(x, names, rotation=20, ha="right", fontsize=7)
        ax.set_ylabel("median s per lesion (dashes: target)")
        ax.set_title(f"5. speed, {s['threads']} thread(s), load {s['load_average'][0]:.1f}", fontsize=10)

    figure("fig5_speed.png", speed, size=(7, 3.8))
    written.append(_examples(results["_examples"], out, plt))
    return written


def _examples(ex: dict, out: Path, plt) -> Path:
    columns = ("real", "physics", "diffusion")
    n = len(ex["ids"])
    fig, axes = plt.subplots(max(n, 1), 3, figsize=(6, 2.1 * max(n, 1)), squeeze=False)
    for i in range(n):
        req = ex["requests"][i]
        for j, name in enumerate(columns):
            ax = axes[i, j]
            ax.imshow(ex["windows"][name][i], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(LABELS[name], fontsize=9)
        axes[i, 0].set_ylabel(
            f"{ex['ids'][i].rsplit('/', 1)[0]}\n{req.get('echo_pattern') or '-'}\n{req.get('posterior_features') or '-'}",
            fontsize=7,
        )
    return _save(fig, out / "examples.png")


def write_report(results: dict, out: Path, command: str) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        atomic_write_bytes(out / "figures.json", json.dumps(_json_ready(results), indent=1).encode("utf-8")),
        atomic_write_bytes(out / "figures.md", markdown(results, command).encode("utf-8")),
    ]
    return written + plot_report(results, out)
