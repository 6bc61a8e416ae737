"""Grade one submission: the trusted process (``python -m grading._evaluate SPEC.json``).

This process never runs a line of the student's code. It starts a sandboxed
kernel (:mod:`grading.sandbox`, :mod:`grading._kernel`) and walks the
notebook's cells in order:

* a locked setup cell runs in both processes (the instructor's code; each side
  keeps its own objects, and a setup object crossing the wall is sent by name);
* an answer cell, or any cell the student added, runs in the kernel only;
* a test cell runs, visible part only, in the kernel (so the student's later
  cells see what they saw in Jupyter), then *in full*, hidden tests included,
  here: the names it needs from the student are fetched as plain data, the
  student's functions become stand-ins whose calls go across the wall with
  plain data. The verdict is whether that run raised, or, when its last line
  is a number, that number of points (nbgrader's partial credit).

What a test learns about *how* the student's function works is decided here
too: a torch model with forward hooks (a call counter) that a test hands to the
student stays here (:class:`WatchedModel`), so its hooks count every pass; a
function a test hands over is called with plain data only; and a setup model,
tensor or array passed to a student's function must hash the same in the kernel
as here (:func:`grading._wire.digest`) before and after the call.

A kernel that dies or ignores its time limit is killed, restarted and given
the cells that ran before again (except the one that killed it); after three
restarts the rest of the notebook counts as not run.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import os
import signal
import sys
import tempfile
import time
import traceback
import types
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from grading import _wire
from grading._cgroup import cgroup_problem
from grading.sandbox import Limits, start_kernel, stop_kernel

MAX_RESTARTS = 3
#: what a feedback page says instead of text the notebook wrote after a hidden test had run:
#: hidden tests hand their inputs to the student's functions, so that text could carry them
WITHHELD = "(its message is not shown: hidden tests had run before it, and it could carry their data)"
FIXED_ERRORS = ("Timeout", "KernelDied", "CellTimeout", "KeyboardInterrupt", "MemoryError")
GRACE = 10.0  # seconds past a time limit before the kernel is killed


class KernelGone(Exception):
    """The sandboxed kernel died, broke the protocol or ignored its time limit."""


def _too_large(err: BaseException) -> bool:
    """The kernel was given up on because it sent a message over the size limits."""
    return isinstance(err.__cause__, _wire.MessageTooLarge)


def _first_line(text: str, limit: int = 200) -> str:
    text = (text or "").strip()
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _remote_exception(type_name: str, message: str) -> Exception:
    """The student's exception, re-made here (a built-in type when it is one)."""
    cls = getattr(builtins, type_name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls is not StopIteration:
        try:
            err = cls(message) if message else cls()
            err.limelab_remote = True
            return err
        except Exception:  # noqa: BLE001 - an exception type with odd arguments
            pass
    return _wire.RemoteError(type_name, message)


def _grader_check(message: str) -> AssertionError:
    """A failed check of the grader's own (its message is the grader's text, safe to show)."""
    err = AssertionError(message)
    err.limelab_grader = True
    return err


def _has_state(obj) -> bool:
    """A torch model, a tensor or a numpy array: what a function could change in place."""
    kind = type(obj).__module__ or ""
    if kind.startswith("torch"):
        import torch

        return isinstance(obj, (torch.nn.Module, torch.Tensor))
    if kind == "numpy" or kind.startswith("numpy."):
        import numpy as np

        return isinstance(obj, np.ndarray)
    return False


def _holds_student_object(value, depth: int = 0) -> bool:
    if getattr(type(value), "_limelab_stub_ref", None) is not None and type(value).__name__ == "StudentObject":
        return True
    if depth > _wire.MAX_DEPTH:
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_student_object(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_holds_student_object(k, depth + 1) or _holds_student_object(v, depth + 1)
                   for k, v in value.items())
    return False


class WatchedModel:
    """A test's torch model with forward hooks (a call counter), lent to the kernel.

    The model stays in this process: the kernel gets a stand-in
    (:func:`grading._wire.module_from_wire`) whose forward pass calls
    :meth:`forward` here, so the hooks run, and count, here, where no student
    code ever runs; its backward pass calls :meth:`backward` (the gradient with
    respect to the input of a recent forward pass).
    """

    KEEP = 8                  # forward passes whose graph is kept for a backward pass
    MAX_ELEMENTS = 2**22      # numbers in one input batch: this process has no memory limit

    def __init__(self, module):
        self.module = module
        self.graphs: dict[int, tuple] = {}
        self.passes = 0
        self.refs: tuple[int, int] = (0, 0)  # its two methods in the codec's table

    def forward(self, x, needs_grad):
        import torch

        if not isinstance(x, torch.Tensor):
            raise TypeError(f"the model takes a tensor, got {type(x).__name__}")
        if x.numel() > self.MAX_ELEMENTS:
            raise ValueError(f"the test's model takes batches of at most {self.MAX_ELEMENTS} numbers, "
                             f"got {x.numel()}")
        needs_grad = bool(needs_grad) and x.is_floating_point()
        x = x.detach().clone().requires_grad_(needs_grad)
        with torch.set_grad_enabled(needs_grad):
            out = self.module(x)
        if not isinstance(out, torch.Tensor):
            raise TypeError("the model did not return a tensor")
        token = None
        if needs_grad:
            self.passes += 1
            token = self.passes
            self.graphs[token] = (x, out)
            while len(self.graphs) > self.KEEP:
                self.graphs.pop(next(iter(self.graphs)))
        return out.detach(), token

    def backward(self, token, grad_output):
        import torch

        if not isinstance(token, int) or token not in self.graphs:
            raise RuntimeError("backward of an output that is no longer available: call the model again")
        x, out = self.graphs[token]
        grad_output = torch.as_tensor(grad_output, dtype=out.dtype)
        if grad_output.shape != out.shape:
            raise ValueError(f"grad_output must have shape {tuple(out.shape)}, got {tuple(grad_output.shape)}")
        (grad,) = torch.autograd.grad(out, x, grad_output, retain_graph=True, allow_unused=True)
        return torch.zeros_like(x) if grad is None else grad.detach()


class Grader:
    def __init__(self, spec: dict):
        self.spec = spec
        self.assignment = spec["assignment"]
        self.limits = Limits(**spec.get("limits", {}))
        self.sandbox = bool(spec.get("sandbox", True))
        self.tmp = Path(tempfile.mkdtemp(prefix="limelab-eval-"))
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.codec = _wire.Codec("t")
        self.codec.make_stub = self._stub
        self.codec.encode_other = self._encode_other
        self.codec.decode_other = lambda data: _wire.module_from_wire(data, self.codec)
        self.watched: dict[int, WatchedModel] = {}
        self.history: list[dict] = []   # kernel cells run so far (replayed after a restart)
        self.restarts = 0
        self.received_before = 0  # bytes received from kernels that have since been stopped
        self.dead = False
        self.proc = None
        self.peer = None
        self.student_names: set[str] = set()
        self.messages: list[str] = []
        self.started = time.monotonic()
        self.hidden_ran = False             # a hidden test has called the notebook's code
        self.feedback_cells: list[str] = []  # cell errors as a feedback page may show them
        self.oom_killed = False             # the last kernel stopped was killed for memory

    # -- the kernel -------------------------------------------------------------
    def _start(self) -> None:
        if self.peer is not None:  # what the stopped kernel sent counts against the submission's total
            self.received_before += self.peer.received
        self.proc, rfd, wfd = start_kernel(self.assignment, self.limits, self.sandbox,
                                           self.tmp / f"kernel{self.restarts}.err")
        self.fds = (rfd, wfd)
        # this process has no memory limit: what the kernel sends is bounded in bytes and values
        self.peer = _wire.Peer(rfd, wfd, self.codec, self._handle, max_line=_wire.TRUSTED_MAX_LINE,
                               max_items=_wire.TRUSTED_MAX_ITEMS)
        # until the next test cell sets its own, a new kernel may send what one test may: a
        # restarted kernel can still call the functions earlier tests handed out (the references
        # outlive it), and one that keeps what it is given would otherwise take all it is sent
        self.peer.budget = min(_wire.TRUSTED_MAX_PER_TEST, max(0, _wire.TRUSTED_MAX_TOTAL - self.received_before))
        try:
            msg = self.peer.recv(time.monotonic() + 120)
        except _wire.WireError as err:
            raise KernelGone(f"the sandboxed kernel did not start ({err}): {self._kernel_stderr()}") from err
        if msg.get("op") != "ready":
            raise KernelGone("the sandboxed kernel did not start")

    def _kernel_stderr(self) -> str:
        path = self.tmp / f"kernel{self.restarts}.err"
        try:
            lines = path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return _first_line(lines[-1]) if lines else ""

    def _stop(self) -> None:
        if self.proc is not None:
            stop_kernel(self.proc, self.fds)
            # the OOM killer of the sandbox's control group (memory limit, shared memory counted)
            self.oom_killed = bool(getattr(self.proc, "oom_kills", 0))
            self.proc = None

    def _crash_reason(self) -> str:
        if self.oom_killed:
            return (f"the kernel was killed: the sandbox used all of its memory "
                    f"({self.limits.memory / 1024**3:g} GB limit, shared memory included)")
        return "the kernel crashed (the Python process exited)"

    def _deadline(self, seconds: float) -> float:
        total = self.started + self.limits.total_timeout
        return min(time.monotonic() + seconds + GRACE, total)

    def request(self, msg: dict, seconds: float | None = None) -> dict:
        """Send ``msg`` to the kernel; it may work ``seconds`` (default: the cell limit)."""
        if self.dead or self.peer is None:
            raise KernelGone("not run: the kernel stopped earlier")
        seconds = self.limits.cell_timeout if seconds is None else seconds
        msg = dict(msg, timeout=seconds)
        try:
            return self.peer.request(msg, self._deadline(seconds))
        except _wire.WireError as err:
            raise KernelGone(str(err)) from err

    # -- what a test hands to the kernel --------------------------------------------
    def _encode_other(self, obj):
        if _wire.is_watched_model(obj):  # counted by its hooks: it stays here (WatchedModel)
            model = self.watched.get(id(obj))
            if model is None or model.module is not obj:
                model = self.watched[id(obj)] = WatchedModel(obj)
                model.refs = (self.codec.ref(model.forward)["__ref__"], self.codec.ref(model.backward)["__ref__"])
            return _wire.remote_model_to_wire(*model.refs)
        return _wire.module_to_wire(obj, self.codec)

    def _setup_objects_in(self, data, found: list[str] | None = None) -> list[str]:
        """Names of the setup models, tensors and arrays in encoded call arguments."""
        found = [] if found is None else found
        if isinstance(data, list):
            for x in data:
                self._setup_objects_in(x, found)
        elif isinstance(data, dict):
            name = data.get("__global__")
            if isinstance(name, str):
                if name not in found and _has_state(self.codec.globals_by_name.get(name)):
                    found.append(name)
                return found
            for x in data.values():
                self._setup_objects_in(x, found)
        return found

    def digests(self, names: list[str]) -> dict:
        """The kernel's hashes of its copies of the setup objects ``names``."""
        reply = self.request({"op": "digest", "names": names})
        if reply["op"] != "value":
            raise AssertionError("the notebook's setup objects could not be checked")
        value = self.codec.decode(reply.get("v"))
        return value if isinstance(value, dict) else {}

    def _changed(self, names: list[str], expected: dict) -> str:
        """The names (as text) whose kernel copy no longer hashes to ``expected``."""
        now = self.digests(names)
        return ", ".join(f"`{n}`" for n in names if now.get(n) != expected[n])

    # -- stand-ins for the student's objects ---------------------------------------
    def _stub(self, ref: int):
        grader = self

        def ask(msg):
            reply = grader.request(msg)
            if reply["op"] == "raise":
                raise _remote_exception(str(reply.get("type", "Error")), str(reply.get("message", "")))
            return grader.codec.decode(reply.get("v"))

        me = {"__ref__": ref, "side": "k"}

        class StudentObject:
            _limelab_stub_ref = staticmethod(lambda self: me)

            def __call__(self, *args, **kwargs):
                msg = {"op": "call", "f": me, "args": grader.codec.encode(list(args)),
                       "kwargs": grader.codec.encode(dict(kwargs))}
                # a setup model, tensor or array handed to the student's function must be, in
                # the kernel, what the setup cell made, before and after the call: compare the
                # kernel's hash of its copy with the hash of this process's copy
                shared = grader._setup_objects_in([msg["args"], msg["kwargs"]])
                expected = {n: _wire.digest(grader.codec.globals_by_name[n]) for n in shared}
                if shared:
                    changed = grader._changed(shared, expected)
                    if changed:
                        raise _grader_check(
                            f"{changed} in the notebook is no longer what the setup cell made: "
                            "something changed it in place (work on a copy, e.g. copy.deepcopy)")
                value = ask(msg)
                if shared:
                    changed = grader._changed(shared, expected)
                    if changed:
                        raise _grader_check(
                            f"the function changed {changed} in place; do not modify the objects "
                            "it is given (work on a copy, e.g. copy.deepcopy)")
                return value

            def __getattr__(self, name):
                if name.startswith("__") and name not in ("__name__", "__qualname__", "__doc__"):
                    raise AttributeError(name)
                return ask({"op": "getattr", "obj": me, "name": name})

            def __getitem__(self, key):
                return ask({"op": "getitem", "obj": me, "key": grader.codec.encode(key)})

            def __len__(self):
                return int(ask({"op": "len", "obj": me}))

            def __iter__(self):
                return iter(ask({"op": "list", "obj": me}))

            def __repr__(self):
                return str(ask({"op": "text", "obj": me, "how": "repr"}))

            def __str__(self):
                return str(ask({"op": "text", "obj": me, "how": "str"}))

        return StudentObject()

    def _handle(self, msg: dict) -> dict:
        """Requests from the kernel: only calls of the callables a test handed to it."""
        try:
            if msg["op"] != "call":
                raise PermissionError(f"the kernel may only call back functions it was given, not {msg['op']!r}")
            data = msg.get("f")
            if not isinstance(data, dict) or data.get("side") != "t" or int(data.get("__ref__", -1)) not in self.codec.table:
                raise PermissionError("unknown function")
            fn = self.codec.table[int(data["__ref__"])]
            if isinstance(fn, (type, types.BuiltinFunctionType, types.ModuleType)):
                raise PermissionError("the kernel may not call this")
            args = self.codec.decode(msg.get("args", []))
            kwargs = self.codec.decode(msg.get("kwargs", {"__dict__": {}}))
            if _holds_student_object([args, kwargs]):
                # the test's function sees plain data only: a stand-in for a student object
                # would let the student's code answer its questions (len(), iteration, ...)
                raise TypeError("a function the test gave you takes plain data (numbers, strings, "
                                "lists, numpy arrays, tensors), not objects of the notebook")
            return {"op": "value", "v": self.codec.encode(fn(*args, **kwargs))}
        except KernelGone:
            raise
        except BaseException as err:  # noqa: BLE001 - reported to the kernel as its exception
            return {"op": "raise", "type": type(err).__name__, "message": str(err)[:2000]}

    # -- cells -----------------------------------------------------------------
    def kernel_exec(self, code: str, kind: str, label: str, replay: bool = True) -> dict | None:
        """Run ``code`` in the kernel; return its error (type, message) or None.

        A kernel that dies or hangs is restarted and the earlier cells replayed.
        """
        msg = {"op": "exec", "code": code, "kind": kind}
        # the instructor's setup cells (imports, a model to load) get a generous limit:
        # on a loaded machine they may well take longer than a student's cell may
        seconds = max(300, 5 * self.limits.cell_timeout) if kind == "setup" else None
        try:
            reply = self.request(msg, seconds)
        except KernelGone as err:
            timed_out = "timed out" in str(err)
            self._restart()
            if timed_out:
                return {"type": "Timeout", "message": f"timed out after {self.limits.cell_timeout} s "
                        "and did not stop when interrupted; the kernel was restarted"}
            return {"type": "KernelDied", "message": f"{self._crash_reason()} "
                    "while running this cell; it was restarted"}
        if replay:
            self.history.append(msg)
        err = reply.get("error")
        if err is not None and not (isinstance(err, dict) and isinstance(err.get("type"), str)
                                    and isinstance(err.get("message", ""), str)):
            # the kernel is the student's: a malformed error must cost this cell, not crash the grader
            return {"type": "WireError", "message": "the kernel sent a malformed reply"}
        return err

    def _restart(self) -> None:
        self._stop()
        oom = self.oom_killed  # why the kernel died, whatever happens to the restarts
        try:
            while self.restarts < MAX_RESTARTS and time.monotonic() < self.started + self.limits.total_timeout:
                self.restarts += 1
                try:
                    self._start()
                    for msg in self.history:
                        self.request(msg, max(300, 5 * self.limits.cell_timeout) if msg["kind"] == "setup" else None)
                    return
                except KernelGone:
                    self._stop()
            self.dead = True
        finally:
            self.oom_killed = oom

    def run_setup(self, cell: dict) -> None:
        before = {k: id(v) for k, v in self.ns.items()}
        out = io.StringIO()
        try:
            with redirect_stdout(out), redirect_stderr(out):
                exec(compile(cell["t_source"], f"<setup {cell['gid']}>", "exec"), self.ns)
        except Exception as err:  # noqa: BLE001
            self.messages.append(f"setup cell '{cell['gid']}' failed in the grader: "
                                 f"{type(err).__name__}: {_first_line(str(err))}")
        for name, value in self.ns.items():
            if before.get(name) != id(value) and not name.startswith("__"):
                self.codec.globals_by_name[name] = value
                self.codec.globals_by_id[id(value)] = name
        err = self.kernel_exec(cell["k_source"], "setup", cell["gid"])
        if err is not None:
            self.messages.append(f"cell '{cell['gid']}': {err['type']}: {_first_line(err['message'])}")
            self.feedback_cells.append(self._cell_feedback(cell["gid"], err, self.messages[-1]))

    def _needed_names(self, tree: ast.AST) -> list[str]:
        loads, stores = [], set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    if node.id not in loads:
                        loads.append(node.id)
                else:
                    stores.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                stores.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    stores.add((alias.asname or alias.name).split(".")[0])
            elif isinstance(node, ast.arg):
                stores.add(node.arg)
        return [n for n in loads if n not in stores and n not in self.ns and not hasattr(builtins, n)]

    def _cell_feedback(self, gid: str, err: dict, message: str) -> str:
        """A cell's error as a feedback page may show it (the notebook's text withheld after hidden tests)."""
        if not self.hidden_ran or err["type"] in FIXED_ERRORS:
            return message
        return f"cell '{gid}': {err['type']} {WITHHELD}"

    def _feedback(self, err: BaseException, problem: str, filename: str, tree: ast.AST) -> str:
        """``problem`` as a feedback page may show it.

        Before any hidden test has run, everything; after, only text the test or the
        grader wrote: the message of a failed ``assert`` whose message is a constant
        string (or that has none), a time or memory limit; for anything else (the
        student's own exception, an f-string with the student's values) its type only.
        """
        if not self.hidden_ran or getattr(err, "limelab_grader", False):
            return problem
        if isinstance(err, _wire.RemoteError) or getattr(err, "limelab_remote", False):
            name = err.type_name if isinstance(err, _wire.RemoteError) else type(err).__name__
            return problem if name in FIXED_ERRORS else f"{name} {WITHHELD}"
        if isinstance(err, AssertionError):
            lines = [fs.lineno for fs in traceback.extract_tb(err.__traceback__) if fs.filename == filename]
            asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert) and lines and n.lineno == lines[-1]]
            if asserts and all(a.msg is None or isinstance(a.msg, ast.Constant) for a in asserts):
                return problem
        return f"{type(err).__name__} {WITHHELD}"

    def run_test(self, cell: dict) -> tuple[float, str, bool]:
        """Run a whole test cell here; return (score, problem, failed in the hidden part).

        ``self.last_feedback`` is then the problem as a feedback page may show it.
        """
        self.last_feedback = None
        points = float(cell["points"])
        filename = f"<test {cell['gid']}>"
        try:
            tree = ast.parse(cell["t_source"], filename)
        except SyntaxError as err:
            return 0.0, f"SyntaxError in the test cell: {err}", False
        for name in self.student_names:
            self.ns.pop(name, None)
        self.student_names.clear()
        if self.peer is not None:  # what this test may still receive from the kernel
            left = _wire.TRUSTED_MAX_TOTAL - self.received_before - self.peer.received
            self.peer.budget = self.peer.received + max(0, min(_wire.TRUSTED_MAX_PER_TEST, left))
        try:
            for name in self._needed_names(tree):
                reply = self.request({"op": "lookup", "name": name})
                if reply["op"] == "value":
                    self.ns[name] = self.codec.decode(reply.get("v"))
                    self.student_names.add(name)
        except KernelGone as err:
            self._restart()
            if _too_large(err):
                return 0.0, f"the notebook sent a value too large to check ({err}); the kernel was restarted", False
            return 0.0, "the kernel stopped while the test read the notebook's values", False
        except Exception as err:  # noqa: BLE001 - a value the decoder refuses (a set of lists, bad weights...)
            # costs this question only (outside this handler it would end the whole submission);
            # its text is the notebook's (e.g. the "number" it sent), so after a hidden test has run
            # the feedback page gets its type only: it could carry that test's inputs
            problem = f"a value could not be read from the notebook: {type(err).__name__}: {_first_line(str(err))}"
            if self.hidden_ran:
                self.last_feedback = f"a value could not be read from the notebook: {type(err).__name__} {WITHHELD}"
            return 0.0, problem, False
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        out = io.StringIO()
        try:
            with redirect_stdout(out), redirect_stderr(out):
                exec(compile(tree, filename, "exec"), self.ns)
                value = eval(compile(last, filename, "eval"), self.ns) if last is not None else None
        except KernelGone as err:
            self._restart()
            if _too_large(err):
                return 0.0, f"the notebook sent a value too large to check ({err}); the kernel was restarted", False
            why = "timed out and did not stop when interrupted" if "timed out" in str(err) else self._crash_reason()
            return 0.0, f"{why} while the test called the notebook's code", False
        except Exception as err:  # noqa: BLE001 - every failure is a verdict
            hidden = self._in_hidden(err, filename, cell.get("hidden", []))
            problem = self._describe(err)
            self.last_feedback = self._feedback(err, problem, filename, tree)
            return 0.0, problem, hidden
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            return float(min(max(value, 0.0), points)), "", False
        return points, "", False

    def _describe(self, err: BaseException) -> str:
        name = type(err).__name__
        if isinstance(err, _wire.RemoteError):
            name, text = err.type_name, err.remote_message
        else:
            text = str(err)
        if name == "CellTimeout":
            return f"timed out after {self.limits.cell_timeout} s and was stopped (an endless loop?)"
        if name == "MemoryError":
            return f"MemoryError: the notebook ran out of memory ({self.limits.memory / 1024**3:g} GB limit)"
        return f"{name}: {_first_line(text)}" if text.strip() else name

    @staticmethod
    def _in_hidden(err: BaseException, filename: str, hidden: list) -> bool:
        lines = [fs.lineno for fs in traceback.extract_tb(err.__traceback__) if fs.filename == filename]
        if not lines or not hidden:
            return False
        return hidden[0] <= lines[-1] <= hidden[1]

    def run(self) -> dict:
        questions, faults = [], []
        if self.sandbox and cgroup_problem() is not None:
            self.messages.append(f"NO CPU/MEMORY GROUP: {cgroup_problem()}")
        try:
            self._start()
        except KernelGone as err:
            return {"status": "error", "messages": [str(err)], "questions": []}
        try:
            for cell in self.spec["cells"]:
                kind, gid = cell["kind"], cell["gid"]
                if kind == "markdown":
                    continue
                if time.monotonic() > self.started + self.limits.total_timeout and not self.dead:
                    self.dead = True
                    faults.append(f"grading stopped after the total time limit of {self.limits.total_timeout} s")
                if kind == "setup":
                    self.run_setup(cell)
                elif kind in ("student", "manual_code"):
                    if self.dead:
                        continue
                    err = self.kernel_exec(cell["k_source"], "student", gid,
                                           replay=True)
                    if err is not None:
                        faults.append(f"cell '{gid}': {self._describe_kernel_error(err)}")
                        self.feedback_cells.append(self._cell_feedback(gid, err, faults[-1]))
                        if err["type"] in ("Timeout", "KernelDied"):
                            self.history = [m for m in self.history if m.get("code") != cell["k_source"]]
                    if kind == "manual_code":
                        questions.append({"question": gid, "score": None, "max_score": float(cell["points"]),
                                          "kind": "manual", "problem": "", "hidden": False})
                elif kind == "manual":
                    questions.append({"question": gid, "score": None, "max_score": float(cell["points"]),
                                      "kind": "manual", "problem": "", "hidden": False})
                elif kind == "test":
                    if not self.dead:
                        self.kernel_exec(cell["k_source"], "visible", gid)
                    if self.dead:
                        score, problem, hidden = 0.0, "not run: the kernel crashed in an earlier cell and could not be restarted", False
                        feedback = None
                    else:
                        score, problem, hidden = self.run_test(cell)
                        feedback = self.last_feedback
                        if cell.get("hidden"):
                            self.hidden_ran = True
                    questions.append({"question": gid, "score": score, "max_score": float(cell["points"]),
                                      "kind": "auto", "problem": problem, "hidden": hidden,
                                      "feedback": feedback})
                    if problem:
                        faults.append(f"question '{gid}': {problem}")
        finally:
            self._stop()
        return {"status": "graded", "questions": questions, "messages": self.messages + faults,
                "feedback_cells": self.feedback_cells,
                "restarts": self.restarts}

    def _describe_kernel_error(self, err: dict) -> str:
        if err["type"] in ("Timeout", "KernelDied"):
            return err["message"]
        if err["type"] in ("CellTimeout", "KeyboardInterrupt"):
            return f"timed out after {self.limits.cell_timeout} s and was stopped (an endless loop?)"
        if err["type"] == "MemoryError":
            return f"MemoryError: the cell ran out of memory ({self.limits.memory / 1024**3:g} GB limit)"
        msg = _first_line(err.get("message", ""))
        return f"{err['type']}: {msg}" if msg else err["type"]

    def close(self) -> None:
        self._stop()
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


def evaluate(spec: dict) -> dict:
    grader = Grader(spec)
    try:
        return grader.run()
    finally:
        grader.close()


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGTERM, _terminate)
    with open(argv[0]) as fh:
        spec = json.load(fh)
    result = evaluate(spec)
    tmp = argv[1] + ".part"
    with open(tmp, "w") as fh:
        json.dump(result, fh)
    os.replace(tmp, argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
