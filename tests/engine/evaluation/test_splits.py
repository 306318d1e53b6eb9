from pathlib import Path

import pytest

from engine.datasets.base import Case
from engine.errors import InputError
from engine.evaluation.splits import group_split


def _cases(n_patients=40, per_patient=3):
    out = []
    for p in range(n_patients):
        label = "malignant" if p % 3 == 0 else "benign"
        for k in range(per_patient):
            out.append(Case("toy", f"p{p}_{k}", f"p{p}", Path(f"p{p}_{k}.png"), (Path("m.png"),), label))
    return out


def test_patients_stay_on_one_side_and_labels_are_in_both():
    cases = _cases()
    train, test = group_split(cases, 0.25, seed=3)
    assert {c.patient_id for c in train}.isdisjoint({c.patient_id for c in test})
    assert len(train) + len(test) == len(cases)
    assert {c.label for c in test} == {"benign", "malignant"}
    assert 0.2 <= len(test) / len(cases) <= 0.35


def test_same_seed_same_split_other_seed_other_split():
    cases = _cases()
    ids = lambda split: sorted(c.case_id for c in split[1])  # noqa: E731
    assert ids(group_split(cases, 0.2, 5)) == ids(group_split(cases, 0.2, 5))
    assert ids(group_split(cases, 0.2, 5)) != ids(group_split(cases, 0.2, 6))


def test_too_few_cases_or_bad_fraction_is_an_input_error():
    with pytest.raises(InputError):
        group_split(_cases(1, 2), 0.2)
    with pytest.raises(InputError):
        group_split(_cases(), 1.5)
