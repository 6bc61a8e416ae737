"""A two-topic newsgroup corpus whose e-mail headers leak the label.

The lecture's "right for the wrong reason" example: a classifier separates
"christianity" from "atheism" posts with high test accuracy, and LIME shows that it
relies on the header word "Posting" (from ``NNTP-Posting-Host:``) rather than on
the text. Here the leak is planted on purpose: in the train split and the *leaky*
test split, atheism posts carry a ``NNTP-Posting-Host`` line 95% of the time and
christianity posts 5% of the time; in the *clean* test split every post carries it
with probability 1/2, independent of the label. A model that learned the shortcut
loses accuracy on the clean split.

See the course notebook ``course/04_lime_text.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import RandomState, check_int, check_random_state
from lime_core.zoo.text import TextDataset, TextModel

NEWSGROUP_CLASSES = ("atheism", "christianity")
LEAK_WORD = "Posting"

ATHEISM_WORDS = (
    "evidence", "atheist", "atheists", "science", "reason", "proof", "argument", "logic",
    "religion", "claims", "rational", "skeptic", "dogma", "morality", "secular", "natural",
)
CHRISTIAN_WORDS = (
    "god", "jesus", "christ", "church", "bible", "faith", "prayer", "heaven", "scripture",
    "gospel", "sin", "grace", "lord", "salvation", "spirit", "worship",
)
SHARED_WORDS = (
    "people", "think", "believe", "question", "know", "world", "true", "point", "say",
    "life", "many", "read", "book", "good", "time", "post", "answer", "mean", "agree",
    "wrong", "history", "example", "simply", "really", "course", "thing", "view", "fact",
)
NAMES = ("jon", "mark", "keith", "sarah", "paul", "anna", "david", "mike", "lisa", "tom")
ORGANIZATIONS = ("University", "College", "Institute", "Labs", "Systems", "Network")
SITES = ("cs", "math", "phys", "ee", "lib", "mail")

NEWSGROUPS_RULE = (
    "Labels are the topic the body was drawn from: each body word comes from the "
    "label's topic vocabulary with probability 0.3, from the other topic with 0.1 and "
    "from a shared vocabulary otherwise. Header leak: in the train and leaky test splits "
    "an 'NNTP-Posting-Host:' line appears in 95% of atheism and 5% of christianity "
    "posts; in the clean test split it appears with probability 0.5 in both."
)


@dataclass
class NewsgroupsDataset(TextDataset):
    """:class:`TextDataset` plus a clean test split without the header leak.

    Attributes
    ----------
    clean_test_texts : list of str
    clean_test_labels : ndarray of int
    leak_word : str
        The header word that leaks the label ("Posting").
    """

    clean_test_texts: list[str] | None = None
    clean_test_labels: np.ndarray | None = None
    leak_word: str = LEAK_WORD


def _post(rng: np.random.Generator, label: int, p_posting: float) -> str:
    """One post: From/Subject/Organization header lines, maybe a Posting-Host, a body."""
    own = CHRISTIAN_WORDS if label == 1 else ATHEISM_WORDS
    other = ATHEISM_WORDS if label == 1 else CHRISTIAN_WORDS
    name = str(rng.choice(NAMES))
    site = str(rng.choice(SITES))
    lines = [
        f"From: {name}@{site}.edu ({name.title()})",
        f"Subject: Re: {str(rng.choice(SHARED_WORDS))} and {str(rng.choice(SHARED_WORDS))}",
        f"Organization: {str(rng.choice(ORGANIZATIONS))}",
    ]
    if rng.random() < p_posting:
        lines.append(f"NNTP-Posting-Host: {site}.{str(rng.choice(ORGANIZATIONS)).lower()}.edu")
    lines.append(f"Lines: {int(rng.integers(5, 40))}")
    n_words = int(rng.integers(15, 30))
    u = rng.random(n_words)
    words = [
        str(rng.choice(own)) if ui < 0.3 else str(rng.choice(other)) if ui < 0.4
        else str(rng.choice(SHARED_WORDS))
        for ui in u
    ]
    return "\n".join(lines) + "\n\n" + " ".join(words) + " ."


def _split(rng: np.random.Generator, n: int, leaky: bool) -> tuple[list[str], np.ndarray]:
    labels = np.arange(n) % 2
    rng.shuffle(labels)
    texts = []
    for y in labels:
        p = (0.95 if y == 0 else 0.05) if leaky else 0.5
        texts.append(_post(rng, int(y), p))
    return texts, labels.astype(np.int64)


@renamed_arguments(old_positional=('n_train', 'n_test', 'random_state'))
def load_newsgroups(n_train: int = 600, n_test: int = 300,
                    *, random_state: RandomState = 0) -> NewsgroupsDataset:
    """"christianity" vs "atheism" posts with a planted header leak.

    Three splits of exactly balanced classes (0 = atheism, 1 = christianity):
    ``train`` and ``test`` where the header word "Posting" marks atheism posts
    (``P(Posting | atheism) = 0.95``, ``P(Posting | christianity) = 0.05``), and
    ``clean_test`` where ``P(Posting) = 0.5`` whatever the label. The rule is in
    :data:`NEWSGROUPS_RULE`.

    See the course notebook ``course/04_lime_text.ipynb``.

    Parameters
    ----------
    n_train, n_test : int
    random_state : int or numpy.random.Generator

    Returns
    -------
    NewsgroupsDataset
    """
    n_train = check_int(n_train, "n_train", minimum=2)
    n_test = check_int(n_test, "n_test", minimum=2)
    rng, recorded = check_random_state(random_state)
    train_x, train_y = _split(rng, n_train, leaky=True)
    test_x, test_y = _split(rng, n_test, leaky=True)
    clean_x, clean_y = _split(rng, n_test, leaky=False)
    vocab = tuple(sorted(set(ATHEISM_WORDS + CHRISTIAN_WORDS + SHARED_WORDS)))
    groups = {"has_leak_word": np.array([LEAK_WORD in t for t in test_x])}
    return NewsgroupsDataset(train_x, train_y, test_x, test_y, NEWSGROUP_CLASSES,
                             NEWSGROUPS_RULE, recorded, groups, vocab,
                             clean_test_texts=clean_x, clean_test_labels=clean_y)


def train_newsgroups_forest(dataset: NewsgroupsDataset | None = None, *,
                            n_estimators: int = 500, random_state: int = 0,
                            n_jobs: int = 2) -> TextModel:
    """Word counts + a random forest of ``n_estimators`` trees.

    Words are ``\\w\\w+`` runs as in scikit-learn's ``CountVectorizer`` (so the header
    line ``NNTP-Posting-Host`` yields the word "posting"). Stated accuracy: >= 0.9 on
    the leaky test split and at least 10 points lower on the clean split.

    Parameters
    ----------
    dataset : NewsgroupsDataset, optional
    n_estimators : int
    random_state : int
    n_jobs : int

    Returns
    -------
    TextModel
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import make_pipeline

    dataset = load_newsgroups() if dataset is None else dataset
    n_estimators = check_int(n_estimators, "n_estimators", minimum=1)
    forest = RandomForestClassifier(n_estimators=n_estimators, random_state=random_state,
                                    n_jobs=n_jobs)
    pipe = make_pipeline(CountVectorizer(lowercase=True), forest)
    pipe.fit(dataset.train_texts, dataset.train_labels)
    return TextModel(pipe.predict_proba, dataset.class_names,
                     f"word counts + random forest ({n_estimators} trees)", pipe)
