"""Plain-data messages between the grader's trusted process and a sandboxed kernel.

This file runs on both sides of the sandbox wall (it is copied, read-only,
into every sandbox), so it imports nothing from the grading package. A
message is one line of JSON. Values cross the wall only as plain data:

* ``None``, bools, ints, floats, strings: JSON itself;
* lists as JSON lists; tuples, sets, dicts: tagged JSON objects;
* numpy arrays and scalars (numeric dtypes only) and torch tensors: ``.npy``
  bytes, base64-encoded, read back with ``np.load(allow_pickle=False)``;
* a setup object (a name a locked setup cell defined, e.g. the course model):
  its name, resolved on the other side to that side's own object;
* a torch model a test watches (one with forward hooks, e.g. to count its
  calls) stays in the trusted process: the kernel gets a stand-in model whose
  forward pass and backward pass are requests back across the wall, so the
  hooks run, and count, where no student code runs;
* anything else stays where it is and is sent as a numbered reference; the
  other side gets a stand-in whose calls, attribute reads and indexing are
  requests back across the wall.

Nothing is ever unpickled, evaluated or imported from a message.
"""

from __future__ import annotations

import base64
import io
import json
import os
import select
import time

MAX_LINE = 256 * 1024 * 1024  # bytes: a bigger message is refused
MAX_DEPTH = 40
#: what the trusted process accepts from a kernel (it has no memory limit of its own): a line
#: of at most this many bytes (the largest batch a watched model takes, 2**22 float64 numbers,
#: is 45 MB as base64 .npy) ...
TRUSTED_MAX_LINE = 64 * 1024 * 1024
#: ... holding at most this many JSON values (counted as '[', '{' and ',' before parsing:
#: arrays travel as base64 text, so real values need few; '[[],[],...]' would need GBs)
TRUSTED_MAX_ITEMS = 1_000_000
#: ... and at most this many bytes in all the messages of one test cell, and of one submission:
#: each message under the limit, many of them kept by a test (a list of answers) would still
#: add up to gigabytes in the trusted process
TRUSTED_MAX_PER_TEST = 256 * 1024 * 1024
TRUSTED_MAX_TOTAL = 1024 * 1024 * 1024


class WireError(Exception):
    """The other side broke the protocol, went silent past its deadline, or died."""


class MessageTooLarge(WireError):
    """A message over the reader's size or value-count limit (the stream is then unusable)."""


class RemoteError(Exception):
    """An exception raised on the other side (its type name and message, as text)."""

    def __init__(self, type_name: str, message: str):
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.remote_message = message


def _npy_bytes(arr) -> str:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _npy_load(text: str):
    import numpy as np

    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


