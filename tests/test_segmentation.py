"""Superpixels: consecutive labels, lime's quickshift defaults, the grid."""

import numpy as np
import pytest
from skimage import data
from skimage.segmentation import quickshift

from lime_core.segmentation import grid_segments, relabel, segment


@pytest.fixture(scope="module")
def small_photo():
    return data.astronaut()[::8, ::8][:48, :48]


def test_quickshift_is_limes_default_relabelled(small_photo):
    ours = segment(small_photo)
    ref = quickshift(small_photo, kernel_size=4, max_dist=200, ratio=0.2)
    # the same partition: a one-to-one map between label sets
    pairs = np.unique(np.stack([ours.ravel(), ref.ravel()]), axis=1)
    assert pairs.shape[1] == len(np.unique(ref)) == ours.max() + 1


@pytest.mark.parametrize("method", ["quickshift", "slic", "felzenszwalb", "grid"])
def test_labels_are_consecutive_from_zero(small_photo, method):
    seg = segment(small_photo, method)
    assert seg.shape == small_photo.shape[:2]
    np.testing.assert_array_equal(np.unique(seg), np.arange(seg.max() + 1))


def test_grayscale_images_are_accepted(small_photo):
    gray = small_photo.mean(axis=2)
    assert segment(gray, "slic", n_segments=10).shape == gray.shape
    assert segment(gray, "quickshift").shape == gray.shape


def test_grid_blocks():
    seg = grid_segments((6, 8), n_rows=2, n_cols=4)
    expected = np.repeat(np.repeat(np.arange(8).reshape(2, 4), 3, axis=0), 2, axis=1)
    np.testing.assert_array_equal(seg, expected)
    assert segment(np.zeros((6, 8)), "grid", n_rows=3, n_cols=2).max() == 5


def test_relabel():
    np.testing.assert_array_equal(relabel(np.array([[5, 5], [9, -1]])), [[1, 1], [2, 0]])


def test_bad_input(small_photo):
    with pytest.raises(ValueError, match="method"):
        segment(small_photo, "watershed")
    with pytest.raises(ValueError, match="image must be 2-D or 3-D"):
        segment(np.zeros(5))
    with pytest.raises(ValueError, match="n_rows"):
        segment(np.zeros((4, 4)), "grid", n_rows=9)
