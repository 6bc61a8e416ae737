"""Old argument names keep working for one release, with a ``DeprecationWarning``.

The vocabulary of DESIGN.md renamed some arguments (``f`` -> ``model``, ``label`` ->
``target``, ``background`` -> ``baseline``, ...) and made ``random_state`` keyword-only.
:func:`renamed_arguments` wraps a function so that calls written for the old
signature still run and say, in the warning, which name to use instead.
"""

from __future__ import annotations

import functools
import inspect
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside lime_core.

    A deprecated name can reach the code that warns through several lime_core
    functions (``explain_image`` -> ``image_samples`` -> ``replacement_image``); a
    fixed ``stacklevel`` would then blame a line inside the library. Counted from the
    function that calls ``warnings.warn`` (level 1).
    """
    frame = inspect.currentframe()
    level = 0
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            _PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return max(level, 1)


def warn_renamed(where: str, old: str, new: str, stacklevel: int | None = None) -> None:
    """Emit the one deprecation message used for every rename, pointed at the user's
    line (the first caller outside lime_core) unless ``stacklevel`` is given."""
    warnings.warn(
        f"{where}: {old} is deprecated and will be removed in the next release; use {new}",
        DeprecationWarning,
        stacklevel=user_stacklevel() if stacklevel is None else stacklevel,
    )


def renamed_arguments(
    renames: dict[str, str] | None = None,
    *,
    old_positional: Sequence[str] = (),
) -> Callable[[Callable], Callable]:
    """Decorator: accept old keyword names and old positional arguments, with a warning.

    Parameters
    ----------
    renames : dict of str to str, optional
        ``{old keyword: new keyword}``. A call with ``old=value`` becomes
        ``new=value`` after a ``DeprecationWarning`` naming ``new``.
    old_positional : sequence of str
        The parameter names of the *old* signature, in order (new names). Positional
        arguments beyond the ones the new signature takes positionally are mapped to
        these names (``kernel_shap(f, x, bg, 100, 0)`` -> ``num_samples=100,
        random_state=0``), after a ``DeprecationWarning``.

    Returns
    -------
    callable
        The decorator. ``inspect.signature`` of the wrapped function shows the new
        signature; ``__renamed_arguments__`` records ``renames``.
    """
    renames = dict(renames or {})
    old_positional = tuple(old_positional)

    def decorate(fn: Callable) -> Callable:
        params = inspect.signature(fn).parameters.values()
        n_positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        name = fn.__qualname__

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) > n_positional:
                extra = args[n_positional:]
                names = old_positional[n_positional : n_positional + len(extra)]
                if len(names) < len(extra):
                    raise TypeError(
                        f"{name}() takes {n_positional} positional arguments, got {len(args)}"
                    )
                warnings.warn(
                    f"{name}: passing {', '.join(names)} positionally is deprecated and will "
                    f"be an error in the next release; pass "
                    f"{', '.join(n + '=...' for n in names)} by keyword",
                    DeprecationWarning,
                    stacklevel=user_stacklevel(),
                )
                for key, value in zip(names, extra, strict=True):
                    if key in kwargs:
                        raise TypeError(f"{name}() got multiple values for argument {key!r}")
                    kwargs[key] = value
                args = args[:n_positional]
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{name}(): give {new}= only ({old}= is its deprecated name), got both"
                        )
                    warn_renamed(f"{name}()", f"{old}=", f"{new}=")
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        wrapper.__renamed_arguments__ = renames  # type: ignore[attr-defined]
        return wrapper

    return decorate


def deprecated_alias(new: Callable, old_name: str) -> Callable:
    """A function ``old_name`` that warns and calls ``new`` (a renamed public function)."""

    @functools.wraps(new)
    def alias(*args: Any, **kwargs: Any) -> Any:
        warn_renamed(old_name, old_name, new.__name__)
        return new(*args, **kwargs)

    alias.__name__ = old_name
    alias.__qualname__ = old_name
    return alias
