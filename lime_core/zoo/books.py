"""Sparse "books-like" classifiers for the LIME paper's faithfulness experiment.

Ribeiro, Singh and Guestrin trained classifiers that use few words *by design*
(a logistic regression restricted to 10 words, a shallow decision tree), so for each
document the set of words the model really uses is known. An explanation is then
scored by recall: ``|top-10 words of the explanation ∩ gold| / |gold|`` where
``gold`` is the model's true features that appear in the document.

Here the reviews are bags of made-up words (so no English prior helps), drawn from a
Zipf-like vocabulary; the label comes from a hidden linear rule over 20 words
plus noise. The sparse models below are trained on that data; their
``true_features`` are exact.

See the course notebook ``course/07_did_lime_find_the_truth.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    RandomState,
    check_callable,
    check_int,
    check_model_output,
    check_random_state,
)
from lime_core.zoo.text import TextDataset, check_texts, tokenize

BOOKS_CLASSES = ("negative", "positive")
_SYLLABLES = ("ba", "ko", "mi", "ru", "te", "lo", "pa", "ni", "sa", "du", "fe", "go", "vi",
              "ze", "ha", "jo")


def _make_vocabulary(size: int) -> tuple[str, ...]:
    """``size`` distinct three-syllable made-up words, always the same ones."""
    rng = np.random.default_rng(12345)
    words: list[str] = []
    seen = set()
    while len(words) < size:
        w = "".join(_SYLLABLES[i] for i in rng.integers(len(_SYLLABLES), size=3))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return tuple(words)


@dataclass
class BooksDataset(TextDataset):
    """:class:`TextDataset` plus the generator's hidden rule.

    Attributes
    ----------
    rule_words : tuple of str
        The 20 words whose presence moves the label.
    rule_weights : ndarray (20,)
        Their weights in the hidden score.
    """

    rule_words: tuple[str, ...] = ()
    rule_weights: np.ndarray | None = None


@renamed_arguments(old_positional=('n_train', 'n_test', 'random_state'))
def load_books(n_train: int = 1000, n_test: int = 200, *, random_state: RandomState = 0,
               vocab_size: int = 300, doc_length: int = 40) -> BooksDataset:
    """Bag-of-words "book reviews" with a hidden linear labelling rule.

    Each review draws ``doc_length`` words with probabilities ``p_j ∝ 1 / (j + 10)``
    over a made-up vocabulary. Twenty words ``R`` (ranks 5..44, every other one)
    carry weights ``w_r = ±(1 .. 2)``; the label is
    ``y = 1[ sum_{r in R} w_r 1[r in doc] + eps > 0 ]`` with ``eps ~ N(0, 0.5^2)``
    (then shifted by the median so classes are balanced).

    Parameters
    ----------
    n_train, n_test : int
    random_state : int or numpy.random.Generator
    vocab_size : int
        Number of distinct words (>= 50).
    doc_length : int
        Words per review (with repeats).

    Returns
    -------
    BooksDataset
    """
    n_train = check_int(n_train, "n_train", minimum=2)
    n_test = check_int(n_test, "n_test", minimum=2)
    vocab_size = check_int(vocab_size, "vocab_size", minimum=50)
    doc_length = check_int(doc_length, "doc_length", minimum=5)
    rng, recorded = check_random_state(random_state)
    vocab = _make_vocabulary(vocab_size)
    freq = 1.0 / (np.arange(vocab_size) + 10.0)
    freq /= freq.sum()
    rule_idx = np.arange(5, 45, 2)
    signs = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    weights = signs * rng.uniform(1.0, 2.0, size=20)
    n = n_train + n_test
    ids = rng.choice(vocab_size, size=(n, doc_length), p=freq)
    present = np.zeros((n, vocab_size), dtype=bool)
    present[np.arange(n)[:, None], ids] = True
    score = present[:, rule_idx] @ weights + rng.normal(0.0, 0.5, size=n)
    labels = (score > np.median(score)).astype(np.int64)
    texts = [" ".join(vocab[i] for i in row) for row in ids]
    rule = ("label = 1[sum_r w_r 1[r in review] + eps > median], eps ~ N(0, 0.25), over the "
            "20 words in rule_words with weights rule_weights")
    return BooksDataset(texts[:n_train], labels[:n_train], texts[n_train:], labels[n_train:],
                        BOOKS_CLASSES, rule, recorded, {}, vocab,
                        rule_words=tuple(vocab[i] for i in rule_idx), rule_weights=weights)


def bag_of_words(texts: Sequence[str], vocabulary: Sequence[str]) -> np.ndarray:
    """Binary presence matrix ``X[i, j] = 1[vocabulary[j] in texts[i]]`` (float)."""
    index = {w: j for j, w in enumerate(vocabulary)}
    X = np.zeros((len(texts), len(vocabulary)))
    for i, t in enumerate(texts):
        cols = [index[w] for w in tokenize(t) if w in index]
        X[i, cols] = 1.0
    return X


@dataclass
class SparseTextModel:
    """A text classifier that uses a known, small set of words.

    ``predict_proba(list_of_str) -> (n, 2)`` reads the binary bag of words over
    ``vocabulary`` restricted to ``columns``.

    Attributes
    ----------
    vocabulary : tuple of str
    columns : ndarray of int
        Vocabulary columns the estimator sees.
    estimator : scikit-learn classifier
    true_features : tuple of str
        The words the model really uses (its planted ground truth).
    class_names : tuple of str
    description : str
    """

    vocabulary: tuple[str, ...]
    columns: np.ndarray
    estimator: Any
    true_features: tuple[str, ...]
    class_names: tuple[str, ...]
    description: str

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(n, 2)`` for a list of ``n`` strings."""
        texts = check_texts(texts)
        X = bag_of_words(texts, self.vocabulary)[:, self.columns]
        return self.estimator.predict_proba(X)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts).argmax(axis=1)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts)

    def gold_features(self, text: str) -> set[str]:
        """The true features that occur in ``text`` (the paper's per-document gold set)."""
        return set(tokenize(text)) & set(self.true_features)


