"""Gradient attributions: saliency, gradient x input, SmoothGrad, Integrated Gradients.

Every method has the same shape, like captum::

    attributions = method(model, inputs, *, target, ...)

* ``model`` is a ``torch.nn.Module`` or any differentiable callable that maps a
  batch of tensors ``(n, ...)`` to scores ``(n, k)`` (or ``(n,)`` for one score).
  Put the model in ``eval()`` mode yourself; nothing here changes it.
* ``inputs`` is a batch ``(n, ...)``: a numpy array or a torch tensor. The
  attributions come back with the same shape and the same kind (numpy in,
  numpy out; tensor in, tensor out), in the model's floating dtype.
* ``target`` is the class whose score ``S_c`` is explained: an int for every
  row, or one int per row. It may be ``None`` only when the model returns a
  single score per row.
* Work is done in batches of at most ``batch_size`` rows per forward/backward
  pass, so the number of model calls is ``ceil(rows / batch_size)``.

DeepLIFT (rescale rule) and DeepSHAP work on any ``nn.Module`` built from standard
layers (forward hooks on its layer modules, as in captum), with one input or a tuple of
inputs: they need the baseline, like Integrated Gradients, but only one pass over
``[x; x']``.

Every method refuses bad input by name (``ValueError``/``TypeError`` starting with the
argument), including models that return NaN/inf scores or gradients, that are not
differentiable (``.detach()``, ``.numpy()``), or that fail on the inputs.

torch is imported inside the functions, so ``import lime_core`` stays fast.
The course notebooks are ``course/08_gradients.ipynb`` and
``course/09_integrated_gradients.ipynb``.

One idea per module:

=====================  ==================================================  ========
module                 what it holds                                       notebook
=====================  ==================================================  ========
``_common``            tensors, targets, batched gradients (shared)
``saliency_maps``      saliency, gradient x input, SmoothGrad              08
``integrated``         Integrated Gradients and its quadrature rules       09
``deeplift_shap``      DeepLIFT (rescale rule) and DeepSHAP                10, 12
=====================  ==================================================  ========
"""

from lime_core.gradients._common import (  # noqa: F401  (kept importable from here)
    DEFAULT_BATCH_SIZE,
    _as_baseline,
    _as_targets,
    _as_tensor,
    _batch_gradient,
    _gradients,
    _model_dtype,
    _output,
    _pick_scores,
    _prepare,
    _scores,
    _selected_scores,
)
from lime_core.gradients.deeplift_shap import _DEEPLIFT_EPS, deep_shap, deeplift  # noqa: F401
from lime_core.gradients.integrated import (  # noqa: F401
    CAPTUM_IG_METHODS,
    IG_METHODS,
    PATH_BATCH_NUMBERS,
    IntegratedGradientsResult,
    integrated_gradients,
    integration_nodes,
    path_batch_size,
)
from lime_core.gradients.saliency_maps import (  # noqa: F401
    SMOOTHGRAD_VARIANTS,
    SmoothGradResult,
    gradient_times_input,
    saliency,
    smoothgrad,
)

__all__ = [
    "IntegratedGradientsResult",
    "SmoothGradResult",
    "saliency",
    "gradient_times_input",
    "smoothgrad",
    "integration_nodes",
    "integrated_gradients",
    "deeplift",
    "deep_shap",
]
