"""Every notebook in the repository is committed clean, valid and reference-free.

- Clean: no stored outputs, no execution counts, no saved widget state. Stored outputs
  make diffs unreadable and hide stale notebooks; the course checks its claims with
  ``assert`` cells instead.
- Valid: each file reads as nbformat 4 and passes ``nbformat.validate``.
- Reference-free: lime, shap, captum and quantus are references for tests and benchmarks
  only; no course, solution or exercise notebook imports them, except the bridge
  notebook ``course/15_real_tools.ipynb``, which compares lime_core with them.
- The index links only to notebooks and homework that exist.

Also checks the course's timing plugin (``course/conftest.py``) on made-up reports.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("course", "solutions", "exercises")
REFERENCE_LIBRARIES = {"lime", "shap", "captum", "quantus"}

COURSE_NOTEBOOKS = [
    "00_index", "01_counterfactuals", "02_lime_intuition_2d", "03_lime_algorithm",
    "04_lime_text", "05_lime_images", "06_lime_tabular", "07_did_lime_find_the_truth",
    "08_gradients", "09_integrated_gradients", "10_shapley_shap", "11_evaluating_explanations",
    "12_sanity_checks_axioms", "13_lime_theory", "14_choosing_a_method", "15_real_tools",
]
# The one course notebook that runs the reference libraries next to lime_core (DEVELOPERS.md).
BRIDGE_NOTEBOOK = ROOT / "course" / "15_real_tools.ipynb"
ASSIGNMENTS = [
    "hw1_lime_from_scratch", "hw2_integrated_gradients", "hw3_shapley", "hw4_axioms",
    "hw5_sanity_checks", "hw6_evaluation", "hw7_explain_your_model",
]


def _all_notebooks() -> list[Path]:
    found = []
    for folder in NOTEBOOK_DIRS:
        found += [
            p for p in sorted((ROOT / folder).rglob("*.ipynb"))
            if ".ipynb_checkpoints" not in p.parts
        ]
    return found


# ---------------------------------------------------------------- the checks themselves


def dirty_cells(nb) -> list[str]:
    """Describe every stored output, execution count or saved widget state in ``nb``."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {index} has {len(cell.outputs)} stored output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {index} has execution_count {cell.execution_count}")
    if "widgets" in nb.metadata:
        problems.append("notebook metadata holds saved widget state ('widgets')")
    return problems


