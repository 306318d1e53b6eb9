"""Backends side by side: torch vs onnxruntime on CPU (2 threads), parity and speed, with options.

Parity (targets): one denoiser step max |diff| <= 1e-3 against torch fp32; a full 20-step sample
(strength 1.0: from pure noise, guidance 3) with the same seed has PSNR >= 40 dB against torch's,
measured over the model window (the rest of the frame is untouched by both).
Speed (target: onnxruntime >= 1.5x torch): per denoiser step (a guided step runs 2B rows) and per
lesion (20 steps, strength 0.6, guidance 3: 12 guided steps, plus encoder, draft and blend), at
batch 1 and 4 lesions, torch 2 threads vs onnxruntime 2 intra-op threads.
Options, each with its PSNR cost against torch: onnxruntime graph optimization levels, the
onnxruntime.transformers UNet fusions (attention, GroupNorm...) where they load on CPU, int8 dynamic
quantization (weights int8, activations quantized at run time).
Uses resources/models/default when it exists, else an untrained model of the default architecture.
The CUDA rows are not measured on a machine without a GPU (said so in the table).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

THREADS = 2


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _window_psnr(a, b, window: dict) -> float:
    sl = (slice(None), slice(window["y0"], window["y1"]), slice(window["x0"], window["x1"]))
    return _psnr(a[sl], b[sl])


def _variant_folder(src: Path, dst: Path, denoiser: Path | None = None) -> Path:
    """A copy of the exported folder (links) with another denoiser graph."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline.json", "encoder.onnx", "tokenizer.json", "denoiser.onnx"):
        target = dst / name
        if not target.exists():
            os.symlink((denoiser if name == "denoiser.onnx" and denoiser else src / name).resolve(), target)
    return dst


def _fused_unet(src: Path, dst: Path) -> tuple[Path | None, str]:
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(str(src), model_type="unet", opt_level=0, use_gpu=False)
        model.save_model_to_file(str(dst))
        ops = sorted(
            {n.op_type for n in model.model.graph.node}
            - {n.op_type for n in __import__("onnx").load(str(src)).graph.node}
        )
        return dst, "new ops: " + (", ".join(ops) or "none")
    except Exception as exc:  # the optimizer's fusions may not apply or may need a GPU
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"


