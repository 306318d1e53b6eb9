"""Options the generator's commands share (synthesize, generator-figures, adapt-figures)."""

from __future__ import annotations

import argparse


def add_native_detail_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-native-detail",
        action="store_true",
        help="paste the model's output as it is, without the native outline and speckle under it "
        "(engine.generator.detail)",
    )


def add_sampling_options(p: argparse.ArgumentParser, steps_flag: str = "--steps") -> None:
    """Steps (under `steps_flag`), guidance, strength and native detail, at the sampling defaults."""
    from engine.generator import defaults

    p.add_argument(steps_flag, type=int, default=defaults.STEPS, help="diffusion sampling steps")
    p.add_argument("--guidance", type=float, default=defaults.GUIDANCE)
    p.add_argument("--strength", type=float, default=defaults.STRENGTH)
    add_native_detail_option(p)


def realism_classifier(epochs: int | None):
    """The realism classifier's config, with `epochs` when given (else its default)."""
    import dataclasses

    from engine.generator.realism import ClassifierConfig

    config = ClassifierConfig()
    return config if epochs is None else dataclasses.replace(config, epochs=epochs)
