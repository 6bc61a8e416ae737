"""The student's side of the wall: runs inside the sandbox (``python _kernel.py RFD WFD``).

It executes the cells the trusted process sends (the student's answers, the
locked setup cells, the visible part of the test cells) in an IPython shell,
and answers requests for the student's values and calls of the student's
functions with plain data (see ``_wire.py``). It never sees a hidden test,
and nothing it says is a verdict: the trusted process decides.

This file imports nothing from the grading package: only it and ``_wire.py``
are copied into the sandbox.
"""

from __future__ import annotations

import signal
import sys

import _wire


class CellTimeout(KeyboardInterrupt):
    """Raised in student code that runs past its time limit."""


def _alarm(signum, frame):
    raise CellTimeout("the time limit for this cell was reached")


class Kernel:
    def __init__(self, rfd: int, wfd: int):
        from IPython.core.interactiveshell import InteractiveShell

        self.shell = InteractiveShell.instance()
        self.ns = self.shell.user_ns
        self.codec = _wire.Codec("k")
        self.codec.make_stub = self._stub
        self.codec.decode_other = lambda data: _wire.module_from_wire(data, self.codec, self._stub)
        self.codec.encode_other = lambda obj: _wire.module_to_wire(obj, self.codec)
        self.peer = _wire.Peer(rfd, wfd, self.codec, self.handle)
        signal.signal(signal.SIGALRM, _alarm)

    # -- stand-ins for objects of the trusted side --------------------------------
    def _stub(self, ref: int):
        peer, codec = self.peer, self.codec

        def _reply(msg):
            if msg["op"] == "raise":
                raise _wire.RemoteError(msg.get("type", "Error"), msg.get("message", ""))
            return codec.decode(msg.get("v"))

        class TrustedObject:
            _limelab_stub_ref = staticmethod(lambda self: {"__ref__": ref, "side": "t"})

            def __call__(self, *args, **kwargs):
                return _reply(peer.request({
                    "op": "call", "f": {"__ref__": ref, "side": "t"},
                    "args": codec.encode(list(args)), "kwargs": codec.encode(dict(kwargs)),
                }))

            def __getattr__(self, name):
                if name.startswith("__"):
                    raise AttributeError(name)
                return _reply(peer.request({"op": "getattr", "obj": {"__ref__": ref, "side": "t"},
                                            "name": name}))

        return TrustedObject()

    # -- requests -------------------------------------------------------------
    def _timed(self, seconds, fn):
        signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.001))
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _error(self, err: BaseException) -> dict:
        if isinstance(err, _wire.RemoteError):
            return {"op": "raise", "type": err.type_name, "message": err.remote_message}
        return {"op": "raise", "type": type(err).__name__, "message": str(err)[:2000]}

    def run_cell(self, code: str, kind: str, timeout: float) -> dict:
        before = {k: id(v) for k, v in self.ns.items()}
        result = self._timed(timeout, lambda: self.shell.run_cell(code, store_history=False))
        err = result.error_before_exec or result.error_in_exec
        if kind == "setup":
            for name, value in list(self.ns.items()):
                if name.startswith("_") and name not in ("_", "__"):
                    pass
                if before.get(name) != id(value) and not name.startswith("__"):
                    self.codec.globals_by_name[name] = value
                    self.codec.globals_by_id[id(value)] = name
        if err is None:
            return {"op": "done", "error": None}
        return {"op": "done", "error": {"type": type(err).__name__, "message": str(err)[:2000]}}

    def digest(self, name: str) -> str:
        """:func:`_wire.digest` of this side's setup object ``name`` ("" if there is none)."""
        if name not in self.codec.globals_by_name:
            return ""
        return _wire.digest(self.codec.globals_by_name[name])

    def handle(self, msg: dict) -> dict:
        op = msg["op"]
        try:
            if op == "exec":
                return self.run_cell(str(msg["code"]), str(msg.get("kind", "student")),
                                     float(msg.get("timeout", 60)))
            if op == "digest":
                names = [str(n) for n in msg.get("names", [])]
                return {"op": "value", "v": {"__dict__": {n: self.digest(n) for n in names}}}
            if op == "lookup":
                name = str(msg["name"])
                if name not in self.ns:
                    return {"op": "missing"}
                return {"op": "value", "v": self.codec.encode(self.ns[name])}
            timeout = float(msg.get("timeout", 60))
            if op == "call":
                f = self.codec.decode(msg["f"])
                args = self.codec.decode(msg.get("args", []))
                kwargs = self.codec.decode(msg.get("kwargs", {"__dict__": {}}))
                value = self._timed(timeout, lambda: f(*args, **kwargs))
                return {"op": "value", "v": self.codec.encode(value)}
            if op == "getattr":
                obj = self.codec.decode(msg["obj"])
                value = self._timed(timeout, lambda: getattr(obj, str(msg["name"])))
                return {"op": "value", "v": self.codec.encode(value)}
            if op == "getitem":
                obj = self.codec.decode(msg["obj"])
                key = self.codec.decode(msg["key"])
                return {"op": "value", "v": self.codec.encode(self._timed(timeout, lambda: obj[key]))}
            if op == "len":
                obj = self.codec.decode(msg["obj"])
                return {"op": "value", "v": int(self._timed(timeout, lambda: len(obj)))}
            if op == "list":
                obj = self.codec.decode(msg["obj"])
                return {"op": "value", "v": self.codec.encode(self._timed(timeout, lambda: list(obj)))}
            if op == "text":
                obj = self.codec.decode(msg["obj"])
                fn = repr if msg.get("how") == "repr" else str
                return {"op": "value", "v": str(self._timed(timeout, lambda: fn(obj)))[:100000]}
            return {"op": "raise", "type": "WireError", "message": f"unknown request {op!r}"}
        except BaseException as err:  # noqa: BLE001 - every student error becomes a reply
            return self._error(err)


def main(argv: list[str]) -> int:
    import os
    import resource

    nproc = os.environ.pop("LIMELAB_NPROC", None)
    if nproc:  # before any student code: soft and hard limit, so it cannot be raised again
        resource.setrlimit(resource.RLIMIT_NPROC, (int(nproc), int(nproc)))
    kernel = Kernel(int(argv[0]), int(argv[1]))
    kernel.peer.send({"op": "ready"})
    kernel.peer.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
