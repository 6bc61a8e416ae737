"""lime_core: local explanations from scratch.

A small, readable library behind the limelab course: LIME for images, text and
tables, gradient methods and Integrated Gradients, Shapley values and KernelSHAP,
metrics and sanity checks for explanations, and the closed-form theory of LIME.

Read the modules in this order, following the course notebooks:

==================  =====================================================  ==========
module              what it holds                                          notebook
==================  =====================================================  ==========
``segmentation``    superpixels (quickshift, SLIC, Felzenszwalb, grid)     05
``sampling``        masks z' in {0,1}^d around the instance                03
``perturbation``    turning masks into images, texts and table rows        03-06
``kernels``         distances and the kernel pi(z) = exp(-D^2 / (2 w^2))   03
``surrogate``       weighted ridge, K-Lasso and forward selection          03
``explanation``     the ``Explanation`` result                             03
``lime_image``      LIME for images                                        05
``lime_text``       LIME for text                                          04
``lime_tabular``    LIME for tables                                        06
``gradients/``      saliency, SmoothGrad, Integrated Gradients, DeepLIFT   08-10
``shapley/``        exact Shapley values, sampling, KernelSHAP             10
``pick``            SP-LIME: which explanations a person should read       07
``metrics``         deletion/insertion, IoU, recall, stability, ROAR       11
``sanity``          model-randomisation sanity checks                      12
``theory``          what LIME converges to (Garreau & Mardaoui)            13
``attribution``     the attribution-map contract metrics and checks use    11-14
==================  =====================================================  ==========

torch, scikit-learn, scikit-image and matplotlib are imported only inside the
functions that need them, so ``import lime_core`` stays fast. The teaching
datasets and models live in :mod:`lime_core.zoo` (``from lime_core import zoo``).
"""

from lime_core.attribution import attribution_map, superpixel_sums
from lime_core.explanation import Explanation, LimeSamples, explain_from_samples
from lime_core.gradients import (
    deep_shap,
    deeplift,
    gradient_times_input,
    integrated_gradients,
    saliency,
    smoothgrad,
)
from lime_core.kernels import cosine_distance, euclidean_distance, exponential_kernel
from lime_core.lime_image import explain_image, image_samples
from lime_core.lime_tabular import explain_tabular, tabular_samples
from lime_core.lime_text import explain_text, text_samples
from lime_core.metrics import (
    CurveResult,
    deletion_curve,
    faithfulness_correlation,
    insertion_curve,
    iou,
    pixel_map,
    pointing_game,
    recall_at_k,
    roar,
    stability,
)
from lime_core.perturbation import (
    TabularSampler,
    TextDomain,
    masked_images,
    perturb_image_batches,
    perturb_text,
    replacement_image,
    superpixel_means,
    tokenise,
)
from lime_core.pick import PickResult, submodular_pick
from lime_core.sampling import sample_masks
from lime_core.sanity import SanityResult, cascading_randomization, independent_randomization
from lime_core.segmentation import segment
from lime_core.shapley import (
    ShapleyResult,
    football_game,
    glove_game,
    kernel_shap,
    kernel_shap_game,
    linear_game,
    marginal_value_fn,
    shapley_exact,
    shapley_kernel_weight,
    shapley_permutation,
)
from lime_core.surrogate import SurrogateFit, fit_surrogate, weighted_r2, weighted_ridge
from lime_core.theory import (
    kernel_moment,
    large_bandwidth_limit,
    lime_limit,
    linear_model_limit,
    shape_detector_limit,
    sigma_inverse,
    sigma_matrix,
    smallest_bandwidth,
)

__version__ = "0.1.0"

__all__ = [
    "CurveResult", "Explanation", "LimeSamples", "PickResult", "SanityResult", "ShapleyResult",
    "SurrogateFit", "TabularSampler", "TextDomain", "attribution_map", "superpixel_sums", "cascading_randomization",
    "cosine_distance", "deep_shap", "deeplift", "deletion_curve", "euclidean_distance",
    "explain_from_samples", "explain_image", "explain_tabular", "explain_text",
    "exponential_kernel", "faithfulness_correlation", "fit_surrogate", "football_game",
    "glove_game", "gradient_times_input", "image_samples", "independent_randomization",
    "insertion_curve", "integrated_gradients", "iou", "kernel_moment", "kernel_shap",
    "kernel_shap_game", "large_bandwidth_limit", "lime_limit", "linear_game",
    "linear_model_limit", "marginal_value_fn", "masked_images", "perturb_image_batches",
    "perturb_text", "pixel_map", "pointing_game", "recall_at_k", "replacement_image", "roar", "saliency",
    "sample_masks", "segment", "shape_detector_limit", "shapley_exact", "shapley_kernel_weight",
    "shapley_permutation", "sigma_inverse", "sigma_matrix", "smallest_bandwidth", "smoothgrad",
    "stability", "submodular_pick", "superpixel_means", "tabular_samples", "text_samples",
    "tokenise", "weighted_r2", "weighted_ridge",
]

#: Public names renamed by the vocabulary of DESIGN.md: old name -> new name. The old
#: names keep working for one release (with a DeprecationWarning).
RENAMED = {"alpha": "kernel_moment"}


def __getattr__(name: str):
    """``lime_core.alpha`` (and any other renamed name) warns and gives the new function."""
    if name in RENAMED:
        from lime_core._deprecation import deprecated_alias

        return deprecated_alias(globals()[RENAMED[name]], name)
    raise AttributeError(f"module 'lime_core' has no attribute {name!r}")