class Codec:
    """Turns values into plain data and back, with a table of local objects.

    ``globals_by_id`` maps ``id(obj)`` of setup objects to their names;
    ``globals_by_name`` maps names back to objects. ``make_stub(ref)`` builds
    the local stand-in for an object that lives on the other side;
    ``encode_other(obj)`` may return a plain-data description for objects of
    known kinds (a torch module, say) before falling back to a reference.
    """

    def __init__(self, side: str):
        self.side = side
        self.table: dict[int, object] = {}
        self.next_ref = 1
        self.globals_by_id: dict[int, str] = {}
        self.globals_by_name: dict[str, object] = {}
        self.make_stub = None
        self.encode_other = None
        self.decode_other = None

    def ref(self, obj) -> dict:
        for k, v in self.table.items():
            if v is obj:
                return {"__ref__": k, "side": self.side}
        k = self.next_ref
        self.next_ref += 1
        self.table[k] = obj
        return {"__ref__": k, "side": self.side}

    def encode(self, obj, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ValueError("value nested too deeply to send")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj if type(obj) in (int, bool) else int(obj)
        if isinstance(obj, float):
            if obj != obj or obj in (float("inf"), float("-inf")):
                return {"__float__": repr(obj)}
            return float(obj)
        stub_ref = getattr(type(obj), "_limelab_stub_ref", None)
        if stub_ref is not None:
            return stub_ref(obj)
        name = self.globals_by_id.get(id(obj))
        if name is not None and self.globals_by_name.get(name) is obj:
            return {"__global__": name}
        if type(obj) is list:
            return [self.encode(x, depth + 1) for x in obj]
        if type(obj) is tuple:
            return {"__tuple__": [self.encode(x, depth + 1) for x in obj]}
        if type(obj) in (set, frozenset):
            return {"__set__": [self.encode(x, depth + 1) for x in obj]}
        if type(obj) is dict:
            if all(type(k) is str for k in obj):
                return {"__dict__": {k: self.encode(v, depth + 1) for k, v in obj.items()}}
            return {"__pairs__": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                  for k, v in obj.items()]}
        module = type(obj).__module__ or ""
        if module == "numpy" or module.startswith("numpy."):
            import numpy as np

            if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufcSU":
                return {"__ndarray__": _npy_bytes(obj)}
            if isinstance(obj, np.generic) and np.asarray(obj).dtype.kind in "biufcSU":
                return {"__npscalar__": _npy_bytes(np.asarray(obj))}
        if module.startswith("torch") and type(obj).__name__ in ("Tensor", "Parameter"):
            arr = obj.detach().cpu().numpy()
            return {"__tensor__": _npy_bytes(arr), "grad": bool(obj.requires_grad)}
        if self.encode_other is not None:
            other = self.encode_other(obj)
            if other is not None:
                return other
        return self.ref(obj)

    def decode(self, data, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ValueError("value nested too deeply")
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        if isinstance(data, list):
            return [self.decode(x, depth + 1) for x in data]
        if not isinstance(data, dict) or len(data) == 0:
            raise WireError("malformed value")
        if "__float__" in data:
            return float(str(data["__float__"]))
        if "__tuple__" in data:
            return tuple(self.decode(x, depth + 1) for x in data["__tuple__"])
        if "__set__" in data:
            return {self.decode(x, depth + 1) for x in data["__set__"]}
        if "__dict__" in data:
            return {str(k): self.decode(v, depth + 1) for k, v in data["__dict__"].items()}
        if "__pairs__" in data:
            return {self.decode(k, depth + 1): self.decode(v, depth + 1) for k, v in data["__pairs__"]}
        if "__ndarray__" in data:
            return _npy_load(data["__ndarray__"])
        if "__npscalar__" in data:
            return _npy_load(data["__npscalar__"])[()]
        if "__tensor__" in data:
            import torch

            t = torch.from_numpy(_npy_load(data["__tensor__"]).copy())
            if data.get("grad") and t.is_floating_point():
                t.requires_grad_(True)
            return t
        if "__global__" in data:
            name = str(data["__global__"])
            if name not in self.globals_by_name:
                raise WireError(f"unknown setup object {name!r}")
            return self.globals_by_name[name]
        if "__ref__" in data:
            k = int(data["__ref__"])
            if data.get("side") == self.side:
                if k not in self.table:
                    raise WireError(f"unknown reference {k}")
                return self.table[k]
            return self.make_stub(k)
        if self.decode_other is not None:
            return self.decode_other(data)
        raise WireError("unknown value tag")


def digest(obj) -> str:
    """A hash of an object's state: a torch model's weights, buffers and train/eval mode, a
    tensor's or a numpy array's values; "" for any other object.

    Both sides compute it the same way: the trusted process compares the kernel's hash
    of a setup object with the hash of its own copy (made by the same setup cell).
    """
    import hashlib

    h = hashlib.sha256()
    kind = type(obj).__module__ or ""
    if kind.startswith("torch"):
        import torch

        if isinstance(obj, torch.nn.Module):
            for key, value in obj.state_dict().items():
                arr = value.detach().cpu().contiguous().numpy()
                h.update(f"{key}:{arr.dtype}:{arr.shape}:".encode() + arr.tobytes())
            h.update(bytes(m.training for m in obj.modules()))
            return h.hexdigest()
        if not isinstance(obj, torch.Tensor):
            return ""
        obj = obj.detach().cpu().contiguous().numpy()
        kind = "numpy"
    if kind == "numpy" or kind.startswith("numpy."):
        import numpy as np

        if isinstance(obj, np.ndarray):
            arr = np.ascontiguousarray(obj)
            h.update(f"{arr.dtype}:{arr.shape}:".encode() + arr.tobytes())
            return h.hexdigest()
    return ""


LAYERS = ("Linear", "Conv2d", "ReLU", "Tanh", "Sigmoid", "Softplus", "Flatten", "MaxPool2d",
          "AvgPool2d", "Softmax", "LogSoftmax", "Identity", "Dropout", "Sequential")


def module_to_wire(obj, codec: Codec) -> dict | None:
    """A torch module made only of standard layers, as plain data (layers and weights).

    Returns None for anything else (which then travels as a reference). Hooks
    are never sent: a watched model is sent with :func:`remote_model_to_wire`.
    """
    module = type(obj).__module__ or ""
    if not module.startswith("torch.nn"):
        return None
    import torch

    if not isinstance(obj, torch.nn.Module):
        return None

    def spec(m):
        kind = type(m).__name__
        if kind not in LAYERS or type(m).__module__.split(".")[:2] != ["torch", "nn"]:
            raise TypeError(kind)
        if kind == "Sequential":
            return {"type": kind, "children": [spec(c) for c in m]}
        args, kwargs = [], {}
        if kind == "Linear":
            args, kwargs = [m.in_features, m.out_features], {"bias": m.bias is not None}
        elif kind == "Conv2d":
            if isinstance(m.padding, str):
                raise TypeError(kind)
            args = [m.in_channels, m.out_channels, list(m.kernel_size)]
            kwargs = {"stride": list(m.stride), "padding": list(m.padding),
                      "dilation": list(m.dilation), "groups": m.groups, "bias": m.bias is not None}
        elif kind in ("Softmax", "LogSoftmax"):
            kwargs = {"dim": m.dim}
        elif kind in ("MaxPool2d", "AvgPool2d"):
            args = [m.kernel_size, m.stride]
        elif kind == "Flatten":
            args = [m.start_dim, m.end_dim]
        elif kind == "Softplus":
            kwargs = {"beta": m.beta, "threshold": m.threshold}
        state = {k: codec.encode(v.detach().cpu().numpy()) for k, v in m.state_dict().items()}
        return {"type": kind, "args": codec.encode(args), "kwargs": codec.encode(kwargs), "state": state}

    try:
        return {"__module__": spec(obj), "training": bool(obj.training)}
    except TypeError:
        return None


def is_watched_model(obj) -> bool:
    """True for a torch module that has (or has a layer with) forward hooks."""
    module = type(obj).__module__ or ""
    if not module.startswith("torch"):
        return False
    import torch

    if not isinstance(obj, torch.nn.Module):
        return False
    return any(m._forward_hooks or m._forward_pre_hooks for m in obj.modules())


def remote_model_to_wire(forward_ref: int, backward_ref: int) -> dict:
    """The message for a model that stays on the sending side (see :func:`module_from_wire`)."""
    return {"__remote_model__": {"forward": forward_ref, "backward": backward_ref}}


def module_from_wire(data: dict, codec: Codec, stub=None):
    """Rebuild a module sent by :func:`module_to_wire`.

    With ``stub`` (the kernel's side only) a ``__remote_model__`` becomes a
    stand-in ``torch.nn.Module`` whose forward pass calls the other side's
    ``forward(x, needs_grad) -> (output, token)`` and whose backward pass calls
    ``backward(token, grad_output) -> grad_input`` there.
    """
    if isinstance(data, dict) and "__remote_model__" in data and stub is not None:
        refs = data["__remote_model__"]
        if not isinstance(refs, dict):
            raise WireError("malformed remote model")
        return _remote_model(stub(int(refs["forward"])), stub(int(refs["backward"])))
    if not isinstance(data, dict) or "__module__" not in data:
        raise WireError("unknown value tag")
    import numpy as np
    import torch

    def build(spec):
        kind = str(spec["type"])
        if kind not in LAYERS:
            raise WireError(f"cannot rebuild a {kind} layer")
        if kind == "Sequential":
            return torch.nn.Sequential(*[build(s) for s in spec["children"]])
        args = [tuple(a) if isinstance(a, list) else a for a in codec.decode(spec.get("args", []))]
        kwargs = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in codec.decode(spec.get("kwargs", {"__dict__": {}})).items()}
        state = {}
        for k, v in spec["state"].items():
            arr = codec.decode(v)
            if not isinstance(arr, np.ndarray):
                raise WireError("bad weights")
            state[str(k)] = torch.from_numpy(arr.copy())
        # the layer's size comes from the sender: make it first without memory ("meta"
        # tensors) and require weights of exactly its shapes, so that building it allocates
        # no more than the message carried (Linear(60000, 60000) with no weights would
        # otherwise take 14 GB here, from a 150-byte message)
        try:
            with torch.device("meta"):
                shapes = {k: tuple(t.shape) for k, t in getattr(torch.nn, kind)(*args, **kwargs).state_dict().items()}
        except Exception as err:  # noqa: BLE001 - any argument torch refuses
            raise WireError(f"cannot rebuild a {kind} layer from these arguments") from err
        if shapes != {k: tuple(t.shape) for k, t in state.items()}:
            raise WireError(f"the weights sent do not fit the {kind} layer")
        layer = getattr(torch.nn, kind)(*args, **kwargs)
        if any(t.dtype == torch.float64 for t in state.values()):
            layer = layer.double()
        layer.load_state_dict(state)
        return layer

    return build(data["__module__"]).train(bool(data.get("training", False)))


