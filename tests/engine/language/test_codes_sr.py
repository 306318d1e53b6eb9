"""The coded description goes into engine.dicom's SR and the SR still passes dciodvfy."""

import numpy as np
import pydicom
import pytest

from engine.dicom import open_study
from engine.dicom.writer import write_synthetic_study
from engine.language import LesionDescription, Margin, canonical_sentence
from engine.language.codes import description_to_coded_pairs, description_to_measurements, to_highdicom
from tests.dciodvfy import dciodvfy


def _codes_in(ds) -> set[tuple[str, str]]:
    found = set()
    for item in ds.get("ContentSequence", []):
        for key in ("ConceptNameCodeSequence", "ConceptCodeSequence"):
            if key in item:
                found.add((item[key][0].CodingSchemeDesignator, item[key][0].CodeValue))
        found |= _codes_in(item)
    return found


@pytest.mark.data
def test_every_kind_of_code_in_a_valid_sr(dicom_dir, tmp_path):
    # standard (SCT, DCM) and private (99BUSSTUDIO) values, every concept name
    desc = LesionDescription(shape="irregular", orientation="not parallel",
                             margin=Margin(False, {"spiculated", "angular"}), echo_pattern="heterogeneous",
                             posterior_features="combined pattern", calcifications="calcifications in a mass",
                             halo=True, birads="4c", pathology="malignant", size_mm=14, perpendicular_mm=9)  # fmt: skip
    pairs = description_to_coded_pairs(desc)
    study = open_study(dicom_dir / "us_implicit-le_palette16_regions_aloka.dcm")
    frame = study.frame(0).gray.copy()
    mask = np.zeros(frame.shape[:2], bool)
    mask[
        frame.shape[0] // 2 - 10 : frame.shape[0] // 2 + 10,
        frame.shape[1] // 2 - 15 : frame.shape[1] // 2 + 15,
    ] = True
    frame[mask] //= 3
    description = {
        "text": canonical_sentence(desc),
        "qualitative_evaluations": [(to_highdicom(c), to_highdicom(v)) for c, v in pairs],
        "measurements": [
            (to_highdicom(c), v, to_highdicom(u)) for c, v, u in description_to_measurements(desc)
        ],
    }
    derivation = {"model": "test", "seed": 0, "steps": 1, "guidance": 1.0, "method": "diffusion"}
    paths = write_synthetic_study(study, [frame], mask, description, derivation, tmp_path, laterality="L",
                                  uid_root="1.2.826.0.1.3680043.8.498.77.")  # fmt: skip
    errors, warnings = dciodvfy(paths.report)
    # dciodvfy knows only the PS3.16 scheme designators: it warns once per private code (not
    # circumscribed, heterogeneous, 4c) and once for the private scheme's identification item
    private = "Warning - Unrecognized defined term <99BUSSTUDIO> for value 1 of attribute <Coding Scheme Designator>"
    assert errors == [] and warnings == [private] * 4, (errors, warnings)
    report = pydicom.dcmread(paths.report)
    assert [i.CodingSchemeDesignator for i in report.CodingSchemeIdentificationSequence] == ["99BUSSTUDIO"]
    written = _codes_in(pydicom.dcmread(paths.report))
    expected = {(c.scheme, c.value) for pair in pairs for c in pair}
    assert expected <= written, expected - written
    assert ("99BUSSTUDIO", "BIRADS-4C") in written and ("DCM", "111370") in written
