import json

import numpy as np
import pytest

from engine.annotation.cine_sim import Motion, make_loop, mean_boundary_distance
from engine.annotation.propagate import MANUAL, Track, flow_step, propagate
from engine.contour.fit import fit_contour
from engine.errors import InputError

from .synthetic import lesion_frame


@pytest.fixture(scope="module")
def loop():
    gray, mask = lesion_frame(shape=(160, 200))
    return make_loop(gray, mask, 12, Motion(shift_px=5, wobble_px=1.5, period=12), seed=1)


def test_loop_truth_moves_with_the_frames(loop):
    frames, masks = loop
    ys0, xs0 = np.nonzero(masks[0])
    ys3, xs3 = np.nonzero(masks[3])  # quarter period: the probe has moved by shift_px
    assert xs3.mean() - xs0.mean() == pytest.approx(5, abs=1.5)
    assert mean_boundary_distance(masks[0], masks[0]) == 0.0


def test_propagated_contours_follow_the_lesion_better_than_a_copied_one(loop):
    frames, masks = loop
    track = Track(len(frames))
    track.set_manual(0, fit_contour(masks[0]).contour)
    written = propagate(track, lambda i: frames[i], 0, 1)
    assert written == list(range(1, len(frames)))
    flow = [
        mean_boundary_distance(track.entries[k].contour.raster(masks[k].shape), masks[k]) for k in written
    ]
    static = [mean_boundary_distance(masks[0], masks[k]) for k in written]
    assert np.mean(flow) < 1.5 and np.mean(flow) < 0.5 * np.mean(static)
    assert track.entries[5].method == "dis-flow"


def test_propagation_stops_before_a_corrected_frame_and_resumes_from_it(loop):
    frames, masks = loop
    track = Track(len(frames))
    track.set_manual(0, fit_contour(masks[0]).contour)
    corrected = fit_contour(masks[6]).contour
    track.set_manual(6, corrected)
    assert propagate(track, lambda i: frames[i], 0, 1) == [1, 2, 3, 4, 5]
    assert track.entries[6].method == MANUAL
    np.testing.assert_array_equal(track.entries[6].contour.points, corrected.points)
    assert propagate(track, lambda i: frames[i], 6, 1, steps=3) == [7, 8, 9]
    # backwards the correction overwrites the frames propagated from 0 and stops before frame 0
    assert propagate(track, lambda i: frames[i], 6, -1) == [5, 4, 3, 2, 1]
    again = Track.from_dict(json.loads(json.dumps(track.to_dict())))
    assert sorted(again.entries) == list(range(10))
    assert again.entries[8].method == "dis-flow"


def test_bad_requests_are_input_errors(loop):
    frames, masks = loop
    track = Track(len(frames))
    with pytest.raises(InputError, match="no contour"):
        propagate(track, lambda i: frames[i], 0, 1)
    with pytest.raises(InputError, match="outside"):
        track.set_manual(99, fit_contour(masks[0]).contour)
    with pytest.raises(InputError, match="same size"):
        flow_step(frames[0], frames[1][:, :50], fit_contour(masks[0]).contour)
