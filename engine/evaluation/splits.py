"""Train/test splits that keep every patient's images on one side, stratified by label, seeded."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from engine.datasets.base import Case
from engine.errors import InputError


def group_split(
    cases: list[Case], test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Case], list[Case]]:
    """(train, test): patients are shuffled within each label (a patient's label is that of its
    most frequent image label) and whole patients go to test until it holds `test_fraction` of
    that label's images."""
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"test fraction {test_fraction} must be between 0 and 1")
    by_patient: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        by_patient[c.patient_id].append(c)
    by_label: dict[str, list[str]] = defaultdict(list)
    for pid in sorted(by_patient):
        labels = [c.label for c in by_patient[pid]]
        by_label[max(sorted(set(labels)), key=labels.count)].append(pid)
    rng = np.random.default_rng(seed)
    test_patients: set[str] = set()
    for label in sorted(by_label):
        pids = by_label[label]
        order = rng.permutation(len(pids))
        target = test_fraction * sum(len(by_patient[p]) for p in pids)
        taken = 0
        for i in order:
            if taken >= target:
                break
            test_patients.add(pids[i])
            taken += len(by_patient[pids[i]])
    train = [c for c in cases if c.patient_id not in test_patients]
    test = [c for c in cases if c.patient_id in test_patients]
    if not train or not test:
        raise InputError(f"{len(cases)} cases are too few to split into train and test by patient")
    return train, test
