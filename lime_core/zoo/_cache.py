"""Reading and writing the cached weights of the zoo's torch models.

Training a CNN takes longer than a student should wait, so the zoo ships trained
weights in ``lime_core/zoo/weights/<name>.pt`` (a plain ``state_dict``).
``python -m lime_core.zoo.regenerate`` retrains every model and rewrites them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def weights_path(name: str) -> Path:
    """Where the cached weights called ``name`` live."""
    return WEIGHTS_DIR / f"{name}.pt"


def has_weights(name: str) -> bool:
    """True if cached weights called ``name`` ship with the package."""
    return weights_path(name).is_file()


def save_weights(module: Any, name: str) -> Path:
    """Save ``module.state_dict()`` as float32 tensors to ``weights/<name>.pt``."""
    import torch

    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float32).clone() if v.is_floating_point() else v.clone()
             for k, v in module.state_dict().items()}
    path = weights_path(name)
    torch.save(state, path)
    return path


def load_weights(module: Any, name: str) -> Any:
    """Load ``weights/<name>.pt`` into ``module`` and put it in eval mode."""
    import torch

    path = weights_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"no cached weights at {path}; run `python -m lime_core.zoo.regenerate` "
            "or call the loader with retrain=True"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    module.load_state_dict(state)
    module.eval()
    return module


@contextmanager
def seeded_torch(seed: int) -> Iterator[None]:
    """A context in which torch's global RNG is seeded, then restored on exit.

    Module initialisation in torch draws from the global generator; forking it
    keeps the zoo's training reproducible without changing the student's RNG.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
