"""Random binary masks over the interpretable features.

A mask ``z in {0, 1}^d`` says which features (superpixels, words) are kept.
Row 0 is always all ones: the instance itself. See the course notebook
``course/03_lime_algorithm.ipynb``.
"""

from __future__ import annotations

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import RandomState, check_choice, check_int, check_random_state

SCHEMES = ("bernoulli", "uniform_count")
#: Enumerating all 2^d masks is refused above this many features.
MAX_ENUMERATED_FEATURES = 20
#: Random numbers drawn per chunk of rows: the temporaries of :func:`sample_masks` stay
#: near 16 bytes x this many (17 MB), whatever ``num_samples x d`` is; only the bool
#: result grows with it.
CHUNK_ENTRIES = 2**20
MAX_MASK_ENTRIES = 2**33  # 8 GB of bool masks: beyond that, a named error


def all_masks(d: int, maximum: int = MAX_ENUMERATED_FEATURES) -> np.ndarray:
    """All ``2^d`` masks (coalitions) over ``d`` features, as a ``(2^d, d)`` bool array.

    Row ``k`` keeps the features whose bit is set in ``k`` (feature ``i`` is bit ``i``):
    row 0 is the empty mask, the last row keeps everything. The one home of "every
    coalition", used by exact Shapley values and the exact LIME limits.

    Parameters
    ----------
    d : int
        Number of features, ``1 <= d <= maximum``.
    maximum : int
        Largest ``d`` accepted (2^20 rows is already a million).

    Returns
    -------
    numpy.ndarray of bool, shape ``(2^d, d)``

    Examples
    --------
    >>> all_masks(2).astype(int).tolist()
    [[0, 0], [1, 0], [0, 1], [1, 1]]
    """
    d = check_int(d, "d", minimum=1, maximum=maximum)
    codes = np.arange(2**d, dtype=np.int64)
    return ((codes[:, None] >> np.arange(d)) & 1).astype(bool)


@renamed_arguments(old_positional=("d", "num_samples", "random_state", "scheme"))
def sample_masks(
    d: int, num_samples: int, *, random_state: RandomState = None, scheme: str = "bernoulli"
) -> np.ndarray:
    """Draw ``num_samples`` masks over ``d`` features.

    Schemes
    -------
    ``"bernoulli"`` (image LIME)
        every feature is kept independently with probability 1/2:
        ``z_j ~ Bernoulli(1/2)``.
    ``"uniform_count"`` (text LIME)
        the number of removed features ``s ~ Uniform{1, ..., d}``, then a subset
        of size ``s`` chosen uniformly at random is switched off.

    See the course notebook ``course/03_lime_algorithm.ipynb``.

    Parameters
    ----------
    d : int >= 1
    num_samples : int >= 1
    random_state : int, numpy.random.Generator or None
    scheme : {"bernoulli", "uniform_count"}

    Returns
    -------
    numpy.ndarray of bool, shape ``(num_samples, d)``
        Row 0 is all True (the instance itself).

    Examples
    --------
    >>> Z = sample_masks(4, 3, random_state=0)
    >>> Z.shape, bool(Z[0].all())
    ((3, 4), True)
    """
    # the (num_samples, d) bool masks must fit in memory: at most MAX_MASK_ENTRIES cells
    d = check_int(d, "d", minimum=1, maximum=MAX_MASK_ENTRIES)
    num_samples = check_int(num_samples, "num_samples", minimum=1,
                            maximum=MAX_MASK_ENTRIES // d)
    check_choice(scheme, "scheme", SCHEMES)
    rng, _ = check_random_state(random_state)
    masks = np.empty((num_samples, d), dtype=bool)
    # row chunks: the generator streams the same numbers as one big draw, so the masks
    # are the same bit for bit, while the int64/float64 temporaries stay small
    step = max(1, CHUNK_ENTRIES // d)
    if scheme == "bernoulli":
        for start in range(0, num_samples, step):
            rows = min(step, num_samples - start)
            masks[start : start + rows] = rng.integers(0, 2, size=(rows, d))
    else:
        n_removed = rng.integers(1, d + 1, size=num_samples)
        for start in range(0, num_samples, step):
            rows = min(step, num_samples - start)
            # uniform random keys rank the features of every row; the n_removed features
            # with the smallest keys are the removed subset: keep a feature when its key
            # is above the n_removed-th smallest (one sort; the same subsets as ranking
            # with a double argsort, as keys are distinct)
            keys = rng.random((rows, d))
            kth = np.sort(keys, axis=1)[np.arange(rows), n_removed[start : start + rows] - 1]
            masks[start : start + rows] = keys > kth[:, None]
    masks[0] = True
    return masks