def _remote_model(forward, backward):
    """A model whose weights are on the other side: every pass is a request there."""
    import torch

    class _Pass(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out, token = forward(x.detach(), bool(ctx.needs_input_grad[0]))
            ctx.token = token
            return torch.as_tensor(out)

        @staticmethod
        def backward(ctx, grad_output):
            if ctx.token is None:
                raise RuntimeError("this output was computed without a gradient")
            return torch.as_tensor(backward(ctx.token, grad_output.detach())).to(grad_output.dtype)

    class RemoteModel(torch.nn.Module):
        """The test's model: it runs in the grader's process, not here."""

        def forward(self, x):
            return _Pass.apply(torch.as_tensor(x))

    return RemoteModel()


REPLIES = ("value", "raise", "done", "missing")


class Peer:
    """One end of the wall: send requests, serve the other side's requests meanwhile."""

    def __init__(self, rfd: int, wfd: int, codec: Codec, handler, *, max_line: int = MAX_LINE,
                 max_items: int | None = None):
        self.rfd, self.wfd = rfd, wfd
        self.codec = codec
        self.handler = handler  # handler(msg) -> reply dict
        self.max_line = max_line    # bytes in one message
        self.max_items = max_items  # JSON values in one message (None: no limit)
        self.buf = bytearray()
        self.scanned = 0  # bytes of buf known to hold no newline: every byte is looked at once
        self.received = 0  # bytes of all the messages read so far
        self.budget: int | None = None  # a message that takes `received` past this is refused

    def send(self, msg: dict) -> None:
        data = (json.dumps(msg, allow_nan=True) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(self.wfd, view)
            view = view[n:]

    def recv(self, deadline: float | None = None) -> dict:
        while True:
            end = self.buf.find(b"\n", self.scanned)
            if end >= 0:
                break
            self.scanned = len(self.buf)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WireError("timed out")
                ready, _, _ = select.select([self.rfd], [], [], left)
                if not ready:
                    raise WireError("timed out")
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise WireError("the other side closed the connection")
            self.buf += chunk  # a bytearray grows in place: reading is linear in the message size
            if len(self.buf) > self.max_line + 1 and self.buf.find(b"\n", self.scanned) < 0:
                raise MessageTooLarge(f"message too large (over {self.max_line // 2**20} MB)")
        line = bytes(self.buf[:end])
        del self.buf[: end + 1]
        self.scanned = 0
        if len(line) > self.max_line:
            raise MessageTooLarge(f"message too large (over {self.max_line // 2**20} MB)")
        self.received += len(line)
        if self.budget is not None and self.received > self.budget:
            raise MessageTooLarge("the messages add up to too much (over the "
                                  f"{TRUSTED_MAX_PER_TEST // 2**20} MB a test may receive or the "
                                  f"{TRUSTED_MAX_TOTAL // 2**20} MB a submission may)")
        if self.max_items is not None:
            items = line.count(b"[") + line.count(b"{") + line.count(b",")
            if items > self.max_items:
                raise MessageTooLarge(f"message too large (over {self.max_items} values)")
        try:
            msg = json.loads(line)
        except (ValueError, RecursionError) as err:
            raise WireError("malformed message") from err
        if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
            raise WireError("malformed message")
        return msg

    def request(self, msg: dict, deadline: float | None = None) -> dict:
        """Send ``msg`` and return the reply, serving nested requests until it comes."""
        self.send(msg)
        return self.wait_reply(deadline)

    def wait_reply(self, deadline: float | None = None) -> dict:
        while True:
            reply = self.recv(deadline)
            if reply["op"] in REPLIES:
                return reply
            self.send(self.handler(reply))

    def serve_forever(self) -> None:
        while True:
            msg = self.recv()
            if msg["op"] == "quit":
                return
            self.send(self.handler(msg))
