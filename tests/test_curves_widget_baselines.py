"""DeletionInsertionCurves takes the metrics' baselines, so course/11's widget shows its table."""

from __future__ import annotations

import numpy as np
import pytest

from lime_core.metrics import deletion_curve, insertion_curve


def _planted():
    rng = np.random.default_rng(3)
    image = 0.3 + 0.2 * rng.random((16, 16, 3))
    image[:8, :8] = (0.9, 0.1, 0.1)  # a red quarter, which the model measures

    def f(batch):
        s = np.asarray(batch)[:, :8, :8, 0].mean(axis=(1, 2))
        return np.c_[s, 1 - s]

    maps = {"truth": np.pad(np.ones((8, 8)), ((0, 8), (0, 8))), "random": rng.random((16, 16))}
    return image, f, maps


def test_widget_curves_are_the_metrics_curves_for_every_baseline_pair():
    from widgets.curves import DeletionInsertionCurves

    image, f, maps = _planted()
    w = DeletionInsertionCurves(image, f, maps, target=0, steps=4, patch_size=8,
                                deletion_baseline="channel_mean", insertion_baseline="zero",
                                debounce=0)
    for name, a in maps.items():
        ref_del = deletion_curve(f, image, a, target=0, steps=4, unit="patch", patch_size=8,
                                 baseline="channel_mean")
        ref_ins = insertion_curve(f, image, a, target=0, steps=4, unit="patch", patch_size=8,
                                  baseline="zero")
        np.testing.assert_allclose(w.deletion[name].scores, ref_del.scores)
        np.testing.assert_allclose(w.insertion[name].scores, ref_ins.scores)
    # the frames show what the model saw: the removed quarter is the image's mean colour,
    # the insertion start is black where nothing is inserted yet
    deleted, inserted = w.step_images(1, "truth")
    np.testing.assert_allclose(deleted[:8, :8], np.broadcast_to(image.mean(axis=(0, 1)), (8, 8, 3)))
    np.testing.assert_array_equal(deleted[8:], image[8:])
    np.testing.assert_array_equal(inserted[:8, :8], image[:8, :8])
    assert np.all(inserted[8:] == 0)


def test_defaults_unchanged_and_bad_names_refused():
    from widgets.curves import DeletionInsertionCurves

    image, f, maps = _planted()
    w = DeletionInsertionCurves(image, f, maps, target=0, steps=4, patch_size=8, debounce=0)
    assert (w.deletion_baseline, w.insertion_baseline) == ("zero", "blur")
    deleted, _ = w.step_images(1, "truth")
    assert np.all(deleted[:8, :8] == 0)
    with pytest.raises(ValueError, match="deletion_baseline"):
        DeletionInsertionCurves(image, f, maps, target=0, deletion_baseline="mean")