def train_books_logreg(dataset: BooksDataset | None = None, n_words: int = 10) -> SparseTextModel:
    """Logistic regression that uses exactly ``n_words`` words.

    The words are the ``n_words`` largest ``|w_j|`` of an L1-penalised logistic
    regression on all words; the model is then refit (L2, C=10) on those columns
    only, ``p(y=1|x) = sigmoid(sum_{j in S} w_j x_j + b)`` with ``|S| = n_words``.

    Parameters
    ----------
    dataset : BooksDataset, optional
        Default :func:`load_books`.
    n_words : int
        Words the model may use.

    Returns
    -------
    SparseTextModel
    """
    from sklearn.linear_model import LogisticRegression

    dataset = load_books() if dataset is None else dataset
    n_words = check_int(n_words, "n_words", minimum=1, maximum=len(dataset.vocabulary))
    X = bag_of_words(dataset.train_texts, dataset.vocabulary)
    lasso = LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.5)
    lasso.fit(X, dataset.train_labels)
    columns = np.sort(np.argsort(-np.abs(lasso.coef_[0]), kind="stable")[:n_words])
    model = LogisticRegression(C=10.0, max_iter=1000).fit(X[:, columns], dataset.train_labels)
    words = tuple(dataset.vocabulary[j] for j in columns)
    return SparseTextModel(dataset.vocabulary, columns, model, words, dataset.class_names,
                           f"logistic regression on exactly {n_words} words")


@renamed_arguments(old_positional=('dataset', 'max_depth', 'random_state'))
def train_books_tree(dataset: BooksDataset | None = None, max_depth: int = 4,
                     *, random_state: int = 0) -> SparseTextModel:
    """A shallow decision tree on the binary bag of words.

    ``true_features`` are the words used in its split nodes (at most
    ``2^max_depth - 1``).

    Parameters
    ----------
    dataset : BooksDataset, optional
    max_depth : int
    random_state : int

    Returns
    -------
    SparseTextModel
    """
    from sklearn.tree import DecisionTreeClassifier

    dataset = load_books() if dataset is None else dataset
    max_depth = check_int(max_depth, "max_depth", minimum=1)
    X = bag_of_words(dataset.train_texts, dataset.vocabulary)
    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=random_state)
    tree.fit(X, dataset.train_labels)
    used = np.unique(tree.tree_.feature[tree.tree_.feature >= 0])
    words = tuple(dataset.vocabulary[j] for j in used)
    return SparseTextModel(dataset.vocabulary, np.arange(len(dataset.vocabulary)), tree, words,
                           dataset.class_names, f"decision tree of depth {max_depth}")


