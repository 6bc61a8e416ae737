"""Build an attack submission from the cell sources in tests/attacks/<name>/.

    python tests/attacks/build.py OUT.ipynb ASSIGNMENT ex|sol [GRADE_ID=FILE ...]

Starts from the exercise (``ex``, every answer unanswered) or the solution (``sol``)
notebook of ASSIGNMENT and replaces the source of each cell GRADE_ID by FILE's text.
"""

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> None:
    out, hw, base = argv[0], argv[1], argv[2]
    folder = ROOT / ("exercises" if base == "ex" else "solutions") / hw
    nb = nbformat.read(folder / f"{hw}.ipynb", 4)
    for arg in argv[3:]:
        gid, path = arg.split("=", 1)
        cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid]
        if not cells:
            raise SystemExit(f"{hw} has no cell {gid!r}")
        cells[0].source = Path(path).read_text()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)


if __name__ == "__main__":
    main(sys.argv[1:])
