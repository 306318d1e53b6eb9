"""Qt-free models behind the panels: description sync, compare, generation, session, folder index."""

from __future__ import annotations

import numpy as np
import pytest

from busstudio.models import compare
from busstudio.models.annotations import Lesion
from busstudio.models.description_sync import DescriptionModel
from busstudio.models.generation import GenerationSettings, generate_variants
from busstudio.models.session import Session, load_session, save_session
from engine.errors import InputError
from engine.language.description import LesionDescription, Margin
from engine.language.lexicon import MarginSubtype, Shape


def test_text_fills_the_form_and_lists_unplaced_words():
    model = DescriptionModel()
    sources = []
    model.events.changed.connect(lambda source: sources.append(source))
    model.set_from_text("oval circumscribed anechoic mass 8 mm with wobbly edges")
    d = model.description
    assert d.shape is Shape.OVAL and d.margin == Margin(True) and d.size_mm == 8
    assert "wobbly" in model.reading.unplaced and sources == ["text"]


def test_form_rewrites_the_text_as_the_canonical_sentence():
    model = DescriptionModel()
    model.set_from_form(
        LesionDescription(shape="irregular", margin=Margin(False, {MarginSubtype.SPICULATED}))
    )
    assert "irregular" in model.text and "spiculated" in model.text
    model.set_from_text(model.text)  # the sentence reads back to the same description
    assert model.description.shape is Shape.IRREGULAR
    assert MarginSubtype.SPICULATED in model.description.margin.subtypes


def test_compare_modes():
    a = np.full((4, 5), 100, np.uint8)
    b = a.copy()
    b[1, 2] = 140
    assert compare.compose("original", a, b) is None
    assert compare.compose("result", a, b) is b
    assert compare.compose("flicker", a, b, flicker_on=False) is None
    assert compare.compose("flicker", a, b, flicker_on=True) is b
    sbs = compare.compose("side by side", a, b)
    assert sbs.shape == (4, 14) and (sbs[:, :5] == a).all() and (sbs[:, 9:] == b).all()
    diff = compare.compose("difference", a, b)
    assert diff[1, 2] == 255 and diff.sum() == 255
    assert compare.compose("difference", a, a).max() == 0


@pytest.fixture
def frame_and_mask():
    from engine.contour.spline import Contour

    rng = np.random.default_rng(0)
    frame = np.clip(rng.rayleigh(40, (160, 200)), 0, 255).astype(np.uint8)
    contour = Contour(np.array([[80, 60], [120, 62], [125, 100], [82, 105]], float))
    return frame, contour.raster(frame.shape), contour


def test_physics_generation_is_seeded_and_local(frame_and_mask):
    frame, mask, _ = frame_and_mask
    desc = LesionDescription(shape="irregular", echo_pattern="hypoechoic")
    settings = GenerationSettings(method="physics", variants=2, seed=5)
    progress = []
    first = generate_variants(frame, mask, desc, settings, lambda f, m="": progress.append(f))
    again = generate_variants(frame, mask, desc, settings)
    assert [v.seed for v in first] == [5, 6] and progress[-1] == 1.0
    assert np.array_equal(first[0].pixels, again[0].pixels)  # same seed, same pixels
    assert not np.array_equal(first[0].pixels, first[1].pixels)
    changed = first[0].pixels != frame
    assert changed[mask].mean() > 0.5  # the lesion is drawn in
    assert not changed[:20].any()  # far from the lesion nothing changes
    assert first[0].pixels[mask].mean() < frame[mask].mean()  # hypoechoic: darker
    assert first[0].record["method"] == "physics" and first[0].record["seed"] == 5


def test_generation_stops_when_cancelled_and_rejects_bad_input(frame_and_mask):
    frame, mask, _ = frame_and_mask
    calls = []
    out = generate_variants(
        frame,
        mask,
        None,
        GenerationSettings(variants=5),
        lambda f, m="": calls.append(f),
        lambda: len(calls) >= 2,
    )
    assert len(out) == 2
    with pytest.raises(InputError, match="mask"):
        generate_variants(frame, np.zeros_like(mask), None, GenerationSettings())
    with pytest.raises(InputError, match="variants"):
        GenerationSettings(variants=0).validated()


def test_session_round_trip(tmp_path, frame_and_mask, sample_path):
    from engine.contour.spline import Contour

    frame, mask, contour = frame_and_mask
    variants = generate_variants(frame, mask, None, GenerationSettings(variants=1, seed=3))
    desc = LesionDescription(shape="oval", size_mm=9.5)
    lesion = Lesion(7, 0, contour, desc, "oval mass, 9.5 mm", variants, chosen_result=0)
    path = save_session(Session(sample_path, 0, [lesion], (200.0, 100.0)), tmp_path / "s" / "session.json")
    back = load_session(path, Contour, LesionDescription)
    assert back.image_path == sample_path.resolve() and back.window_level == (200.0, 100.0)
    got = back.lesions[0]
    assert (got.id, got.frame, got.text, got.chosen_result) == (7, 0, "oval mass, 9.5 mm", 0)
    assert got.description == desc and np.allclose(got.contour.points, contour.points)
    assert np.array_equal(got.results[0].pixels, variants[0].pixels) and got.results[0].seed == 3
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(InputError, match="not a BUS Studio session"):
        load_session(tmp_path / "bad.json", Contour, LesionDescription)


def test_folder_index_groups_by_patient_study_series(dicom_dir):
    from busstudio.models.study_index import THUMBNAIL_PX, index_folder

    index = index_folder(dicom_dir)
    readable = [f for f in index.files if not f.error]
    assert len(readable) == 20
    assert all(max(f.thumbnail.shape) == THUMBNAIL_PX for f in readable)
    tree = index.grouped()
    grouped = [
        f
        for studies in tree.values()
        for series in studies.values()
        for files in series.values()
        for f in files
    ]
    assert len(grouped) == len(index.files) and len(tree) > 1
    cine = next(f for f in readable if f.path.name == "us_jpeg-baseline_ybr422_cine_regions_sonosite.dcm")
    assert cine.n_frames == 30


def test_diffusion_without_a_model_is_a_clear_model_error(frame_and_mask, tmp_path):
    from engine.errors import ModelError

    frame, mask, _ = frame_and_mask
    settings = GenerationSettings(method="diffusion", variants=1, model_dir=str(tmp_path))
    with pytest.raises(ModelError, match=str(tmp_path)):
        generate_variants(frame, mask, None, settings)