@renamed_arguments({"predict_proba": "classifier_fn", "label": "target"})
def greedy_removal_explainer(text: str, classifier_fn: Callable, num_features: int = 10,
                             target: int | None = None) -> list[tuple[str, float]]:
    """The LIME paper's greedy baseline: remove the most important word, repeat.

    Starting from the full document, at each step try removing every remaining
    distinct word (all its occurrences) and keep the removal that lowers
    ``p(target | text)`` most; its drop is the word's weight. ``num_features`` steps,
    one batched model call per step.

    Parameters
    ----------
    text : str
    classifier_fn : callable
        ``list of str -> (n, k)``.
    num_features : int
    target : int, optional
        Class to explain; default the predicted class of ``text``.

    Returns
    -------
    list of (word, drop)
        In the order the words were removed.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    check_callable(classifier_fn, "classifier_fn")
    num_features = check_int(num_features, "num_features", minimum=1)
    tokens = text.split()
    base = check_model_output(classifier_fn([text]), 1, "classifier_fn")[0]
    target = int(np.argmax(base)) if target is None else check_int(target, "target", minimum=0)
    removed: set[str] = set()
    current = float(base[target])
    result: list[tuple[str, float]] = []
    for _ in range(num_features):
        candidates = sorted({w for w in tokens if w.lower() not in removed}, key=str.lower)
        candidates = list(dict.fromkeys(w.lower() for w in candidates))
        if not candidates:
            break
        batch = [" ".join(t for t in tokens if t.lower() not in removed | {c}) for c in candidates]
        probs = check_model_output(classifier_fn(batch), len(batch), "classifier_fn")[:, target]
        best = int(np.argmin(probs))
        result.append((candidates[best], current - float(probs[best])))
        removed.add(candidates[best])
        current = float(probs[best])
    return result


@renamed_arguments({"predict_proba": "classifier_fn", "label": "target"})
def word_presence_model(text: str, classifier_fn: Callable,
                        target: int = 1) -> tuple[list[str], Callable[[np.ndarray], np.ndarray]]:
    """Turn a text model into a function of binary word-presence vectors.

    ``g(z) = p(target | text with every occurrence of word j removed where z_j = 0)``
    over the distinct words of ``text`` (split on whitespace, in order of first
    appearance). ``g(1, ..., 1)`` is the model on the full text and ``g(0, ..., 0)`` on
    the empty text, so Shapley-value methods can explain a text with the all-zeros
    row as background: ``kernel_shap(g, ones(d), zeros((1, d)))``.

    Parameters
    ----------
    text : str
    classifier_fn : callable
        ``list of str -> (n, k)`` probabilities (was ``predict_proba``).
    target : int
        Class whose probability ``g`` returns (was ``label``).

    Returns
    -------
    words : list of str
    g : callable
        ``(n, d)`` 0/1 array -> ``(n,)`` probabilities.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    check_callable(classifier_fn, "classifier_fn")
    target = check_int(target, "target", minimum=0)
    tokens = text.split()
    words = list(dict.fromkeys(tokens))
    index = {w: j for j, w in enumerate(words)}
    column = np.array([index[t] for t in tokens], dtype=np.int64)

    def g(Z: np.ndarray) -> np.ndarray:
        keep = np.asarray(Z)[:, column] > 0
        texts = [" ".join(t for t, k in zip(tokens, row, strict=True) if k) for row in keep]
        out = check_model_output(classifier_fn(texts), len(texts), "classifier_fn")
        return out[:, target]

    return words, g
