"""Set the reveal.js slide type of every cell of the course notebooks, by rule.

``jupyter nbconvert --to slides`` reads ``cell.metadata.slideshow.slide_type`` to cut a
notebook into slides. Typing it by hand in 15 notebooks is tedious and goes stale each
time a cell is added, so this script derives it from the cells themselves:

* a Markdown cell whose first line is a ``#`` or ``##`` heading starts a new slide;
* a ``###`` (or deeper) heading starts a sub-slide (reveal.js: one step down);
* a set-up code cell (only imports, ``%`` magics, comments and blank lines) is skipped:
  the audience needs the result, not the imports;
* any other code cell starts a sub-slide, so that its figure or table gets a screen
  of its own; if it follows a short heading cell (heading plus at most two lines of
  text), it stays on that heading's slide instead;
* any other Markdown cell (the reading of a result, a derivation) is a fragment: it
  appears on the current slide when the instructor presses the arrow key, after the
  audience has had a moment to look at the numbers.

The rule only reads the cells, so running the script twice gives the same file
(idempotent), and it rewrites only the ``slideshow`` entry of each cell's metadata;
everything else of the file, including its JSON layout (nbformat 4, indent 1,
ensure_ascii False, sorted keys, trailing newline), stays as it was.

Usage::

    python instructor/slide_metadata.py              # every notebook in course/
    python instructor/slide_metadata.py --check      # exit 1 if any notebook is stale
    python instructor/slide_metadata.py course/05_lime_images.ipynb
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"

SLIDE, SUBSLIDE, FRAGMENT, CONTINUE, SKIP = "slide", "subslide", "fragment", "-", "skip"
SLIDE_TYPES = (SLIDE, SUBSLIDE, FRAGMENT, CONTINUE, SKIP, "notes")
_HEADING = re.compile(r"^(#{1,6})\s+\S")
# A heading cell this short shares its slide with the code cell after it.
SHORT_HEADING_LINES = 3


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def heading_level(cell: dict) -> int:
    """Level of the Markdown heading on the cell's first non-blank line (0 if none)."""
    if cell.get("cell_type") != "markdown":
        return 0
    for line in _source(cell).splitlines():
        if line.strip():
            match = _HEADING.match(line.strip())
            return len(match.group(1)) if match else 0
    return 0


def is_setup_code(cell: dict) -> bool:
    """True for a code cell made only of imports, ``%``/``!`` lines, comments and blanks."""
    if cell.get("cell_type") != "code":
        return False
    kept = [line for line in _source(cell).splitlines()
            if line.strip() and not line.lstrip().startswith(("%", "!", "#"))]
    if not kept:
        return True
    try:
        tree = ast.parse("\n".join(kept))
    except SyntaxError:
        return False
    return all(isinstance(node, ast.Import | ast.ImportFrom) for node in tree.body)


def slide_types(cells: list[dict]) -> list[str]:
    """The slide type of each cell, by the rule in the module docstring."""
    types: list[str] = []
    previous: dict | None = None  # the last cell that is shown
    for cell in cells:
        level = heading_level(cell)
        if level in (1, 2):
            kind = SLIDE
        elif level >= 3:
            kind = SUBSLIDE
        elif cell.get("cell_type") == "code":
            if is_setup_code(cell):
                kind = SKIP
            elif (previous is not None and heading_level(previous)
                  and len(_source(previous).strip().splitlines()) <= SHORT_HEADING_LINES):
                kind = CONTINUE
            else:
                kind = SUBSLIDE
        elif cell.get("cell_type") == "markdown":
            kind = FRAGMENT if previous is not None else SLIDE
        else:  # raw cells are not shown
            kind = SKIP
        types.append(kind)
        if kind != SKIP:
            previous = cell
    return types


def apply(nb: dict) -> int:
    """Write the slide types into ``nb`` in place; return how many cells changed."""
    changed = 0
    for cell, kind in zip(nb["cells"], slide_types(nb["cells"]), strict=True):
        meta = cell.setdefault("metadata", {})
        if meta.get("slideshow", {}).get("slide_type") != kind:
            meta["slideshow"] = {"slide_type": kind}
            changed += 1
    return changed


def dumps(nb: dict) -> str:
    """The repository's notebook JSON layout."""
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def process(path: Path, *, check: bool = False) -> int:
    """Update (or, with ``check``, only inspect) one notebook; return cells changed."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    changed = apply(nb)
    if changed and not check:
        path.write_text(dumps(nb), encoding="utf-8")
    return changed


def course_notebooks() -> list[Path]:
    return sorted(p for p in COURSE.glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: course/NN_*.ipynb")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook's slide types are stale")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks or course_notebooks():
        changed = process(path, check=args.check)
        if changed:
            stale.append(path)
            verb = "would change" if args.check else "changed"
            print(f"{path.name}: {verb} the slide type of {changed} cell(s)")
    if args.check and stale:
        print("run `python instructor/slide_metadata.py` to update them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
