"""Interactive views of the course (ipywidgets 8 core controls + matplotlib Agg).

Each widget is an :class:`ipywidgets.VBox`: ``display(w)`` or leave it as a cell's
last expression. Every widget has ``step()``, ``reset()``, ``model_calls`` and
``show_static()``; without a widget front end it shows a PNG of its current state.

* :class:`LimeIntuition2D` - course/02_lime_intuition_2d.ipynb
* :class:`ImagePerturbationPlayer` - course/05_lime_images.ipynb
* :class:`TextPerturbationPlayer` - course/04_lime_text.ipynb
* :class:`KernelWidthExplorer` - course/13_lime_theory.ipynb
* :class:`IntegratedGradientsPath` - course/09_integrated_gradients.ipynb
* :class:`ShapleyExplorer` - course/10_shapley_shap.ipynb
* :class:`DeletionInsertionCurves` - course/11_evaluating_explanations.ipynb
* :class:`SanityCheckCascade` - course/12_sanity_checks_axioms.ipynb
"""

from widgets.curves import DeletionInsertionCurves
from widgets.ig_path import IntegratedGradientsPath
from widgets.image_player import ImagePerturbationPlayer
from widgets.kernel_width import KernelWidthExplorer
from widgets.lime_2d import LimeIntuition2D
from widgets.sanity import SanityCheckCascade
from widgets.shapley import ShapleyExplorer
from widgets.text_player import TextPerturbationPlayer

__all__ = [
    "DeletionInsertionCurves",
    "ImagePerturbationPlayer",
    "IntegratedGradientsPath",
    "KernelWidthExplorer",
    "LimeIntuition2D",
    "SanityCheckCascade",
    "ShapleyExplorer",
    "TextPerturbationPlayer",
]
