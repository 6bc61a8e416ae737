"""The execute step nbgrader uses when it grades a limelab submission.

:class:`SandboxedExecute` is nbgrader's ``Execute`` preprocessor with three
changes, each answering a fault the grader must survive:

* the kernel's working directory is a fresh, empty temporary folder outside
  the grading course, so ``open("hw1_lime_from_scratch.ipynb")`` or a look
  around ``os.getcwd()`` finds neither the solutions nor the hidden tests;
* a kernel that dies (``os._exit(1)``, a segfault) does not abort the
  notebook: the cell that killed it gets a ``KernelDied`` error and every
  later cell a ``NotRun`` error, so those questions score 0 while the ones
  already answered keep their points (nbgrader gives full marks to a test
  cell without an error, so unexecuted cells must not stay blank);
* a cell that runs past ``timeout`` seconds is interrupted by nbgrader's
  ``interrupt_on_timeout`` and shows up as an error in that cell.
"""

from __future__ import annotations

import shutil
import tempfile

from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute

KERNEL_DIED = "KernelDied"
NOT_RUN = "NotRun"


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` run in an empty folder, surviving a dead kernel."""

    def preprocess(self, nb, resources=None, km=None):
        self._kernel_dead = False
        scratch = tempfile.mkdtemp(prefix="limelab-kernel-")
        resources = dict(resources or {})
        resources["metadata"] = dict(resources.get("metadata", {}), path=scratch)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._kernel_dead:
            cell.outputs = [_error_output(NOT_RUN, "not run: the kernel died in an earlier cell")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._kernel_dead = True
            cell.outputs = list(cell.get("outputs", [])) + [
                _error_output(KERNEL_DIED, "the kernel died while running this cell")
            ]
            return cell, resources
