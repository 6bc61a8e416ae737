"""Deprecation warnings blame the user's line, however deep in lime_core they are raised."""

import warnings

import numpy as np
import pytest

from lime_core import explain_image
from lime_core.segmentation import grid_segments


def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, DeprecationWarning)]


@pytest.mark.parametrize("kwargs", [{"hide_color": "mean"}, {"baseline": "mean"}])
def test_renamed_image_baseline_warns_at_the_callers_line(kwargs):
    image = np.random.default_rng(0).random((8, 8, 3))
    caught = _warnings_of(lambda: explain_image(
        image, lambda b: np.c_[b.mean(axis=(1, 2, 3))], segments=grid_segments((8, 8), 2, 2),
        num_samples=20, random_state=0, **kwargs))
    assert caught, "the old name must still warn"
    for w in caught:  # raised two or three calls deep inside lime_core, reported here
        assert w.filename == __file__, (w.filename, str(w.message))
    assert any("superpixel_mean" in str(w.message) for w in caught)
