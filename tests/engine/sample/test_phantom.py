import hashlib

import numpy as np
import pydicom

from engine.sample.phantom import PhantomGeometry, simulate_frame
from engine.sample.study import build_sample_dataset, write_sample_study
from engine.settings import sample_study_path
from tests.dciodvfy import dciodvfy


def test_same_seed_same_frame_and_other_seed_differs():
    a, b, c = simulate_frame(1), simulate_frame(1), simulate_frame(2)
    assert a.dtype == np.uint8 and a.shape == (480, 640)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_layers_read_like_breast_tissue():
    g = PhantomGeometry()
    frame = simulate_frame(7, g).astype(float)
    region = frame[g.region_y0 : g.region_y1 + 1, g.region_x0 + 40 : g.region_x1 - 40]
    mm = g.mm_per_pixel
    skin = region[int(0.5 / mm) : int(2.0 / mm)].mean()
    fat = region[int(4 / mm) : int(6 / mm)].mean()
    gland = region[int(16 / mm) : int(22 / mm)].mean()
    assert skin > fat and gland > fat, (skin, fat, gland)
    # Speckle: a fully developed speckle region has a spread, never a flat fill.
    assert region[int(16 / mm) : int(22 / mm)].std() > 15


def test_annotations_only_outside_the_calibrated_region():
    g = PhantomGeometry()
    frame = simulate_frame(3, g)
    outside = frame.copy()
    outside[g.region_y0 : g.region_y1 + 1, g.region_x0 : g.region_x1 + 1] = 0
    assert outside.max() > 150  # burned-in text exists, outside the region


def test_bundled_sample_is_the_regenerated_phantom(tmp_path):
    bundled = sample_study_path()
    fresh = write_sample_study(tmp_path / "s.dcm")
    assert (
        hashlib.sha256(bundled.read_bytes()).hexdigest() == hashlib.sha256(fresh.read_bytes()).hexdigest()
    ), "resources/sample is stale: run python -m engine.sample.study"


def test_sample_study_is_calibrated_synthetic_us_image():
    ds = pydicom.dcmread(sample_study_path())
    assert ds.SOPClassUID == pydicom.uid.UltrasoundImageStorage
    assert ds.SyntheticData == "YES"
    (region,) = ds.SequenceOfUltrasoundRegions
    assert region.RegionSpatialFormat == 1 and region.PhysicalUnitsXDirection == 3
    assert abs(region.PhysicalDeltaX * 10 - 0.1) < 1e-9  # 0.1 mm per pixel
    assert ds.pixel_array.shape == (ds.Rows, ds.Columns)


def test_sample_study_passes_dciodvfy(tmp_path):
    path = tmp_path / "s.dcm"
    pydicom.dcmwrite(path, build_sample_dataset(), enforce_file_format=True)
    errors, warnings = dciodvfy(path)
    assert errors == [], errors
    assert warnings == [], warnings
