"""Downstream evaluation: do synthetic tumors help segmentation and classification models, and can
readers tell them from real ones (the visual Turing test)?

Modules: splits (patient-grouped), arrays (images at a model size), models (UNet, small CNN),
training, metrics (with bootstrap intervals and paired comparisons), synthetic (the synthetic-set
builder over the generator's public API), runner (the protocol), report, reader_study.
Heavy imports (torch) live in models/training only.
"""
