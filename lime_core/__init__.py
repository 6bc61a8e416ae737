"""lime_core: local explanations from scratch.

A small, readable library behind the limelab course: LIME for images, text and
tables, gradient methods and Integrated Gradients, Shapley values and KernelSHAP,
metrics and sanity checks for explanations, and the closed-form theory of LIME.

torch, scikit-learn, scikit-image and matplotlib are imported only inside the
functions that need them, so ``import lime_core`` stays fast.
"""

__version__ = "0.1.0"
