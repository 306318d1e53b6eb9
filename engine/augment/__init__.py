"""Batch synthesis of a whole dataset (`bus-engine augment`): K synthetic lesions per source image,
sharded over worker processes (or GPUs), resumable, with a manifest of every synthetic image."""

from engine.augment.batch import AugmentConfig, WorkItem, plan_items, run_augment
from engine.augment.manifest import MANIFEST_COLUMNS, write_manifest

__all__ = ["MANIFEST_COLUMNS", "AugmentConfig", "WorkItem", "plan_items", "run_augment", "write_manifest"]
