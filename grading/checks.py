"""Checks the homework's hidden tests use: did the student write it themselves?

An exercise such as "write ``weighted_ridge``" is worthless if the answer is
``from lime_core.surrogate import weighted_ridge``. The hidden tests call
:func:`assert_own_implementation`, which looks at the student's function, and
the helper functions of the notebook it calls, for names that lead into
``lime_core`` (the course zoo and the argument checks are allowed), and
:func:`forbid`, which makes the library functions raise while the student's
code runs, catching calls made by any other route.

Under ``python -m grading`` these checks are a second line only: the tests run
in the trusted process, where the student's functions are stand-ins for code
in the sandbox, and the sandbox itself has no copy of the functions the
exercise asks for (:data:`grading.sandbox.LIBRARY_POLICY`), so an import of
them fails where the student's code runs. In a plain Jupyter kernel (a student
running the notebook, ``nbgrader validate``) they still catch the shortcut.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import types
from collections.abc import Callable, Iterator, Sequence

ALLOWED = ("lime_core.zoo", "lime_core._validation", "lime_core.perturbation")


def _is_forbidden_module_name(name: str, allowed: Sequence[str]) -> bool:
    if name != "lime_core" and not name.startswith("lime_core."):
        return False
    return not any(name == a or name.startswith(a + ".") for a in allowed)


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def lime_core_references(
    fn: Callable, allowed: Sequence[str] = ALLOWED, _seen: set | None = None
) -> list[str]:
    """Names used by ``fn`` (and by notebook functions it calls) that lead into ``lime_core``.

    A name counts when it is a ``lime_core`` module, or a function or class
    defined in one, other than the ``allowed`` submodules. Notebook helper
    functions (defined in ``__main__``) reached by name are searched too.
    """
    seen = set() if _seen is None else _seen
    fn = inspect.unwrap(fn)
    if id(fn) in seen or not hasattr(fn, "__code__"):
        return []
    seen.add(id(fn))
    found: list[str] = []
    glob = dict(getattr(fn, "__globals__", {}))
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
        with contextlib.suppress(ValueError):  # an empty cell
            glob[name] = cell.cell_contents
    for code in _code_objects(fn.__code__):
        for name in code.co_names + code.co_freevars:
            if name == "lime_core" or name.startswith("lime_core."):  # an import statement
                if _is_forbidden_module_name(name, allowed):
                    found.append(name)
                continue
            obj = glob.get(name)
            if obj is None:
                continue
            if isinstance(obj, types.ModuleType):
                if _is_forbidden_module_name(obj.__name__, allowed):
                    found.append(obj.__name__)
                continue
            module = getattr(obj, "__module__", None) or ""
            if callable(obj) and _is_forbidden_module_name(module, allowed):
                found.append(f"{module}.{getattr(obj, '__name__', name)}")
            elif isinstance(obj, types.FunctionType) and module in (fn.__module__, "__main__"):
                found.extend(lime_core_references(obj, allowed, seen))
    return sorted(set(found))


def assert_own_implementation(fn: Callable, name: str, allowed: Sequence[str] = ALLOWED) -> None:
    """Fail with a friendly message when ``fn`` relies on ``lime_core`` instead of its own code."""
    used = lime_core_references(fn, allowed)
    if used:
        raise AssertionError(
            f"{name} uses {', '.join(used)}: the exercise asks you to write it yourself "
            "(numpy is fine, the course library is not)"
        )


@contextlib.contextmanager
def forbid(targets: Sequence[str]):
    """Make ``lime_core`` functions raise while the block runs.

    ``targets`` are dotted names such as ``"lime_core.surrogate.weighted_ridge"``;
    each is replaced by a function raising ``AssertionError`` and put back
    afterwards.
    """
    saved = []
    try:
        for target in targets:
            module_name, attr = target.rsplit(".", 1)
            module = importlib.import_module(module_name)
            original = getattr(module, attr)
            saved.append((module, attr, original))

            def _refuse(*args, _target=target, **kwargs):
                raise AssertionError(
                    f"{_target} was called: the exercise asks you to write it yourself"
                )

            setattr(module, attr, _refuse)
        yield
    finally:
        for module, attr, original in reversed(saved):
            setattr(module, attr, original)
