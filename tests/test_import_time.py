"""``import lime_core`` (and the LIME engine modules) must not pull heavy libraries in."""

import json
import subprocess
import sys

HEAVY = ["torch", "sklearn", "skimage", "matplotlib"]
ENGINE = [
    "lime_core", "lime_core.segmentation", "lime_core.sampling", "lime_core.perturbation",
    "lime_core.kernels", "lime_core.surrogate", "lime_core.explanation",
    "lime_core.lime_image", "lime_core.lime_text", "lime_core.lime_tabular",
]


def test_heavy_libraries_are_not_imported():
    code = (
        "import importlib, json, sys\n"
        f"for m in {ENGINE!r}: importlib.import_module(m)\n"
        f"print(json.dumps([h for h in {HEAVY!r} if h in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