def main() -> None:
    import torch

    from engine.backends.export import export_onnx
    from engine.backends.onnx_pipeline import OnnxPipeline
    from engine.backends.torch_backend import TorchBackend
    from engine.dicom import open_study
    from engine.generator.pipeline import CONFIG_NAME, BusTumorPipeline
    from engine.generator.unet import DenoiserConfig, GeneratorModel
    from engine.language import LesionDescription
    from engine.settings import get_settings, sample_study_path

    torch.set_num_threads(THREADS)
    tmp = Path(tempfile.mkdtemp(prefix="bench_backends_"))
    model_dir = get_settings().model_dir
    if (model_dir / CONFIG_NAME).is_file():
        source = f"model {model_dir}"
    else:
        torch.manual_seed(0)
        model_dir = BusTumorPipeline(GeneratorModel(DenoiserConfig())).save_pretrained(tmp / "model")
        source = "untrained model, default architecture (no resources/models/default yet)"
    print(f"{source}; torch {torch.__version__}, {THREADS} threads; load average {os.getloadavg()[0]:.1f}")

    onnx_dir = tmp / "onnx"
    start = time.perf_counter()
    entry = export_onnx(model_dir, onnx_dir)
    print(
        f"export (torch.onnx.export dynamo=False): denoiser {entry['export_seconds']['denoiser']} s, "
        f"denoiser + MiniLM encoder {time.perf_counter() - start:.1f} s"
    )
    try:
        import onnxscript  # noqa: F401

        print("dynamo exporter: onnxscript is installed (not measured here)")
    except ImportError:
        print("dynamo exporter (torch.onnx.export dynamo=True): not available, onnxscript is not installed")

    pipe = BusTumorPipeline.from_pretrained(model_dir)
    torch_backend = TorchBackend(pipe.model, text_encoder=pipe.text_encoder)
    frame = open_study(sample_study_path()).frame(0).gray
    yy, xx = np.mgrid[: frame.shape[0], : frame.shape[1]]
    mask = ((yy - 190) / 45) ** 2 + ((xx - 320) / 70) ** 2 <= 1
    desc = LesionDescription(shape="irregular", echo_pattern="hypoechoic", posterior_features="shadowing")

    # ---- variants of the onnxruntime side
    quant = tmp / "denoiser_int8.onnx"
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(onnx_dir / "denoiser.onnx"), str(quant), weight_type=QuantType.QInt8)
    fused, fused_note = _fused_unet(onnx_dir / "denoiser.onnx", tmp / "denoiser_fused.onnx")
    variants = [
        ("onnx-cpu, no graph optimization", onnx_dir, "none"),
        ("onnx-cpu, basic optimizations", onnx_dir, "basic"),
        ("onnx-cpu, all optimizations (default)", onnx_dir, "all"),
        ("onnx-cpu, int8 dynamic quantization", _variant_folder(onnx_dir, tmp / "int8", quant), "all"),
    ]
    if fused:
        variants.append(
            (
                "onnx-cpu, UNet fusions (ort.transformers)",
                _variant_folder(onnx_dir, tmp / "fused", fused),
                "all",
            )
        )
    else:
        print(f"UNet fusions (onnxruntime.transformers optimizer): not usable on CPU here: {fused_note}")

    # ---- one step parity; speed measured interleaved (torch, then each option, in turn) so every
    # backend meets the same load from other processes on these shared cores
    g = torch.Generator().manual_seed(0)
    seq_len = pipe.model.conditioner.sequence_length
    inputs = {}
    for lesions in (1, 4):
        b = 2 * lesions  # guided: conditional and unconditional rows
        inputs[lesions] = (
            torch.randn(b, 1, 64, 64, generator=g).numpy(),
            torch.rand(b, 4, 64, 64, generator=g).numpy(),
            np.full(b, 500),
            torch.randn(b, seq_len, 384, generator=g).numpy(),
        )
    # every backend takes the same numpy call (the one sampling loop, engine.generator.loop)
    reference = {n: torch_backend.denoise(*inp) for n, inp in inputs.items()}
    pipes = {"torch-cpu fp32 (baseline)": pipe}
    for label, folder, level in variants:
        pipes[label] = OnnxPipeline.from_pretrained(folder, "onnx-cpu", threads=THREADS, optimization=level)

    def step_call(label, n):
        if label in pipes and pipes[label] is pipe:
            return lambda: torch_backend.denoise(*inputs[n])
        ob = pipes[label].backend
        return lambda: ob.denoise(*inputs[n])

    def sample(p, seed=0, strength=1.0, variants=1):
        return p(frame, mask, desc, seed=seed, steps=20, guidance=3.0, strength=strength, variants=variants)

    def interleaved(calls: dict, repeats: int) -> dict:
        for fn in calls.values():
            fn()  # warm up
        times = {k: [] for k in calls}
        for _ in range(repeats):
            for k, fn in calls.items():
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
        return {k: statistics.median(v) for k, v in times.items()}

    step = {n: interleaved({label: step_call(label, n) for label in pipes}, 7) for n in (1, 4)}
    ref_sample = sample(pipe)
    window = ref_sample.record["window"]
    lesion_labels = [label for label in pipes if "baseline" in label or "default" in label]
    lesion = {
        n: interleaved(
            {k: (lambda p=pipes[k], n=n: sample(p, strength=0.6, variants=n)) for k in lesion_labels}, 2
        )
        for n in (1, 4)
    }
    rows = []
    for label, p in pipes.items():
        if p is pipe:
            diff, psnr = 0.0, float("inf")
        else:
            ob = p.backend
            diff = max(float(np.abs(ob.denoise(*inp) - reference[n]).max()) for n, inp in inputs.items())
            psnr = _window_psnr(ref_sample.pixels, sample(p).pixels, window)
        rows.append(
            (
                label,
                diff,
                psnr,
                {n: step[n][label] for n in (1, 4)},
                {n: lesion[n].get(label) for n in (1, 4)},
            )
        )
    base = rows[0]
    torch_step, torch_lesion = base[3], base[4]

    print()
    head = f"{'backend / option':44s} {'step |diff|':>11s} {'PSNR dB':>8s}"
    for n in (1, 4):
        head += f" {'step b' + str(n) + ' ms':>11s} {'x torch':>7s}"
    for n in (1, 4):
        head += f" {'lesion b' + str(n) + ' s':>11s} {'x torch':>7s}"
    print(head)
    for label, diff, psnr, step, lesion in rows:
        line = f"{label:44s} {diff:11.2e} {psnr:8.1f}"
        for n in (1, 4):
            line += f" {step[n] * 1e3:11.1f} {torch_step[n] / step[n]:7.2f}"
        for n in (1, 4):
            if lesion[n] is None:
                line += f" {'-':>11s} {'-':>7s}"
            else:
                line += f" {lesion[n] / n:11.3f} {torch_lesion[n] / lesion[n]:7.2f}"
        print(line)
    print(
        "per step: one guided denoiser call (2 x batch rows); per lesion: 20 steps at strength 0.6 "
        f"({ref_sample.record['denoising_steps_run']} guided steps run at strength 1.0 for PSNR), "
        "wall time / lesions; medians of interleaved runs; 'x torch' > 1 is faster than torch"
    )
    # ---- one thread each: the figure behind `auto` preferring onnx-cpu on a CPU (no OpenMP
    # threads waiting for each other on a loaded machine)
    torch.set_num_threads(1)
    single = OnnxPipeline.from_pretrained(onnx_dir, "onnx-cpu", threads=1).backend
    calls = {}
    for n in (1, 4):
        calls[f"torch-cpu b{n}"] = lambda n=n: torch_backend.denoise(*inputs[n])
        calls[f"onnx-cpu b{n}"] = lambda n=n: single.denoise(*inputs[n])
    one = interleaved(calls, 9)
    print(
        "1 thread, per guided step: "
        + "; ".join(
            f"batch {n}: torch {one[f'torch-cpu b{n}'] * 1e3:.1f} ms, onnxruntime "
            f"{one[f'onnx-cpu b{n}'] * 1e3:.1f} ms ({one[f'torch-cpu b{n}'] / one[f'onnx-cpu b{n}']:.2f}x)"
            for n in (1, 4)
        )
    )
    same = np.array_equal(ref_sample.pixels, sample(pipes["onnx-cpu, all optimizations (default)"]).pixels)
    print(
        f"default onnx-cpu vs torch-cpu, 20 steps, same seed: {'identical' if same else 'different'} pixels"
    )
    print(
        "torch-cuda fp16 / onnx-cuda (latency at batch 1, lesions/s at batch 32): not measured, no GPU here"
    )


if __name__ == "__main__":
    main()
