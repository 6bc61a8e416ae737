"""One vocabulary (DESIGN.md): public functions use it, retired names still work with a warning."""

from __future__ import annotations

import dataclasses
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import lime_core
import lime_core.zoo

DESIGN = Path(__file__).resolve().parents[1] / "DESIGN.md"


def retired_names() -> dict[str, str]:
    """``{retired name: concept}`` from the third column of DESIGN.md's vocabulary table."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## Vocabulary", 1)[1].split("\n## ", 1)[0]
    retired = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("concept", "---"):
            continue
        for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[2]):
            retired[name] = cells[0]
    return retired


def public_functions():
    for module in (lime_core, lime_core.zoo):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj
            elif inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member) and not attr.startswith("_"):
                        yield f"{module.__name__}.{name}.{attr}", member


def test_the_table_is_read():
    retired = retired_names()
    # the table lists the synonyms the issue found, and never the names it keeps
    assert {"f", "label", "background", "replacement", "hide_color", "num_model_calls",
            "num_evaluations", "return_convergence_delta", "nu"} <= set(retired)
    assert not {"model", "classifier_fn", "target", "baseline", "random_state", "alpha",
                "model_calls", "return_result", "kernel_width"} & set(retired)


def test_public_functions_use_the_vocabulary():
    retired = retired_names()
    offenders = []
    for qualname, fn in public_functions():
        params = inspect.signature(fn).parameters
        for p in params.values():
            if p.name in retired:
                offenders.append(f"{qualname}({p.name}=...): retired name for "
                                 f"{retired[p.name]!r}")
            if p.name == "random_state" and p.kind is not p.KEYWORD_ONLY:
                offenders.append(f"{qualname}: random_state can be passed positionally")
    assert not offenders, "\n".join(offenders)
    assert len(list(public_functions())) > 80  # the walk really visits the library


def test_result_classes_use_the_vocabulary():
    retired = retired_names()
    offenders = []
    checked = []
    for module in (lime_core, lime_core.zoo):  # results and the zoo's model wrappers
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
                checked.append(f"{module.__name__}.{name}")
                offenders += [f"{name}.{f.name}" for f in dataclasses.fields(obj)
                              if f.name in retired]
    assert not offenders, offenders
    # the walk really visits the zoo's model wrappers
    assert {"lime_core.zoo.TextModel", "lime_core.zoo.AnalyticalModel"} <= set(checked), checked


def _linear(rows):
    return np.asarray(rows) @ np.array([1.0, -2.0, 0.5])


OLD_CALLS = [
    # (call with the retired spelling, the new name the warning must mention)
    (lambda: lime_core.alpha(4, 0.25, 1), "kernel_moment"),
    (lambda: lime_core.kernel_shap(_linear, np.ones(3), np.zeros((1, 3)), 50, 0), "random_state="),
    (lambda: lime_core.kernel_shap(f=_linear, x=np.ones(3), background=np.zeros((1, 3)),
                                   random_state=0), "model="),
    (lambda: lime_core.sample_masks(3, 5, 0), "random_state="),
    (lambda: lime_core.shapley_permutation(lime_core.football_game().value_fn, 3, 2, 0),
     "random_state="),
    (lambda: lime_core.deletion_curve(f=_linear, x=np.ones(3), attribution=np.ones(3)), "model="),
    (lambda: lime_core.deletion_curve(_linear, np.ones(3), np.ones(3), replacement="mean"),
     "baseline="),
    (lambda: lime_core.deletion_curve(_linear, np.ones(3), np.ones(3), baseline="mean"),
     "channel_mean"),
    (lambda: lime_core.replacement_image(np.ones((2, 2)), np.array([[0, 0], [1, 1]]), "mean"),
     "superpixel_mean"),
    (lambda: lime_core.deletion_curve(_linear, np.ones(3), np.ones(3)).num_model_calls,
     "model_calls"),
    (lambda: lime_core.shapley_exact(lime_core.football_game().value_fn, 3).num_evaluations,
     "num_coalitions"),
    (lambda: lime_core.zoo.TextModel(_linear, ("a", "b"), "toy").predict_fn, "classifier_fn"),
    (lambda: lime_core.zoo.linear_image_model((4, 4, 3)).f, "classifier_fn"),
]


@pytest.mark.parametrize("call, new_name", OLD_CALLS)
def test_retired_spellings_still_work_and_name_the_new_one(call, new_name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert messages and any(new_name in m for m in messages), messages


def test_retired_and_new_spelling_agree():
    game = lime_core.football_game()
    with pytest.warns(DeprecationWarning):
        old = lime_core.shapley_permutation(game.value_fn, 3, 4, 7)
    new = lime_core.shapley_permutation(game.value_fn, 3, 4, random_state=7)
    np.testing.assert_array_equal(old.values, new.values)
    with pytest.warns(DeprecationWarning):
        assert lime_core.alpha(5, 0.3, 2) == lime_core.kernel_moment(5, 0.3, 2)


def test_zoo_models_old_attribute_is_the_new_one():
    text_model = lime_core.zoo.TextModel(_linear, ("a", "b"), "toy")
    analytical = lime_core.zoo.linear_image_model((4, 4, 3))
    with pytest.warns(DeprecationWarning, match="classifier_fn"):
        assert text_model.predict_fn is text_model.classifier_fn is _linear
    with pytest.warns(DeprecationWarning, match="classifier_fn"):
        assert analytical.f is analytical.classifier_fn
    images = np.random.default_rng(0).random((2, 4, 4, 3))
    np.testing.assert_array_equal(analytical(images), analytical.classifier_fn(images))


def test_both_spellings_at_once_is_an_error():
    with pytest.raises(TypeError, match="give baseline= only"):
        lime_core.kernel_shap(_linear, np.ones(3), baseline=np.zeros((1, 3)),
                              background=np.zeros((1, 3)))
