"""DICOM in and out: read every ultrasound file lazily, map pixels to mm, write synthetic studies.

Public API (other rooms call these):
  open_study(path, calibration=None) -> UltrasoundStudy   .info .calibration .n_frames .frame_time_ms
                                                           .frame(i) -> Frame(.gray, .color, .calibration)
  Calibration, Region, Scale                              px <-> mm, which region holds a point
  StudyInfo                                               patient, study, series, equipment, laterality
  inspect_path(path, decode=None) -> list[dict]           what `bus-engine inspect` prints
  write_synthetic_study(...) -> SyntheticStudyPaths       US image + SEG + SR (engine.dicom.writer)
  deidentify(ds, uid_map, pixels_cleaned=False)           PS3.15 Basic Profile, all of Table E.1-1
  UIDMap(uid_root, secret=None), profile_action(tag)      (engine.dicom.deid)
"""

from __future__ import annotations

from engine.dicom.reader import Frame, UltrasoundStudy, check_image, open_study, read_dataset
from engine.dicom.regions import Calibration, Region, Scale
from engine.dicom.study_info import StudyInfo

__all__ = [
    "Calibration",
    "Frame",
    "Region",
    "Scale",
    "StudyInfo",
    "UltrasoundStudy",
    "check_image",
    "open_study",
    "read_dataset",
]
