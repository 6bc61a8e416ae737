"""Write SUBS/mallory/hw5_sanity_checks.ipynb: the solution with crash.cell and flood.cell added
after the Q2 test cell.  python tests/attacks/budget_after_restart/make.py SUBS"""
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).parent
nb = nbformat.read(ROOT / "solutions/hw5_sanity_checks/hw5_sanity_checks.ipynb", 4)
at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "hw5_q2_cascade_tests")
nb.cells[at + 1:at + 1] = [nbformat.v4.new_code_cell((HERE / f).read_text()) for f in ("crash.cell", "flood.cell")]
out = Path(sys.argv[1]) / "mallory" / "hw5_sanity_checks.ipynb"
out.parent.mkdir(parents=True, exist_ok=True)
nbformat.write(nb, out)
