"""The course around the notebooks: reading lists, exercises, and an answer key students never see.

- Every course notebook ends with an "Exercises" section and a "References and further reading"
  section (a list of at least two entries).
- Exercises are numbered ``**Exercise N.k (kind).**`` with ``N`` the notebook's number and
  ``k = 1, 2, ...``; every one has a non-empty ``**Answer.**`` under ``## Exercise N.k`` in
  ``instructor/answers/<notebook>.md``, and the key has no entry for an exercise that does not exist.
- Nothing students receive (``course/`` and the released homework in ``exercises/``) contains
  answer text: no sentence of the answer key, no "example answer" of a rubric, no written
  (manually graded) solution and no solution code from ``solutions/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
ANSWERS = ROOT / "instructor" / "answers"
COURSE_NOTEBOOKS = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
STUDENT_NOTEBOOKS = COURSE_NOTEBOOKS + sorted((ROOT / "exercises").glob("*/*.ipynb"))
SOLUTION_NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))

EXERCISE = re.compile(r"\*\*Exercise (\d+)\.(\d+) \(([^)]+)\)\.\*\*\s*\S")
KEY_ENTRY = re.compile(r"^## Exercise (\d+)\.(\d+)\b", re.MULTILINE)
MIN_FRAGMENT = 40          # characters: shorter fragments can coincide by chance


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _markdown(path: Path) -> list[str]:
    return [_source(c) for c in _cells(path) if c["cell_type"] == "markdown"]


def _section(path: Path, title: str) -> str | None:
    """The markdown cell that opens with the heading ``title`` (any level), or None."""
    pattern = re.compile(rf"^#+\s*{title}\b", re.IGNORECASE)
    for text in _markdown(path):
        if pattern.match(text.lstrip()):
            return text
    return None


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "").replace("`", "")).strip().lower()


def _fragments(text: str) -> list[str]:
    """Sentences (or list items) of ``text`` long enough not to coincide by chance."""
    parts = re.split(r"(?<=[.!?;:])\s+|\n+", text)
    return [p for p in (_normalise(p) for p in parts) if len(p) >= MIN_FRAGMENT]


def _exercises(path: Path) -> list[tuple[int, int, str]]:
    text = _section(path, "Exercises") or ""
    return [(int(n), int(k), kind) for n, k, kind in EXERCISE.findall(text)]


def _key_answers(path: Path) -> dict[tuple[int, int], str]:
    """``{(N, k): answer text}`` from an answer-key file."""
    return _parse_key(path.read_text(encoding="utf-8"))


def _parse_key(text: str) -> dict[tuple[int, int], str]:
    entries = {}
    heads = list(KEY_ENTRY.finditer(text))
    for head, nxt in zip(heads, heads[1:] + [None], strict=True):
        body = text[head.end():nxt.start() if nxt else len(text)]
        answer = body.split("**Answer.**", 1)[1] if "**Answer.**" in body else ""
        entries[(int(head.group(1)), int(head.group(2)))] = answer.strip()
    return entries


def _leaks(secret_texts: list[str], student_files: list[Path], whole: list[str] = ()) -> list[tuple[str, str]]:
    """(file, fragment) for every sentence of a secret text, or whole secret block, found in a student file."""
    fragments = {f for text in secret_texts for f in _fragments(text)}
    fragments |= {b for b in (_normalise(text) for text in whole) if len(b) >= MIN_FRAGMENT}
    found = []
    for path in student_files:
        haystack = _normalise("\n".join(_source(c) for c in _cells(path)))
        starts = {haystack[i:i + 24] for i in range(len(haystack) - 23)}      # a quick pre-filter
        found += [(path.name, f) for f in sorted(fragments) if f[:24] in starts and f in haystack]
    return found


def _answer_key_texts() -> list[str]:
    texts = []
    for path in sorted(ANSWERS.glob("*.md")):
        texts += list(_key_answers(path).values())
    return texts


def _rubric_and_solution_texts() -> tuple[list[str], list[str]]:
    """Prose (written solutions, example answers of rubrics) and solution code blocks from ``solutions/``.

    Prose is compared sentence by sentence; a code block only as a whole, since single lines such
    as imports legitimately appear in the released notebooks too.
    """
    texts, blocks = [], []
    for path in SOLUTION_NOTEBOOKS:
        for cell in _cells(path):
            source = _source(cell)
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] == "markdown" and meta.get("solution"):
                texts.append(source)                                   # a written answer
            blocks += re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.DOTALL)
            texts += re.findall(r"example answer[^:\n]*:\s*(.+)", source, re.IGNORECASE)
    for path in sorted((ROOT / "instructor").rglob("*.md")) if (ROOT / "instructor").exists() else []:
        texts += re.findall(r"example answer[^:\n]*:\s*(.+)", path.read_text(encoding="utf-8"), re.IGNORECASE)
    return texts, blocks


def test_there_are_course_notebooks():
    assert len(COURSE_NOTEBOOKS) >= 15


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_ends_with_exercises_and_references(path):
    exercises = _section(path, "Exercises")
    references = _section(path, "References")
    assert exercises is not None, f"{path.name} has no '## Exercises' section"
    assert references is not None, f"{path.name} has no '## References and further reading' section"
    assert len(re.findall(r"^- \S", references, re.MULTILINE)) >= 2, f"{path.name}: the reading list is empty"
    markdown = _markdown(path)
    tail = markdown[-2:]
    assert exercises in tail and references in tail, f"{path.name}: exercises and references must come last"


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_are_numbered_and_varied(path):
    found = _exercises(path)
    number = int(path.stem[:2])
    assert found, f"{path.name}: no '**Exercise {number}.1 (kind).**' in the Exercises section"
    assert [n for n, _, _ in found] == [number] * len(found), f"{path.name}: exercises must be numbered {number}.k"
    assert [k for _, k, _ in found] == list(range(1, len(found) + 1)), f"{path.name}: exercises must count 1, 2, ..."
    kinds = " ".join(kind for _, _, kind in found)
    for kind in ("predict", "derive", "modify"):
        assert kind in kinds, f"{path.name}: no '{kind}' exercise"


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_an_answer(path):
    key = ANSWERS / f"{path.stem}.md"
    assert key.exists(), f"no answer key {key.relative_to(ROOT)} for {path.name}"
    answers = _key_answers(key)
    asked = {(n, k) for n, k, _ in _exercises(path)}
    missing = sorted(asked - set(answers))
    empty = sorted(e for e in asked & set(answers) if len(answers[e]) < 40)
    stale = sorted(set(answers) - asked)
    assert not missing, f"{key.name}: no answer for exercise(s) {missing}"
    assert not empty, f"{key.name}: empty answer for exercise(s) {empty}"
    assert not stale, f"{key.name}: answers for exercise(s) {stale} that {path.name} does not ask"


def test_answer_key_is_not_in_student_material():
    texts = _answer_key_texts()
    assert texts, "the answer key is empty"
    leaks = _leaks(texts, STUDENT_NOTEBOOKS)
    assert not leaks, f"answer-key text in student material: {leaks[:5]}"


def test_rubric_answers_and_solutions_are_not_released():
    texts, blocks = _rubric_and_solution_texts()
    assert texts and blocks, "found no written solutions or solution code in solutions/"
    leaks = _leaks(texts, STUDENT_NOTEBOOKS, whole=blocks)
    assert not leaks, f"solution or rubric answer text in student material: {leaks[:5]}"


def test_the_leak_check_can_fail(tmp_path):
    secret = "The gap is a lower bound on the error of the attributions, because errors of opposite signs cancel."
    leaked = tmp_path / "leaky.ipynb"
    leaked.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {},
                                             "source": ["Hint: the gap is a lower bound on the error of the\n",
                                                        "attributions, because errors of opposite signs cancel."]}]}))
    clean = tmp_path / "clean.ipynb"
    clean.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["Explain the gap."]}]}))
    assert _leaks([secret], [leaked]) and not _leaks([secret], [clean])
    assert _parse_key("## Exercise 3.1 (derive)\n\n**Answer.** " + secret) == {(3, 1): secret}
    assert _parse_key("## Exercise 3.1 (derive)\n\n**Question.** Why?") == {(3, 1): ""}
