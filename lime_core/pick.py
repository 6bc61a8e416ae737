"""SP-LIME: pick a few explanations that together show what the model relies on.

One explanation helps a person trust one prediction. To judge a *model* the person
reads several explanations, but only a budget ``B`` of them. The LIME paper's
submodular pick (Ribeiro et al. 2016, Algorithm 2) chooses them:

1. the explanation matrix ``W`` (n instances x d' features) holds ``|weight|`` of
   feature ``j`` in the explanation of instance ``i`` (0 if not selected);
2. the global importance of a feature is ``I_j = sqrt(sum_i W_ij)``;
3. the coverage of a set ``V`` of instances is the total importance of the features
   that at least one picked explanation uses,

       c(V, W, I) = sum_j 1[exists i in V: W_ij > 0] * I_j ;

4. pick ``B`` instances greedily: start from ``V = {}`` and add, ``B`` times, the
   instance with the largest gain ``c(V + {i}) - c(V)``.

``c`` is monotone and submodular (a feature already covered adds nothing the second
time), so the greedy set reaches at least ``(1 - 1/e)`` of the best possible coverage
(Nemhauser, Wolsey & Fisher 1978). See the course notebook
``course/07_did_lime_find_the_truth.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import _describe, check_array, check_int


@dataclass
class PickResult:
    """The instances chosen by :func:`submodular_pick`.

    Attributes
    ----------
    indices : (B,) int array
        Picked instances (rows of ``W``), in the order the greedy loop chose them.
    coverage : float
        ``c(V, W, I)`` of the picked set: the total importance of the covered features.
    coverage_curve : (B,) float array
        ``coverage_curve[b]`` is the coverage of the first ``b + 1`` picks. Greedy
        sets are nested, so this is the greedy coverage for every smaller budget too.
    importance : (d',) float array
        Global feature importance ``I_j = sqrt(sum_i W_ij)``.
    W : (n, d') float array
        The explanation matrix of absolute weights.
    covered : (d',) bool array
        Features with a non-zero weight in at least one picked explanation.
    feature_names : list or None
        Name of every column of ``W`` (None when a matrix was passed without names).
    budget : int
    """

    indices: np.ndarray
    coverage: float
    coverage_curve: np.ndarray
    importance: np.ndarray
    W: np.ndarray
    covered: np.ndarray
    feature_names: list | None
    budget: int

    @property
    def total_importance(self) -> float:
        """``sum_j I_j``: the coverage of picking every instance."""
        return float(self.importance.sum())

    @property
    def coverage_fraction(self) -> float:
        """``c(V) / sum_j I_j``, between 0 and 1 (1 when nothing has any weight)."""
        total = self.total_importance
        return 1.0 if total == 0 else self.coverage / total


@renamed_arguments({"label": "target"})
def explanation_matrix(
    explanations: Sequence[Any],
    target: int | None = None,
    feature_names: Sequence[Any] | None = None,
) -> tuple[np.ndarray, list]:
    """Stack explanations into ``W`` with ``W_ij = |weight of feature j for instance i|``.

    Features are matched by *name*, not by position: text explanations of different
    documents number their words differently, but the word ``"great"`` is one column.

    Parameters
    ----------
    explanations : sequence of :class:`~lime_core.explanation.Explanation`
    target : int, optional
        The output whose weights are used (was ``label``); default: each
        explanation's first explained label.
    feature_names : sequence, optional
        The vocabulary, one name per column. Default: every name that occurs in an
        explanation, in order of first appearance.

    Returns
    -------
    W : (n, d') float array
    feature_names : list
    """
    if isinstance(explanations, (str, bytes)) or not isinstance(explanations, Sequence):
        raise TypeError(
            "explanations must be a list of Explanation objects or an (n, d') array, "
            f"got {_describe(explanations)}"
        )
    if len(explanations) == 0:
        raise ValueError("explanations must contain at least one Explanation, got an empty list")
    rows = []
    for i, exp in enumerate(explanations):
        if not (hasattr(exp, "as_list") and hasattr(exp, "fits")):
            raise TypeError(
                f"explanations[{i}] must be an Explanation, got {_describe(exp)}"
            )
        if target is not None and target not in exp.fits:
            raise ValueError(
                f"target must be explained by every explanation; explanations[{i}] "
                f"explains {exp.labels}, got {target!r}"
            )
        rows.append(exp.as_list(target))
    if feature_names is None:
        names: list = []
        seen: set = set()
        for row in rows:
            for name, _ in row:
                if name not in seen:
                    seen.add(name)
                    names.append(name)
    else:
        names = list(feature_names)
        if len(set(names)) != len(names):
            raise ValueError("feature_names must not contain duplicates")
    column = {name: j for j, name in enumerate(names)}
    W = np.zeros((len(rows), len(names)))
    for i, row in enumerate(rows):
        for name, weight in row:
            if name not in column:
                raise ValueError(
                    f"feature_names must contain every feature of the explanations; "
                    f"explanations[{i}] uses {name!r}, which is not in it"
                )
            W[i, column[name]] += abs(weight)
    if not np.all(np.isfinite(W)):
        bad = int(np.argwhere(~np.isfinite(W))[0, 0])
        raise ValueError(
            f"explanations must have finite weights; explanations[{bad}] has a NaN or "
            "infinite weight"
        )
    return W, names


def global_importance(W: np.ndarray) -> np.ndarray:
    """``I_j = sqrt(sum_i |W_ij|)`` (the square root rewards features that matter in
    many explanations without letting one feature dominate).

    Computed as ``sqrt(m) sqrt(sum_i |W_ij| / m)`` with ``m = max |W|``: the same
    number, but the column sums of weights near ``1e308`` no longer overflow to ``inf``
    (``I_j`` itself is at most ``sqrt(n m)``, always finite).
    """
    A = np.abs(np.asarray(W, dtype=float))
    top = float(A.max()) if A.size else 0.0
    if top == 0.0:
        return np.zeros(A.shape[1] if A.ndim == 2 else 0)
    return np.sqrt(top) * np.sqrt((A / top).sum(axis=0))


def coverage(W: np.ndarray, importance: np.ndarray, indices: Sequence[int]) -> float:
    """``c(V, W, I) = sum_j 1[exists i in V: W_ij > 0] * I_j`` for the rows ``V = indices``."""
    indices = np.asarray(indices, dtype=int)
    if indices.size == 0:
        return 0.0
    covered = np.any(W[indices] > 0, axis=0)
    return float(importance[covered].sum())


@renamed_arguments({"label": "target"})
def submodular_pick(
    explanations_or_matrix: Any,
    budget: int,
    *,
    target: int | None = None,
    feature_names: Sequence[Any] | None = None,
) -> PickResult:
    """SP-LIME (LIME paper, Algorithm 2): greedily pick ``budget`` instances whose
    explanations cover the most globally important features.

    With ``W_ij = |weight|`` of feature ``j`` in explanation ``i``:

        I_j       = sqrt(sum_i W_ij)
        c(V)      = sum_j 1[exists i in V: W_ij > 0] * I_j
        V <- V + {argmax_i c(V + {i}) - c(V)}        (repeated ``budget`` times)

    Ties go to the lowest instance index, so the pick is deterministic. Because
    ``c`` is monotone submodular, ``c(V_greedy) >= (1 - 1/e) max_{|V| = B} c(V)``.

    Parameters
    ----------
    explanations_or_matrix : list of Explanation or (n, d') array-like
        Either explanations (features are matched by name, see
        :func:`explanation_matrix`) or a ready matrix of weights (absolute values
        are taken).
    budget : int
        Number of instances to pick, ``1 <= budget <= n``.
    target : int, optional
        For explanations: the output whose weights are used (was ``label``; default:
        each explanation's first explained label). Not allowed with a matrix.
    feature_names : sequence, optional
        Column names. For explanations: the vocabulary (default: the names that
        occur). For a matrix: one name per column.

    Returns
    -------
    PickResult

    See the course notebook ``course/07_did_lime_find_the_truth.ipynb``.
    """
    if isinstance(explanations_or_matrix, (list, tuple)) and explanations_or_matrix and all(
        hasattr(e, "as_list") for e in explanations_or_matrix
    ):
        W, names = explanation_matrix(explanations_or_matrix, target, feature_names)
    else:
        if target is not None:
            raise ValueError(
                "target is only used with a list of explanations, not with a matrix; "
                f"got target={target!r}"
            )
        if explanations_or_matrix is None:
            raise TypeError("explanations_or_matrix must be a list of Explanation objects or an "
                            "(n, d') array, got None")
        W = np.abs(check_array(explanations_or_matrix, "explanations_or_matrix", ndim=2, min_rows=1))
        if W.shape[1] == 0:
            raise ValueError(
                f"explanations_or_matrix must have at least one feature column, got shape {W.shape}"
            )
        names = None
        if feature_names is not None:
            names = list(feature_names)
            if len(names) != W.shape[1]:
                raise ValueError(
                    f"feature_names must have {W.shape[1]} entries (one per column), got {len(names)}"
                )
    n = W.shape[0]
    budget = check_int(budget, "budget", minimum=1, maximum=n)

    importance = global_importance(W)
    used = W > 0
    covered = np.zeros(W.shape[1], dtype=bool)
    picked: list[int] = []
    curve = np.zeros(budget)
    available = np.ones(n, dtype=bool)
    for b in range(budget):
        # gain of instance i = importance of the features it would newly cover
        gains = (used & ~covered) @ importance
        gains[~available] = -np.inf
        best = int(np.argmax(gains))  # first maximum: lowest index wins ties
        picked.append(best)
        available[best] = False
        covered |= used[best]
        curve[b] = importance[covered].sum()
    return PickResult(
        indices=np.asarray(picked, dtype=int),
        coverage=float(curve[-1]),
        coverage_curve=curve,
        importance=importance,
        W=W,
        covered=covered,
        feature_names=names,
        budget=budget,
    )
