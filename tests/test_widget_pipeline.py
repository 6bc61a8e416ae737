"""Widgets are views over the LIME pipeline: samples function + explain_from_samples/refit.

A widget that imports the sampling, perturbation, kernel or surrogate pieces of
lime_core rebuilds LIME's pipeline itself (and drifts from it); this test fails when one
does. The widget tests (tests/test_widgets.py) check that the frames did not change.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WIDGETS = Path(__file__).resolve().parents[1] / "widgets"

PIECE_MODULES = {"lime_core.sampling", "lime_core.perturbation", "lime_core.kernels",
                 "lime_core.surrogate"}
# the same pieces re-exported by lime_core/__init__.py
PIECE_NAMES = {"sample_masks", "perturb_image_batches", "replacement_image", "masked_images",
               "superpixel_means", "perturb_text", "TabularSampler", "cosine_distance",
               "euclidean_distance", "exponential_kernel", "fit_surrogate", "weighted_ridge",
               "weighted_r2", "ridge_stderr", "select_features"}
# (module, imported name or "*"): allowed, and why
ALLOWED = {
    # tokenising the sentence for the word buttons is display, not sampling
    ("text_player", "tokenise"),
    # the 2-D intuition picture samples a Gaussian cloud in the raw plane: no lime_core
    # explainer exists for it (course/02_lime_intuition_2d.ipynb)
    ("lime_2d", "*"),
}


def pieces_used(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [a.name for a in node.names]
            if node.module in PIECE_MODULES:
                found += [f"{node.module}.{n}" for n in names]
            elif node.module == "lime_core":
                found += [f"lime_core.{n}" for n in names if n in PIECE_NAMES]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in PIECE_MODULES]
        elif isinstance(node, ast.Attribute) and node.attr in PIECE_NAMES:
            if isinstance(node.value, ast.Name) and node.value.id == "lime_core":
                found.append(f"lime_core.{node.attr}")
    return [f for f in found
            if (path.stem, f.rsplit(".", 1)[1]) not in ALLOWED and (path.stem, "*") not in ALLOWED]


@pytest.mark.parametrize("path", sorted(WIDGETS.glob("*.py")), ids=lambda p: p.name)
def test_widgets_do_not_rebuild_the_lime_pipeline(path):
    assert pieces_used(path) == [], (
        f"{path.name} uses LIME's pieces directly; call image_samples/text_samples/"
        "tabular_samples and explain_from_samples / Explanation.refit instead")


@pytest.mark.parametrize("name, samples", [("image_player", "image_samples"),
                                           ("text_player", "text_samples"),
                                           ("kernel_width", "image_samples")])
def test_the_lime_players_call_samples_and_refit(name, samples):
    source = (WIDGETS / f"{name}.py").read_text(encoding="utf-8")
    assert samples in source and "explain_from_samples" in source
    assert ".refit(" in source


def test_the_checker_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from lime_core.sampling import sample_masks\nimport lime_core\n"
                   "w = lime_core.exponential_kernel\n")
    assert pieces_used(bad) == ["lime_core.sampling.sample_masks", "lime_core.exponential_kernel"]


def test_the_sanity_widget_passes_methods_without_lambdas():
    tree = ast.parse((WIDGETS / "sanity.py").read_text(encoding="utf-8"))
    assert not any(isinstance(node, ast.Lambda) for node in ast.walk(tree))