def _cell_source_as_python(source: str) -> str:
    """Blank out IPython magics and shell escapes so ``ast`` can parse the rest."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def reference_imports(nb) -> list[str]:
    """Top-level names of reference libraries imported by any code cell of ``nb``."""
    banned = set()
    pattern = re.compile(r"^\s*(?:import|from)\s+(\w+)", re.MULTILINE)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = _cell_source_as_python(cell.source)
        try:
            tree = ast.parse(source)
        except SyntaxError:  # exercise stubs may not parse; fall back to a line scan
            banned |= {m for m in pattern.findall(source) if m in REFERENCE_LIBRARIES}
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) in
                {"import_module", "__import__"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = [node.args[0].value]
            else:
                continue
            banned |= {n.split(".")[0] for n in names} & REFERENCE_LIBRARIES
    return sorted(banned)


# ---------------------------------------------------------------- the checks on fakes


def _fake_notebook(code: str, *, executed: bool = False):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(code)
    if executed:
        cell.execution_count = 3
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), cell]
    return nb


def test_dirty_cells_flags_outputs_counts_and_widget_state():
    assert dirty_cells(_fake_notebook("x = 1")) == []
    dirty = dirty_cells(_fake_notebook("x = 1", executed=True))
    assert dirty == ["cell 1 has 1 stored output(s)", "cell 1 has execution_count 3"]
    nb = _fake_notebook("x = 1")
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    assert dirty_cells(nb) == ["notebook metadata holds saved widget state ('widgets')"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import lime", ["lime"]),
        ("from lime.lime_image import LimeImageExplainer", ["lime"]),
        ("import numpy as np\nimport shap as sh", ["shap"]),
        ("from captum.attr import IntegratedGradients", ["captum"]),
        ("%matplotlib inline\nimport quantus", ["quantus"]),
        ("import importlib\nm = importlib.import_module('shap')", ["shap"]),
        ("def f(:\n    pass\nimport lime", ["lime"]),  # unparsable cell: line scan
        ("import lime_core\nfrom lime_core.kernels import exponential_kernel", []),
        ("from widgets import LimeIntuition2D\n# import lime is only a comment", []),
        ("text = 'import shap'", []),
    ],
)
def test_reference_imports_detects_only_real_imports(code, expected):
    assert reference_imports(_fake_notebook(code)) == expected


# ---------------------------------------------------------------- the repository's notebooks


@pytest.mark.parametrize("path", _all_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_valid_clean_and_reference_free(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4, f"{path.name}: nbformat {nb.nbformat}, expected 4"
    problems = dirty_cells(nb)
    assert not problems, f"{path.name} is not clean: " + "; ".join(problems)
    banned = reference_imports(nb)
    if path == BRIDGE_NOTEBOOK:
        assert set(banned) == {"lime", "shap", "captum"}, banned
        return
    assert not banned, f"{path.name} imports reference libraries {banned} (tests/benchmarks only)"


def test_course_notebooks_follow_the_design_names():
    present = sorted(p.stem for p in (ROOT / "course").glob("*.ipynb"))
    assert present, "course/ holds no notebooks"
    stray = [name for name in present if name not in COURSE_NOTEBOOKS]
    assert not stray, f"course notebooks not named in DESIGN.md: {stray}"


def test_index_links_every_notebook_and_homework_and_the_links_resolve():
    index = ROOT / "course" / "00_index.ipynb"
    nb = nbformat.read(index, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    linked_notebooks = {Path(t).stem for t in local if t.endswith(".ipynb")}
    assert set(COURSE_NOTEBOOKS[1:]) <= linked_notebooks, (
        f"index does not link {sorted(set(COURSE_NOTEBOOKS[1:]) - linked_notebooks)}"
    )
    for name in ASSIGNMENTS:
        assert f"../exercises/{name}/{name}.ipynb" in local, f"index does not link homework {name}"
    missing = [t for t in local if not (index.parent / t).resolve().exists()]
    assert not missing, f"index links to files that do not exist: {missing}"



# ---------------------------------------------------------------- the timing plugin


def _load_course_plugin():
    spec = importlib.util.spec_from_file_location("course_timing", ROOT / "course" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_timing_plugin_sums_per_notebook_and_prints_a_table():
    plugin = _load_course_plugin()
    reports = [
        ("course/01_counterfactuals.ipynb::Cell 0", "setup", 2.0, False),
        ("course/01_counterfactuals.ipynb::Cell 0", "call", 0.5, False),
        ("course/01_counterfactuals.ipynb::Cell 1", "call", 1.5, True),
        ("course/02_lime_intuition_2d.ipynb::Cell 0", "call", 70.0, False),
        ("tests/test_x.py::test_y", "call", 9.0, False),
    ]
    for nodeid, when, duration, failed in reports:
        plugin.pytest_runtest_logreport(
            SimpleNamespace(nodeid=nodeid, when=when, duration=duration, failed=failed)
        )
    lines = []
    reporter = SimpleNamespace(write_sep=lambda sep, title: lines.append(title),
                               write_line=lines.append)
    plugin.pytest_terminal_summary(reporter, 0, SimpleNamespace())
    table = "\n".join(lines)
    row1 = next(line for line in lines if line.startswith("01_counterfactuals.ipynb"))
    assert row1.split()[1:4] == ["2", "4.0", "(1"]
    row2 = next(line for line in lines if line.startswith("02_lime_intuition_2d.ipynb"))
    assert "over the 60 s budget" in row2
    total = next(line for line in lines if line.startswith("total"))
    assert "(2 notebooks)" in total and total.split()[3:5] == ["3", "74.0"]
    assert "test_x" not in table

    worker_lines = []
    worker = SimpleNamespace(write_sep=lambda *a: worker_lines.append(a),
                             write_line=worker_lines.append)
    plugin.pytest_terminal_summary(worker, 0, SimpleNamespace(workerinput={}))
    assert worker_lines == []  # xdist workers leave the table to the controller
