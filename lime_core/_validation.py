"""Small input checks shared by every module of :mod:`lime_core`.

Every public function validates its arguments with these helpers, so a student
who passes the wrong thing gets a ``ValueError`` or ``TypeError`` that names the
argument, says what was expected and shows what came, instead of a silent wrong
answer deep inside numpy.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

RandomState = int | np.random.Generator | None


def _describe(value: Any) -> str:
    """A short description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def check_random_state(random_state: RandomState) -> tuple[np.random.Generator, RandomState]:
    """Turn ``random_state`` into a private ``numpy.random.Generator``.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        An int seeds a new generator (same seed, same numbers, bit for bit).
        A ``Generator`` is used as it is (and advanced). ``None`` draws a fresh
        seed from the operating system; that seed is returned so the result
        can still be reproduced. The global numpy RNG is never touched.

    Returns
    -------
    rng : numpy.random.Generator
    recorded : int or numpy.random.Generator
        What a result should store as its ``random_state``: the int seed, or
        the generator that was passed in.
    """
    if random_state is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
        return np.random.default_rng(seed), seed
    if isinstance(random_state, np.random.Generator):
        return random_state, random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        seed = int(random_state)
        return np.random.default_rng(seed), seed
    raise TypeError(
        "random_state must be an int, a numpy.random.Generator or None, "
        f"got {_describe(random_state)}"
    )


def check_callable(fn: Any, name: str) -> Callable:
    """Raise ``TypeError`` unless ``fn`` is callable."""
    if not callable(fn):
        raise TypeError(f"{name} must be callable (a function or a model), got {_describe(fn)}")
    return fn


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, checking its type and bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float that is > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {_describe(value)}")
    return value


def check_array(
    x: Any,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    dtype: Any = float,
    finite: bool = True,
    min_rows: int | None = None,
) -> np.ndarray:
    """Convert ``x`` to a numpy array and check its rank and values.

    Parameters
    ----------
    x : array-like
    name : str
        The argument's name, used in error messages.
    ndim : int or sequence of int, optional
        Allowed number of dimensions.
    dtype : numpy dtype, optional
        Target dtype (``None`` keeps the input's).
    finite : bool
        Reject NaN and infinity.
    min_rows : int, optional
        Minimum length of the first axis.
    """
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like of numbers, got {_describe(x)}") from err
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got an array of shape {arr.shape}")
    if finite and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if min_rows is not None and (arr.ndim == 0 or arr.shape[0] < min_rows):
        raise ValueError(f"{name} must have at least {min_rows} rows, got shape {arr.shape}")
    return arr


def check_model_output(out: Any, n_rows: int, name: str = "classifier_fn") -> np.ndarray:
    """Check what a model returned for a batch of ``n_rows`` inputs.

    A model may return ``(n,)`` scores or ``(n, k)`` probabilities/scores;
    both come back as a float ``(n, k)`` array (``k = 1`` for scores).
    Torch tensors are accepted too.
    """
    if hasattr(out, "detach"):  # a torch tensor, without importing torch
        out = out.detach().cpu().numpy()
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must return an array of numbers, got {_describe(out)}"
        ) from err
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n_rows:
        raise ValueError(
            f"{name} must return shape ({n_rows},) or ({n_rows}, n_classes) for a batch of "
            f"{n_rows} inputs, got shape {arr.shape}"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must return at least one output per row, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} returned NaN or infinite values")
    return arr


def select_target(out: np.ndarray, target: Any, name: str = "model") -> np.ndarray:
    """The ``target`` column of checked model outputs ``out`` (n, k), as ``(n,)``.

    The one home of "which output is explained": a model with one output needs no
    ``target`` (or 0); a model with several needs ``target`` in ``0 .. k-1``.
    """
    if target is not None:
        target = check_int(target, "target", minimum=0)
    if out.shape[1] == 1:
        if target not in (None, 0):
            raise ValueError(f"target must be None or 0 for a model with one output, got {target}")
        return out[:, 0]
    if target is None:
        raise ValueError(
            f"target must be given: {name} returns {out.shape[1]} outputs per row; "
            "pass the index of the one to explain"
        )
    if target >= out.shape[1]:
        raise ValueError(f"target must be in [0, {out.shape[1] - 1}], got {target}")
    return out[:, target]


def same_values(actual: Any, expected: Any, *, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """True when ``actual`` has the shape of ``expected``, is finite and equals it within tolerance.

    ``np.allclose`` broadcasts: an empty array of shape (0, 1) "equals" any reference, and
    a NaN in a tolerance check compares False only where it is looked at. Homework tests
    compare a student's answer with a reference through this check instead::

        |actual - expected| <= atol + rtol * |expected|   elementwise, same shape, all finite

    Anything that is not numbers (a string, a ragged list, an object) is simply not equal.
    """
    if (type(actual).__module__ or "").startswith("torch"):
        actual = actual.detach().cpu().numpy()
    try:
        a = np.asarray(actual, dtype=float)
        b = np.asarray(expected, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return False
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))
