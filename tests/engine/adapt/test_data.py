import numpy as np
import pytest
import torch

from engine.adapt.data import AdaptData, read_local_images
from engine.errors import DataError
from tests.engine.generator.tiny import HashTextEncoder


def test_lesion_and_context_windows(site_data):
    data = site_data
    images = read_local_images(data)
    assert [len(im.masks) for im in images] == [1, 1, 1, 0]
    assert images[0].sample_ids == ["folder/im0/im0"] and images[0].mm_per_pixel == 0.1
    examples = AdaptData(images, 64, HashTextEncoder(), 4, context_fraction=0.5)
    b = examples.batch(step=3, batch=16, seed=0)
    n = b["lesion_rows"]
    assert 0 < n < 16 and b["x"].shape == (16, 1, 64, 64) and b["tokens"].shape == (n, 4, 384)
    lesion, context = b["conditions"][:n], b["conditions"][n:]
    assert (lesion[:, 0].flatten(1).amax(1) > 0.5).all()  # lesion rows ask for a lesion
    assert context[:, :2].abs().max() == 0  # context rows: no mask, no band ...
    assert (context[:, 2].flatten(1).amax(1) == 1).all()  # ... but a region to regenerate
    assert torch.all(b["weight"][n:] == 1)  # and the loss on the whole window
    assert float(b["weight"][:n].min()) == pytest.approx(0.2)
    again = examples.batch(step=3, batch=16, seed=0)
    assert torch.equal(again["x"], b["x"])
    assert not torch.equal(examples.batch(step=4, batch=16, seed=0)["x"], b["x"])


def test_keep_selects_cases(site_data):
    data = site_data
    images = read_local_images(data, keep={"folder/im1", "folder/im3"})
    assert [im.sample_ids for im in images] == [["folder/im1/im1"], []]
    with pytest.raises(DataError, match="no usable image"):
        read_local_images(data, keep={"folder/nothing"})


def test_dicom_study_windows_stay_in_the_calibrated_tissue_sized_in_mm():
    from engine.dicom import open_study
    from engine.settings import sample_study_path

    images = read_local_images(sample_study_path())
    study = open_study(sample_study_path())
    region = max(study.calibration.calibrated_regions, key=lambda r: r.area)
    assert len(images) == 1 and images[0].masks == []
    assert images[0].tissue == (region.x0, region.y0, region.x1 + 1, region.y1 + 1)
    assert images[0].mm_per_pixel == pytest.approx(float(np.mean(region.mm_per_pixel)))
    # Paint the tissue black and everything else white: every window must be black only.
    im = images[0]
    x0, y0, x1, y1 = im.tissue
    im.gray = np.full_like(im.gray, 255)
    im.gray[y0:y1, x0:x1] = 0
    b = AdaptData([im], 32).batch(step=0, batch=12, seed=1)
    assert b["lesion_rows"] == 0
    assert float(b["x"].max()) == -1.0


def test_real_dicom_folder_reads_frames_of_every_readable_study(dicom_dir):
    images = read_local_images(dicom_dir, frames_per_study=1)
    files = {im.source.split("#")[0] for im in images}
    assert len(files) >= 15
    assert all(im.gray.dtype == np.uint8 and im.gray.ndim == 2 and not im.masks for im in images)
    assert sum(im.tissue is not None for im in images) >= 5  # studies with calibrated regions


def test_a_folder_with_nothing_readable_is_named(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="no DICOM study or image"):
        read_local_images(tmp_path)


def test_context_windows_on_lesion_images_keep_clear_of_the_lesions(site_data):
    images = read_local_images(site_data)[:3]  # all with a lesion
    for im in images:
        im.gray = np.where(im.masks[0], 255, 0).astype(np.uint8)  # the lesion white, the rest black
    examples = AdaptData(images, 32, HashTextEncoder(), 4, context_fraction=1.0)
    b = examples.batch(step=0, batch=4, seed=2)
    n = b["lesion_rows"]
    assert float(b["x"][n:].max()) == -1.0  # no lesion pixel in any context window
