"""The Examples sections of lime_core run (doctest), and every public function is documented."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import lime_core
import lime_core.zoo

# the zoo's modules train models on import of their examples; they have none to run
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(lime_core.__path__, "lime_core.")
    if not m.name.startswith("lime_core.zoo")
)


@pytest.mark.parametrize("name", MODULES)
def test_examples_in_docstrings_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_the_most_used_functions_have_examples():
    names = [n for n in lime_core.__all__ if inspect.isfunction(getattr(lime_core, n))]
    with_examples = [n for n in names if "Examples" in (inspect.getdoc(getattr(lime_core, n)) or "")]
    assert len(with_examples) >= 15, with_examples
    for must in ("explain_image", "explain_text", "explain_tabular", "saliency",
                 "integrated_gradients", "kernel_shap", "deletion_curve",
                 "cascading_randomization", "explain_from_samples"):
        assert must in with_examples


def test_every_public_function_has_parameters_and_returns():
    missing = []
    for module in (lime_core, lime_core.zoo):
        for name in module.__all__:
            obj = getattr(module, name)
            if not inspect.isfunction(obj):
                continue
            doc = inspect.getdoc(obj) or ""
            if list(inspect.signature(obj).parameters) and "Parameters\n----------" not in doc:
                missing.append(f"{name}: Parameters")
            if "Returns\n-------" not in doc and "Yields\n------" not in doc:
                missing.append(f"{name}: Returns")
    assert not missing, missing
