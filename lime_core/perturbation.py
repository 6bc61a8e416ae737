"""From masks to model inputs: perturbed images, texts and table rows.

A mask ``z`` keeps feature ``j`` when ``z_j = 1`` and hides it otherwise. See the course
notebooks ``course/04_lime_text.ipynb``, ``course/05_lime_images.ipynb`` and
``course/06_lime_tabular.ipynb``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lime_core._deprecation import renamed_arguments, warn_renamed
from lime_core._validation import (
    RandomState,
    check_array,
    check_choice,
    check_int,
    check_random_state,
)

# ---------------------------------------------------------------- images


#: Named baselines of image LIME: each superpixel's own mean colour, or a blur.
IMAGE_BASELINES = ("superpixel_mean", "blur")

#: Default size of one batch of perturbed images, in bytes (the images plus their
#: keep-masks). A batch array well under 32 MB is reused by the memory allocator (glibc's
#: largest dynamic mmap threshold) instead of being freshly mapped and zeroed by the
#: kernel for every model call. For a 224 x 224 x 3 float64 photo (17 images per batch)
#: on a loaded 2-core machine batch 16 was the fastest of batch sizes 8 to 64 in most
#: side-by-side runs and batch 64 (77 MB) up to 2-4x slower; batches of 28 (34 MB)
#: page-faulted 20x more than batches of 24 (29 MB). See ``benchmarks/bench_lime.py``.
IMAGE_BATCH_BYTES = 22 * 2**20
#: The largest default batch (as the gradient methods' ``DEFAULT_BATCH_SIZE``).
MAX_IMAGE_BATCH = 64


def image_batch_size(image, max_bytes: int = IMAGE_BATCH_BYTES) -> int:
    """Default images per model call: as many perturbed images as fit in ``max_bytes``.

    One perturbed image costs ``image.nbytes`` plus one byte per value for its keep-mask,
    so ``b = max_bytes // (image.nbytes + image.size)``, clipped to ``1 .. 64``. A
    224 x 224 x 3 photo gets 64 images per batch as uint8 and 17 as float64; small
    images always get 64.

    Parameters
    ----------
    image : numpy.ndarray
    max_bytes : int
        Memory budget of one batch.

    Returns
    -------
    int

    Examples
    --------
    >>> image_batch_size(np.zeros((224, 224, 3))), image_batch_size(np.zeros((224, 224, 3), np.uint8))
    (17, 64)
    """
    image = np.asarray(image)
    max_bytes = check_int(max_bytes, "max_bytes", minimum=1)
    per_image = max(1, image.nbytes + image.size)
    return int(min(MAX_IMAGE_BATCH, max(1, max_bytes // per_image)))


def _image_baseline_name(baseline, where: str):
    """Map the deprecated ``"mean"`` (and ``None``) to ``"superpixel_mean"``."""
    if baseline is None:
        return "superpixel_mean"
    if isinstance(baseline, str) and baseline == "mean":
        warn_renamed(where, "baseline='mean' (hide_color='mean')", "baseline='superpixel_mean'")
        return "superpixel_mean"
    return baseline


def _check_image_array(image, name: str = "image") -> np.ndarray:
    """``image`` as a finite ``(H, W)`` or ``(H, W, C)`` array of numbers."""
    try:
        image = np.asarray(image)
    except (TypeError, ValueError) as err:  # ragged nested lists
        raise TypeError(f"{name} must be an array of numbers, got {type(image).__name__}") from err
    if image.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {image.dtype}")
    if image.ndim not in (2, 3):
        raise ValueError(f"{name} must be 2-D or 3-D, got an array of shape {image.shape}")
    if image.dtype.kind == "f" and not np.all(np.isfinite(image)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return image


def check_segments_for(segments, image, name: str = "segments") -> np.ndarray:
    """``segments`` as an integer ``(H, W)`` array matching ``image`` (labels >= 0).

    Raises
    ------
    TypeError
        Segments that are not integer labels.
    ValueError
        Segments whose shape is not ``image.shape[:2]``, or negative labels.
    """
    image = np.asarray(image)
    try:
        segments = np.asarray(segments)
    except (TypeError, ValueError) as err:  # ragged lists
        raise TypeError(f"{name} must be an integer array of labels, got {type(segments).__name__}") from err
    if segments.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer labels, got dtype {segments.dtype}")
    if segments.shape != image.shape[:2]:
        raise ValueError(
            f"{name} must have the image's shape {image.shape[:2]} (one label per pixel), "
            f"got shape {segments.shape}")
    if segments.size and segments.min() < 0:
        raise ValueError(f"{name} must be labels >= 0, got {segments.min()}")
    return segments


def superpixel_means(image, segments) -> np.ndarray:
    """Every pixel replaced by the mean colour of its superpixel (float array).

    ``xi_bar_u = (1/|J_j|) sum_{v in J_j} xi_v`` for ``u in J_j``, per channel: the one
    home of the mean-colour replacement (image LIME's default baseline, and the
    replacement of the closed-form theory).

    Parameters
    ----------
    image : numpy.ndarray, shape ``(H, W)`` or ``(H, W, C)``
    segments : numpy.ndarray of int, shape ``(H, W)``
        Labels ``0 .. d-1`` (see :func:`lime_core.segmentation.relabel`).

    Returns
    -------
    numpy.ndarray of float, the image's shape

    Examples
    --------
    >>> img = np.array([[0.0, 2.0], [4.0, 4.0]])
    >>> superpixel_means(img, np.array([[0, 0], [1, 1]])).tolist()
    [[1.0, 1.0], [4.0, 4.0]]
    """
    image = _check_image_array(image)
    flat = check_segments_for(segments, image).ravel()
    d = int(flat.max()) + 1
    counts = np.bincount(flat, minlength=d).astype(float)
    counts[counts == 0] = 1.0
    pixels = image.reshape(flat.shape[0], -1).astype(float)
    means = np.stack(
        [np.bincount(flat, weights=pixels[:, c], minlength=d) / counts
         for c in range(pixels.shape[1])],
        axis=1,
    )
    return means[flat].reshape(image.shape)


def _constant_for(image: np.ndarray, colour: np.ndarray, baseline) -> np.ndarray:
    """``colour`` (a number, a colour or an image) in the image's dtype, refusing values
    the dtype cannot hold (``hide_color=300`` on uint8 would wrap to 44)."""
    if not np.all(np.isfinite(colour)):
        raise ValueError(f"baseline must be finite, got {baseline!r}")
    if image.dtype.kind in "iu":
        info = np.iinfo(image.dtype)
        low, high = float(colour.min()), float(colour.max())
        if low < info.min or high > info.max:
            raise ValueError(
                f"baseline must lie in [{info.min}, {info.max}] for a {image.dtype} image, "
                f"got values in [{low:g}, {high:g}]")
        if not np.all(colour == np.round(colour)):
            raise ValueError(
                f"baseline must be whole numbers for a {image.dtype} image (fractions would "
                f"be truncated), got {baseline!r}")
    elif image.dtype.kind == "f":
        with np.errstate(over="ignore"):
            cast = colour.astype(image.dtype)
        if not np.all(np.isfinite(cast)):
            raise ValueError(
                f"baseline must be finite in the image's dtype {image.dtype}, got {baseline!r}")
    return colour.astype(image.dtype)


@renamed_arguments({"hide_color": "baseline"})
def replacement_image(image, segments, baseline="superpixel_mean",
                      blur_sigma: float = 5.0) -> np.ndarray:
    """The baseline image ``xi_bar`` whose pixels replace hidden superpixels.

    ``baseline="superpixel_mean"`` gives every superpixel its own mean colour
    (:func:`superpixel_means`, lime's default ``hide_color=None``); a number or a
    per-channel tuple gives a constant colour; ``"blur"`` a Gaussian blur of the image
    (``blur_sigma`` pixels); an array of the image's shape is used as it is. The result
    has the image's dtype (like lime, means are truncated for integer images). A
    number, colour or image baseline must be representable in the image's dtype: for a
    uint8 image whole numbers in 0..255 (lime would silently wrap 300 to 44 and -5 to
    251; here it is a ``ValueError``).

    See the course notebook ``course/05_lime_images.ipynb``.

    Parameters
    ----------
    image : numpy.ndarray, shape ``(H, W)`` or ``(H, W, C)``
    segments : numpy.ndarray of int, shape ``(H, W)``
    baseline : {"superpixel_mean", "blur"}, number, colour or array
        ``None`` means ``"superpixel_mean"``; the old name ``"mean"`` still works
        (deprecated).
    blur_sigma : float
        Standard deviation of the blur, in pixels.

    Returns
    -------
    numpy.ndarray, the image's shape and dtype
    """
    image = _check_image_array(image)
    segments = check_segments_for(segments, image)
    baseline = _image_baseline_name(baseline, "replacement_image()")
    if isinstance(baseline, str):
        check_choice(baseline, "baseline", IMAGE_BASELINES)
        if baseline == "blur":
            from scipy.ndimage import gaussian_filter

            sigma = (blur_sigma, blur_sigma) + (0,) * (image.ndim - 2)
            return gaussian_filter(image.astype(float), sigma=sigma).astype(image.dtype)
        return superpixel_means(image, segments).astype(image.dtype)
    try:
        colour = np.asarray(baseline, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"baseline must be 'superpixel_mean', 'blur', a number, a colour or an image, "
            f"got {baseline!r}") from err
    if colour.shape == image.shape:
        if not np.all(np.isfinite(colour)):
            raise ValueError("baseline contains NaN or infinite values")
        return _constant_for(image, colour, "an image")
    if colour.ndim > 1 or (colour.ndim == 1 and (image.ndim != 3 or colour.shape[0] != image.shape[2])):
        raise ValueError(
            f"baseline must be a number, one value per channel or an image of shape "
            f"{image.shape}, got {baseline!r}")
    out = np.empty_like(image)
    out[...] = _constant_for(image, colour, baseline)
    return out


def _pixel_lookup(image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """The superpixel of every value of the image, flattened: ``segments`` repeated over
    the channels, so ``Z[:, lookup]`` has the image's shape per mask and ``np.where``
    needs no broadcasting over channels (several times faster)."""
    if image.ndim == 3:
        segments = np.repeat(segments[..., None], image.shape[2], axis=2)
    return np.ascontiguousarray(segments).ravel()


def _check_masks(Z, segments: np.ndarray) -> np.ndarray:
    """``Z`` as a ``(b, d)`` bool array with a column for every label of ``segments``."""
    try:
        Z = np.asarray(Z)
    except (TypeError, ValueError) as err:  # ragged lists
        raise TypeError(f"Z must be a (b, d) array of 0/1 masks, got {type(Z).__name__}") from err
    if Z.ndim != 2:
        raise ValueError(f"Z must be a 2-D array of masks (b, d), got shape {Z.shape}")
    if Z.dtype.kind not in "biuf":
        raise TypeError(f"Z must hold 0/1 or booleans, got dtype {Z.dtype}")
    if Z.dtype.kind != "b" and not np.all((Z == 0) | (Z == 1)):
        raise ValueError("Z must hold only 0 and 1 (or booleans)")
    d_needed = int(segments.max()) + 1 if segments.size else 0
    if Z.shape[1] < d_needed:
        raise ValueError(
            f"Z must have one column per superpixel ({d_needed}, the largest label + 1), "
            f"got {Z.shape[1]}")
    return Z.astype(bool, copy=False)


def _check_baseline_image(baseline, image: np.ndarray) -> np.ndarray:
    """``baseline`` (an image, a colour or a number) checked against the image's shape.

    A plain number is returned as it is, so ``np.where`` gives the result the dtype it
    would give without the check (a Python float on a uint8 image keeps uint8)."""
    given = baseline
    try:
        baseline = np.asarray(baseline)
    except (TypeError, ValueError) as err:
        raise TypeError(f"baseline must be an image, a colour or a number, got "
                        f"{type(baseline).__name__}") from err
    if baseline.dtype.kind not in "biuf":
        raise TypeError(f"baseline must hold numbers, got dtype {baseline.dtype}")
    try:
        baseline = np.broadcast_to(baseline, image.shape)
    except ValueError as err:
        raise ValueError(
            f"baseline must be an image of the image's shape {image.shape} (or a colour or a "
            f"number), got shape {baseline.shape}") from err
    if baseline.dtype.kind == "f" and not np.all(np.isfinite(baseline)):
        raise ValueError("baseline contains NaN or infinite values")
    return given if np.ndim(given) == 0 else baseline


def masked_images(image, segments, Z, baseline) -> np.ndarray:
    """The images of the masks ``Z``: pixel ``u`` of superpixel ``j`` shows ``image[u]``
    where ``Z[:, j]`` is 1 and ``baseline[u]`` elsewhere.

    The one home of "masked images" (LIME's perturbations, the exact LIME limits,
    deletion and insertion curves). ``keep = Z[:, segments]`` is a single lookup.

    Parameters
    ----------
    image : numpy.ndarray, shape ``(H, W)`` or ``(H, W, C)``
    segments : numpy.ndarray of int, shape ``(H, W)``
        Labels ``0 .. d-1``.
    Z : array-like of bool or 0/1, shape ``(b, d)``
    baseline : numpy.ndarray of the image's shape, a colour or a number
        What hidden pixels show (see :func:`replacement_image`).

    Returns
    -------
    numpy.ndarray, shape ``(b, *image.shape)``

    Examples
    --------
    >>> img, base = np.ones((1, 2)), np.zeros((1, 2))
    >>> masked_images(img, np.array([[0, 1]]), [[1, 0], [0, 1]], base).tolist()
    [[[1.0, 0.0]], [[0.0, 1.0]]]
    """
    image = _check_image_array(image)
    segments = check_segments_for(segments, image)
    Z = _check_masks(Z, segments)
    baseline = _check_baseline_image(baseline, image)
    return _masked(image, _pixel_lookup(image, segments), Z, baseline)


def _masked(image: np.ndarray, lookup: np.ndarray, Z: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """:func:`masked_images` after the checks, with the lookup of :func:`_pixel_lookup`."""
    keep = Z[:, lookup].reshape((len(Z),) + image.shape)
    return np.where(keep, image, baseline)


@renamed_arguments({"fudged": "baseline"})
def perturb_image_batches(image, segments, Z, baseline, batch_size: int | None = None) -> Iterator[np.ndarray]:
    """Yield the perturbed images for the masks ``Z``, ``batch_size`` at a time.

    Each batch is :func:`masked_images` of ``batch_size`` masks, so memory stays
    O(batch_size). The arguments are checked when it is called, before the first batch.

    See the course notebook ``course/05_lime_images.ipynb``.

    Parameters
    ----------
    image, segments, Z, baseline
        As in :func:`masked_images` (``baseline`` was called ``fudged``, lime's name).
    batch_size : int or None
        Masks per batch; None sizes batches by bytes (:func:`image_batch_size`).

    Yields
    ------
    numpy.ndarray, shape ``(<= batch_size, *image.shape)``
    """
    image = _check_image_array(image)
    if batch_size is None:
        batch_size = image_batch_size(image)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    segments = check_segments_for(segments, image)
    Z = _check_masks(Z, segments)
    baseline = _check_baseline_image(baseline, image)
    lookup = _pixel_lookup(image, segments)
    return (_masked(image, lookup, Z[start : start + batch_size], baseline)
            for start in range(0, Z.shape[0], batch_size))


# ---------------------------------------------------------------- text

WORD_SPLIT = r"\W+"
#: What a hidden word (``bow=False``) or character (``char_level=True, bow=False``) becomes
#: when ``mask_string`` is None: lime's defaults.
WORD_MASK, CHAR_MASK = "UNKWORDZ", chr(0)


@dataclass
class TextDomain:
    """A text cut into pieces (words and the separators between them, or characters).

    ``features`` are the interpretable features: distinct words when ``bow`` is True
    (hiding a word hides every occurrence), word positions when ``bow`` is False;
    with ``char_level`` the pieces are the characters and every character is a word.
    ``piece_feature[i]`` is the feature of piece ``i`` (-1 for separators).
    """

    text: str
    pieces: np.ndarray
    piece_feature: np.ndarray
    features: list[str]
    bow: bool
    mask_string: str
    char_level: bool = False


def _split_with_tokens(text: str, tokens: list[str]) -> list[str]:
    """``text`` cut around ``tokens`` found in order (lime's ``_segment_with_tokens``):
    the text between two tokens is a separator piece. Linear in the text's length."""
    pieces, at = [], 0
    for token in tokens:
        found = text.find(token, at)
        if found < 0:
            raise ValueError(
                f"split_expression returned a token that is not in the text (in order): {token!r}")
        if found > at:
            pieces.append(text[at:found])
        pieces.append(token)
        at = found + len(token)
    if at < len(text):
        pieces.append(text[at:])
    return pieces


def _pieces(text: str, split_expression, char_level: bool) -> tuple[list[str], list[bool]]:
    """The pieces of ``text`` and whether each one is a word (lime's ``IndexedString`` /
    ``IndexedCharacters``)."""
    if char_level:
        return list(text), [True] * len(text)
    if callable(split_expression):
        tokens = split_expression(text)
        if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
            raise TypeError(
                f"split_expression must return a list of str (the tokens), got {tokens!r:.80}")
        tokens = [t for t in tokens if t]
        pieces = _split_with_tokens(text, tokens)
        words = set(tokens)
        return pieces, [p in words for p in pieces]
    if not isinstance(split_expression, str):
        raise TypeError(
            f"split_expression must be a regular expression (str) or a callable, "
            f"got {type(split_expression).__name__}")
    try:
        splitter = re.compile(rf"({split_expression})|$")  # exactly lime's splitter
    except re.error as err:
        raise ValueError(f"split_expression is not a valid regular expression: {err}") from err
    pieces = [p for p in splitter.split(text) if p]
    return pieces, [splitter.match(p) is None for p in pieces]


def tokenise(text: str, bow: bool = True, mask_string: str | None = None, *,
             split_expression=WORD_SPLIT, char_level: bool = False) -> TextDomain:
    r"""Split ``text`` like lime: ``re.split(f"({split_expression})|$")`` keeping the
    separators; every piece the expression does not match is a word. Features are
    numbered in order of first appearance.

    See the course notebook ``course/04_lime_text.ipynb``.

    Parameters
    ----------
    text : str
    bow : bool
        Distinct words (True) or word positions (False) are the features.
    mask_string : str or None
        What a hidden word becomes when ``bow`` is False. None: lime's default,
        ``"UNKWORDZ"`` (``chr(0)`` with ``char_level``).
    split_expression : str or callable, keyword-only
        A regular expression matching the separators (lime's default ``r"\W+"``), or
        a function ``text -> list of tokens`` (a tokenizer); the tokens must appear in
        the text in order, what lies between them is a separator.
    char_level : bool, keyword-only
        Every character (spaces and punctuation too) is a word, as lime's
        ``char_level=True``; ``split_expression`` is then not used.

    Returns
    -------
    TextDomain

    Examples
    --------
    >>> tokenise("good, very good").features
    ['good', 'very']
    >>> tokenise("good, very good", split_expression=r"\s+").features
    ['good,', 'very', 'good']
    >>> tokenise("abba", char_level=True).features
    ['a', 'b']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not isinstance(bow, (bool, np.bool_)):
        raise TypeError(f"bow must be True or False, got {bow!r}")
    if not isinstance(char_level, (bool, np.bool_)):
        raise TypeError(f"char_level must be True or False, got {char_level!r}")
    if mask_string is None:
        mask_string = CHAR_MASK if char_level else WORD_MASK
    if not isinstance(mask_string, str):
        raise TypeError(
            f"mask_string must be a str (or None for lime's default), "
            f"got {type(mask_string).__name__} {mask_string!r:.40}")
    pieces, is_word = _pieces(text, split_expression, bool(char_level))
    vocab: dict[str, int] = {}
    features: list[str] = []
    piece_feature = np.full(len(pieces), -1, dtype=int)
    for i, (piece, word) in enumerate(zip(pieces, is_word, strict=True)):
        if not word:
            continue
        if bow:
            if piece not in vocab:
                vocab[piece] = len(features)
                features.append(piece)
            piece_feature[i] = vocab[piece]
        else:
            piece_feature[i] = len(features)
            features.append(piece)
    if not features:
        what = "character" if char_level else "word"
        raise ValueError(f"text must contain at least one {what}, got {text!r:.80}")
    array = np.empty(len(pieces), dtype=object)
    array[:] = pieces
    return TextDomain(text, array, piece_feature, features, bool(bow), mask_string,
                      bool(char_level))


def check_masks(Z, d: int, name: str = "Z") -> np.ndarray:
    """``Z`` as an ``(n, d)`` bool array, checking it holds masks: 0/1 (or bool) values
    and one column per feature."""
    try:
        arr = np.asarray(Z)
        if arr.dtype != bool:
            arr = np.asarray(Z, dtype=float)
    except (TypeError, ValueError) as err:  # strings, ragged lists
        raise TypeError(f"{name} must be an array of 0/1 masks, got {type(Z).__name__}") from err
    if arr.ndim != 2 or arr.shape[1] != d:
        raise ValueError(
            f"{name} must have shape (n, {d}): one column per feature of the text, "
            f"got shape {arr.shape}")
    if arr.dtype != bool:
        if not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must hold only 0 and 1 (keep or hide a feature)")
        arr = arr == 1
    return arr


def perturb_text(domain: TextDomain, Z) -> list[str]:
    """The texts for the masks ``Z``: hidden words are removed (bag of words) or replaced
    by ``mask_string`` at their position (``bow=False``, as lime does).

    One text is built at a time (memory: the texts themselves, never an
    ``(n, pieces)`` array of strings).

    See the course notebook ``course/04_lime_text.ipynb``.

    Parameters
    ----------
    domain : TextDomain
        From :func:`tokenise`.
    Z : array-like of bool or 0/1, shape ``(n, d)``
        ``d = len(domain.features)``.

    Returns
    -------
    list of str
        One text per mask.

    Examples
    --------
    >>> perturb_text(tokenise("a good film"), [[1, 0, 1]])
    ['a  film']
    """
    if not isinstance(domain, TextDomain):
        raise TypeError(f"domain must be a TextDomain (from tokenise), got {type(domain).__name__}")
    Z = check_masks(Z, len(domain.features))
    word_at = np.flatnonzero(domain.piece_feature >= 0)
    word_feature = domain.piece_feature[word_at]
    keep = np.ones(len(domain.pieces), dtype=bool)
    texts = []
    for z in Z:
        keep[word_at] = z[word_feature]
        if domain.bow:
            texts.append("".join(domain.pieces[keep]))
        else:
            # an object array keeps mask_string a Python str (numpy's str dtype would
            # drop a trailing chr(0), lime's character mask)
            masked = domain.pieces.copy()
            masked[~keep] = domain.mask_string
            texts.append("".join(masked))
    return texts


# ---------------------------------------------------------------- tables

#: How tabular LIME draws rows: inside the bins of a discretiser (lime's
#: ``discretizer="quartile"``, ``"decile"``, ``"entropy"``) or from a Gaussian
#: (lime's ``discretize_continuous=False``).
SAMPLINGS = ("quartile", "decile", "entropy", "gaussian")
#: Percentiles that cut a continuous column, per discretiser (lime's).
PERCENTILES = {"quartile": (25, 50, 75), "decile": (10, 20, 30, 40, 50, 60, 70, 80, 90)}
#: Largest magnitude accepted in a table: differences of two entries must stay finite.
MAX_TABLE_MAGNITUDE = 1e300
#: Depth of lime's entropy tree (at most 2^3 = 8 bins per column).
ENTROPY_MAX_DEPTH = 3


def truncated_normal(rng: np.random.Generator, lo, hi, mu, sd, index=None) -> np.ndarray:
    """Draw ``x ~ N(mu, sd^2)`` conditioned on ``lo <= x <= hi``.

    Inverse-CDF sampling: with ``a = (lo - mu) / sd``, ``b = (hi - mu) / sd`` and
    ``u ~ U(0, 1)``, ``x = mu + sd * Phi^{-1}(Phi(a) + u (Phi(b) - Phi(a)))``. Intervals
    in the upper tail (``a > 0``) are mirrored to the lower tail, where ``Phi`` keeps its
    precision: there ``x = mu - sd * Phi^{-1}(...)`` on ``[-b, -a]``. The result is clipped
    to ``[lo, hi]`` against rounding (an interval of zero width returns ``lo``).

    ``lo, hi, mu, sd`` are arrays of the same shape. Without ``index`` one value is drawn
    per entry; with an int array ``index``, one value is drawn per entry of ``index``
    from the interval ``index`` points to (``Phi`` is then evaluated once per interval).
    """
    from scipy.special import ndtr, ndtri

    lo, hi, mu, sd = (np.asarray(v, dtype=float) for v in (lo, hi, mu, sd))
    a, b = (lo - mu) / sd, (hi - mu) / sd
    sign = np.where(a > 0, -1.0, 1.0)  # -1: mirror the interval to the lower tail
    cdf_a = ndtr(np.minimum(sign * a, sign * b))
    cdf_b = ndtr(np.maximum(sign * a, sign * b))
    scale = sign * sd
    if index is not None:
        cdf_a, cdf_b, mu, scale, lo, hi = (v[index] for v in (cdf_a, cdf_b, mu, scale, lo, hi))
    z = ndtri(cdf_a + rng.random(np.shape(cdf_a)) * (cdf_b - cdf_a))
    return np.clip(mu + scale * z, lo, hi)


def draw_categories(rng: np.random.Generator, values: np.ndarray, freqs: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws from ``values`` with probabilities ``freqs`` (inverse CDF of a categorical)."""
    cumulative = np.cumsum(freqs)
    index = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    return values[np.minimum(index, len(values) - 1)]


def _column_indices(indices, name: str) -> list:
    """Column indices given as a list, tuple, range or 1-d integer array (lime passes
    ``np.where(mask)[0]``); ``None`` means none. Never test an array's truth value: for
    ``np.array([0])`` it is False and column 0 would be silently dropped."""
    if indices is None:
        return []
    if isinstance(indices, (str, bytes)) or np.ndim(indices) != 1:
        raise TypeError(f"{name} must be a sequence of column indices, got {indices!r}")
    return [j.item() if isinstance(j, np.generic) else j for j in indices]


def _is_bool_mask(value) -> bool:
    """True for a 1-d sequence of bools (``[True, False]``, ``np.array(mask)``), not ``[]``."""
    if value is None or isinstance(value, (str, bytes)) or np.ndim(value) != 1 or len(value) == 0:
        return False
    return np.asarray(value).dtype == bool


def _feature_names(feature_names, p: int) -> list[str]:
    """``feature_names`` as ``p`` strings; a single ``str`` is refused (it is not a list
    of names: ``'abcd'`` would become four one-letter names)."""
    if feature_names is None:
        return [str(j) for j in range(p)]
    try:
        rank = np.ndim(feature_names)
    except ValueError:  # a ragged nest numpy cannot shape
        rank = 2
    if isinstance(feature_names, (str, bytes)) or rank != 1:
        raise TypeError(
            f"feature_names must be a list of {p} names, got {type(feature_names).__name__} "
            f"{feature_names!r:.60}")
    names = [str(f) for f in feature_names]
    if len(names) != p:
        raise ValueError(f"feature_names must have {p} entries, got {len(names)}")
    return names


def _scale(column: np.ndarray) -> float:
    """A power of two ``s`` with ``column / s`` of order 1 when ``max |column|`` is above
    1e100 or below 1e-100 (so ``column**2`` can neither overflow nor underflow), else 1.
    Dividing by a power of two is exact: the statistics below are bit for bit those of
    the unscaled column, times ``s``."""
    biggest = float(np.max(np.abs(column), initial=0.0))
    if biggest == 0 or 1e-100 <= biggest <= 1e100:
        return 1.0
    return float(2.0 ** np.floor(np.log2(biggest)))


def percentile_edges(column, percentiles) -> np.ndarray:
    """Bin edges of a column at the given ``percentiles`` (lime's quartile and decile
    discretisers), repeated edges merged: ``np.unique(np.percentile(column, q))``.

    Parameters
    ----------
    column : (m,) array of float
    percentiles : sequence of float in [0, 100]
        :data:`PERCENTILES` holds lime's: quartiles (25, 50, 75) and deciles.

    Returns
    -------
    numpy.ndarray, sorted distinct edges; bin ``b`` is ``(edges[b-1], edges[b]]``

    Examples
    --------
    >>> percentile_edges(np.arange(9.0), (25, 50, 75)).tolist()
    [2.0, 4.0, 6.0]
    """
    return np.unique(np.percentile(np.asarray(column, dtype=float), percentiles))


def entropy_edges(column, labels, max_depth: int = ENTROPY_MAX_DEPTH) -> np.ndarray:
    """Bin edges of a column from an entropy decision tree on the training labels
    (lime's ``EntropyDiscretizer``: a depth-3 ``DecisionTreeClassifier(criterion=
    "entropy")`` fitted on this one column).

    A node holding the sorted values ``x_1 <= ... <= x_m`` with labels ``y`` is cut at
    the position ``i`` that minimises the weighted child entropy
    ``i H(y_1..y_i) + (m - i) H(y_{i+1}..y_m)``, ``H = -sum_k p_k log p_k``, among the
    positions where ``x_i < x_{i+1}`` (the first one on ties); the edge is the midpoint
    ``(x_i + x_{i+1}) / 2``. Pure nodes, constant nodes and nodes at ``max_depth`` are
    leaves. With no cut at all, the median is the one edge (as lime). Values are rounded
    to float32 first when float32 can hold them, as scikit-learn's tree does, so edges
    and their printed names are lime's; unlike scikit-learn, values closer than 1e-7
    can still be cut apart (lime would fall back to the median for a column of scale
    1e-8).

    Parameters
    ----------
    column : (m,) array of float
    labels : (m,) array of class labels (any values)
    max_depth : int

    Returns
    -------
    numpy.ndarray, sorted edges

    Examples
    --------
    >>> entropy_edges([1.0, 2.0, 3.0, 4.0], [0, 0, 1, 1]).tolist()
    [2.5]
    """
    x = np.asarray(column, dtype=float)
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    # scikit-learn's tree (lime's) sees float32 values; so do we where float32 can hold
    # them, so that an edge such as 0.025 (between 0.02 and 0.03) is lime's 0.0249999...
    # and prints as lime prints it ("0.02")
    with np.errstate(over="ignore", under="ignore"):
        x32 = x.astype(np.float32)
    seen = x
    if np.all(np.isfinite(x32)) and np.all((x == 0) | (np.abs(x32) >= np.finfo(np.float32).tiny)):
        seen = x32.astype(float)
    order = np.argsort(seen, kind="stable")
    xs, onehot = seen[order], np.eye(codes.max() + 1)[codes.ravel()[order]]
    edges: list[float] = []

    def child_entropy(counts, n):  # n H(counts / n), one row per candidate position
        p = counts / n[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            # in bits, class after class, as scikit-learn sums it (ties break alike)
            terms = np.where(p > 0, p * (np.log(p) / np.log(2.0)), 0.0)
        h = np.zeros(len(n))
        for k in range(terms.shape[1]):
            h -= terms[:, k]
        return n * h

    def split(lo: int, hi: int, depth: int) -> None:
        counts = onehot[lo:hi]
        if depth >= max_depth or hi - lo < 2 or counts.sum(axis=0).max() == hi - lo or xs[lo] == xs[hi - 1]:
            return
        left = np.cumsum(counts, axis=0)[:-1]        # position i = 1..m-1: first i rows on the left
        right = counts.sum(axis=0) - left
        n_left = np.arange(1, hi - lo, dtype=float)
        gain = -child_entropy(right, (hi - lo) - n_left) - child_entropy(left, n_left)
        gain[xs[lo + 1 : hi] <= xs[lo : hi - 1]] = -np.inf  # no cut between equal values
        i = int(np.argmax(gain)) + 1
        a, b = xs[lo + i - 1], xs[lo + i]
        mid = a / 2 + b / 2                                   # no overflow near 1e308
        edges.append(float(a if mid >= b else mid))
        split(lo, lo + i, depth + 1)
        split(lo + i, hi, depth + 1)

    split(0, len(xs), 0)
    if not edges:
        return np.array([np.median(x)])
    return np.unique(edges)


def _check_magnitude(X: np.ndarray, name: str) -> None:
    biggest = float(np.max(np.abs(X), initial=0.0))
    if biggest > MAX_TABLE_MAGNITUDE:
        raise ValueError(
            f"{name} must have entries of magnitude <= {MAX_TABLE_MAGNITUDE:g} (differences of "
            f"two values must stay finite), got {biggest:g}; rescale the column")


@dataclass
class TabularSampler:
    """What tabular LIME learns from the training data.

    ``sampling="quartile"`` (lime's default), ``"decile"`` or ``"entropy"``: each
    continuous feature is cut into bins (at its training quartiles, deciles, or the
    cuts of an entropy tree on ``training_labels``, :func:`entropy_edges`); a sample
    draws a bin per feature from the training bin frequencies, then a value inside the
    bin from a normal with that bin's mean and standard deviation truncated to the bin
    (as lime does; drawn here by inverse CDF, :func:`truncated_normal`, not with
    ``scipy.stats.truncnorm``, so the numbers differ from lime's while the distribution
    is the same). The interpretable feature is ``1[bin of sample == bin of instance]``.

    ``sampling="gaussian"`` (lime's ``discretize_continuous=False``):
    ``x' ~ N(c, diag(std^2))`` with the training standard deviations, centred at the
    training mean ``c = mean`` (lime's default) or at the instance ``c = x``
    (``sample_around_instance=True``); the interpretable features are the
    standardised values ``(x' - mean) / std``.

    Categorical features (column indices, or a boolean mask over the columns) are drawn
    from their training frequencies in every mode; their interpretable feature is
    ``1[value == instance's value]``.

    See the course notebook ``course/06_lime_tabular.ipynb``.
    """

    feature_names: list[str]
    categorical: np.ndarray
    sampling: str
    mean: np.ndarray
    std: np.ndarray
    edges: list[np.ndarray]
    values: list[np.ndarray]
    freqs: list[np.ndarray]
    bin_mean: list[np.ndarray]
    bin_std: list[np.ndarray]
    bin_min: list[np.ndarray]
    bin_max: list[np.ndarray]
    sample_around_instance: bool = False

    @property
    def quartiles(self) -> list[np.ndarray]:
        """The bin edges of every column (the old name, from when they were quartiles)."""
        return self.edges

    @classmethod
    def fit(cls, training_data, feature_names=None, categorical_features=(), sampling="quartile",
            *, training_labels=None, sample_around_instance: bool = False):
        """Learn bin edges, bin statistics and frequencies from ``training_data`` (m, p).

        ``training_labels`` (m,) are needed by ``sampling="entropy"`` only (lime's
        ``training_labels``); ``sample_around_instance`` applies to ``"gaussian"`` only.
        """
        X = check_array(training_data, "training_data", ndim=2, min_rows=2)
        check_choice(sampling, "sampling", SAMPLINGS)
        if not isinstance(sample_around_instance, (bool, np.bool_)):
            raise TypeError(f"sample_around_instance must be True or False, got {sample_around_instance!r}")
        if sample_around_instance and sampling != "gaussian":
            raise ValueError(
                f"sample_around_instance=True needs sampling='gaussian'; sampling={sampling!r} "
                "draws every row from the training bins")
        _check_magnitude(X, "training_data")
        m, p = X.shape
        if p == 0:
            raise ValueError(f"training_data must have at least one column, got shape {X.shape}")
        feature_names = _feature_names(feature_names, p)
        categorical = np.zeros(p, dtype=bool)
        if _is_bool_mask(categorical_features):   # a mask over the columns, one bool each
            if len(categorical_features) != p:
                raise ValueError(f"categorical_features as a boolean mask must have {p} entries "
                                 f"(one per column), got {len(categorical_features)}")
            categorical[:] = np.asarray(categorical_features)
            categorical_features = ()
        for j in _column_indices(categorical_features, "categorical_features"):
            categorical[check_int(j, "categorical_features", minimum=0, maximum=p - 1)] = True
        labels = None
        if sampling == "entropy":
            if training_labels is None:
                raise ValueError("training_labels must be given for sampling='entropy' "
                                 "(the entropy tree splits on them), got None")
            labels = np.asarray(training_labels)
            if labels.ndim != 1 or labels.shape[0] != m:
                raise ValueError(f"training_labels must have shape ({m},) (one per training row), "
                                 f"got shape {labels.shape}")
            if labels.dtype.kind in "fc" and not np.all(np.isfinite(labels)):
                raise ValueError("training_labels contains NaN or infinite values")
        scales = np.array([_scale(X[:, j]) for j in range(p)])
        mean = (X / scales).mean(axis=0) * scales
        std = (X / scales).std(axis=0) * scales
        std[std == 0] = 1.0
        fields = {k: [] for k in ("edges", "values", "freqs", "bin_mean", "bin_std", "bin_min", "bin_max")}
        for j in range(p):
            col = X[:, j]
            if sampling == "gaussian" and not categorical[j]:   # drawn from a normal, no bins
                for key in fields:
                    fields[key].append(np.array([]))
                continue
            if categorical[j]:
                edges, codes = np.array([]), col
            else:
                edges = (entropy_edges(col, labels) if sampling == "entropy"
                         else percentile_edges(col, PERCENTILES.get(sampling, PERCENTILES["quartile"])))
                codes = np.searchsorted(edges, col)
            values, counts = np.unique(codes, return_counts=True)
            fields["edges"].append(edges)
            fields["values"].append(values)
            fields["freqs"].append(counts / counts.sum())
            if categorical[j]:
                for key in ("bin_mean", "bin_std", "bin_min", "bin_max"):
                    fields[key].append(np.array([]))
                continue
            # per-bin mean and standard deviation (0 for empty bins, + 1e-11 as lime),
            # computed on col / s so that squares can neither overflow nor underflow
            # (the 1e-11 is in units of s: lime's absolute 1e-11 whenever s = 1)
            s = scales[j]
            scaled = col / s
            n_bins = len(edges) + 1
            size = np.bincount(codes, minlength=n_bins)
            total = np.bincount(codes, weights=scaled, minlength=n_bins)
            squares = np.bincount(codes, weights=scaled**2, minlength=n_bins)
            bin_mean = np.divide(total, size, out=np.zeros(n_bins), where=size > 0)
            var = np.divide(squares, size, out=np.zeros(n_bins), where=size > 0) - bin_mean**2
            fields["bin_mean"].append(s * bin_mean)
            fields["bin_std"].append(s * (np.sqrt(np.clip(var, 0, None)) + 1e-11))
            fields["bin_min"].append(np.concatenate([[col.min()], edges]))
            fields["bin_max"].append(np.concatenate([edges, [col.max()]]))
        return cls(feature_names, categorical, sampling, mean, std, **fields,
                   sample_around_instance=bool(sample_around_instance))

    def _check_row(self, row) -> np.ndarray:
        p = len(self.feature_names)
        row = check_array(row, "row", ndim=1)
        if row.shape[0] != p:
            raise ValueError(f"row must have {p} entries (one per training column), got {row.shape[0]}")
        _check_magnitude(row, "row")
        return row

    def bins(self, X) -> np.ndarray:
        """Bin index (or category value) of every entry of ``X`` (n, p)."""
        X = np.atleast_2d(X)
        out = X.astype(float).copy()
        for j in np.flatnonzero(~self.categorical):
            out[:, j] = np.searchsorted(self.edges[j], X[:, j])
        return out

    def represent(self, X, row) -> np.ndarray:
        """The interpretable representation ``Z`` of model inputs ``X`` (n, p) around ``row``.

        Binned modes: ``Z_ij = 1[bin of X_ij == bin of row_j]``. Gaussian mode:
        ``Z_ij = (X_ij - mean_j) / std_j`` for continuous columns and
        ``1[X_ij == row_j]`` for categorical ones (lime's ``scaled_data``).
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        row = np.asarray(row, dtype=float)
        same = self.bins(X) == self.bins(row[None, :])
        if self.sampling != "gaussian":
            return same.astype(float)
        return np.where(self.categorical, same, (X - self.mean) / self.std)

    @staticmethod
    def _category_name(name: str, value: float) -> str:
        """``"colour=2"`` for an integral value (lime's ``'%s=%s' % (name, int(value))``),
        ``"colour=2.5"`` otherwise."""
        value = float(value)
        return f"{name}={int(value)}" if value.is_integer() else f"{name}={value!r}"

    def names(self, row) -> list[str]:
        """Readable interpretable features for ``row``, lime's strings: ``"age <= 30.00"``,
        ``"30.00 < age <= 45.00"``, ``"age > 45.00"``, ``"colour=2"``; plain names
        for continuous features in gaussian mode."""
        out = []
        for j, name in enumerate(self.feature_names):
            if self.categorical[j]:
                out.append(self._category_name(name, row[j]))
            elif self.sampling == "gaussian":
                out.append(name)
            else:
                q = self.edges[j]
                b = int(np.searchsorted(q, row[j]))
                if b == 0:
                    out.append(f"{name} <= {q[0]:.2f}")
                elif b == len(q):
                    out.append(f"{name} > {q[-1]:.2f}")
                else:
                    out.append(f"{q[b - 1]:.2f} < {name} <= {q[b]:.2f}")
        return out

    @renamed_arguments({"rng": "random_state"},
                       old_positional=("self", "row", "num_samples", "random_state"))
    def sample(self, row, num_samples: int, *,
               random_state: RandomState = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``num_samples`` rows; row 0 is ``row`` itself.

        Parameters
        ----------
        row : numpy.ndarray, shape ``(p,)``
        num_samples : int
        random_state : int, numpy.random.Generator or None
            A generator is used as it is (and advanced).

        Returns
        -------
        Z : (n, p) interpretable representation (row 0: all ones for binary features)
        X : (n, p) model inputs
        """
        row = self._check_row(row)
        n = check_int(num_samples, "num_samples", minimum=1)
        rng, _ = check_random_state(random_state)
        p = len(self.feature_names)
        X = np.empty((n, p))
        Z = np.ones((n, p))
        row_bins = self.bins(row[None, :])[0]
        if self.sampling == "gaussian":
            centre = row if self.sample_around_instance else self.mean
            X[:] = centre + rng.normal(size=(n, p)) * self.std
        for j in range(p):
            if self.sampling == "gaussian" and not self.categorical[j]:
                continue
            drawn = draw_categories(rng, self.values[j], self.freqs[j], n)
            Z[:, j] = drawn == row_bins[j]   # the drawn bin (lime's data), not re-binned
            if self.categorical[j]:
                X[:, j] = drawn
                continue
            # a bin of zero width (a repeated edge value) holds that single value
            X[:, j] = truncated_normal(
                rng, self.bin_min[j], self.bin_max[j], self.bin_mean[j], self.bin_std[j],
                index=drawn.astype(int),
            )
        X[0] = row
        Z[0] = 1.0
        if self.sampling == "gaussian":
            Z[:, ~self.categorical] = (X[:, ~self.categorical] - self.mean[~self.categorical]) / self.std[~self.categorical]
        return Z, X
