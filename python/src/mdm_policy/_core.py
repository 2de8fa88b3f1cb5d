"""The sandbox: one wasmtime engine and one compiled component per process, and instances
of it, each in its own store with a memory cap and a deadline. Any fault of the guest is
an `MdmError` with the Rust host's code (`host.trap`, `host.deadline`,
`host.memory_limit`, `host.protocol`, `host.load`), after which the instance is never used
again.
"""

from __future__ import annotations

import ctypes
import json
import math
import threading
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime import component as wc
from wasmtime.component._enter import enter_wasm

from . import _memory

# The document-level entry points of the `mdm:policy/engine` interface.
PARSE = "[static]policy.parse"
WARNINGS = "[method]policy.warnings"
EVALUATE = "[method]policy.evaluate"
VALIDATE = "validate"
PREVIEW = "preview"
VERSION = "version"
_FUNCTIONS = (PARSE, WARNINGS, EVALUATE, VALIDATE, PREVIEW, VERSION)
_INTERFACE = "mdm:policy/engine"

# How often the deadline clock ticks (as the Rust host's default): a call may overrun its
# deadline by up to one tick.
_TICK_SECONDS = 0.005
# The component's own start-up is not held to a per-call deadline, but still bounded.
_INSTANTIATION_SECONDS = 1.0

Document = Union[str, bytes, bytearray, memoryview, Mapping[str, Any]]
"""A JSON document: its text, the bytes it arrived in (UTF-8), or a parsed value."""


class MdmError(Exception):
    """An error of the engine: never a decision, and the stored state stays as it was.

    `code` is the contract's (`invalid_policy`, `invalid_event`, `invalid_state`,
    `no_pending_request`, `request_expired`, `unknown_device`, `not_permitted`) or, for a
    fault of the sandbox, the Rust host's (`host.trap`, `host.deadline`,
    `host.memory_limit`, `host.protocol`, `host.load`): a gateway denies on any of them.
    `pointer` is the JSON Pointer of the offending field (`""`: the root, or none).
    """

    def __init__(self, code: str, pointer: str, message: str) -> None:
        super().__init__(f"{code} at `{pointer}`: {message}")
        self.code = code
        self.pointer = pointer
        self.message = message


@dataclass(frozen=True)
class Limits:
    """The sandbox's limits, per instance of the engine (the Rust gateway's defaults)."""

    memory_bytes: int = 64 << 20
    """The most linear memory the engine may have; past it a call is `host.memory_limit`."""
    deadline_seconds: float = 0.1
    """The longest one call may run; past it (give or take 5 ms) it is `host.deadline`."""
    max_document_bytes: int = 64 << 20
    """The largest document accepted; a larger one is refused before it reaches the engine."""


def _ticks(seconds: float) -> int:
    # One extra tick: the current one may be about to end.
    return max(0, math.ceil(seconds / _TICK_SECONDS)) + 1


class Runtime:
    """The compiled component and what instantiates it: one per process (`runtime()`)."""

    def __init__(self, engine: wasmtime.Engine, component_bytes: bytes) -> None:
        self.engine = engine
        try:
            self.component = wc.Component(engine, component_bytes)
            exports = self.component.type.exports(engine)
            # By interface name, whatever the package's version (`mdm:policy/engine@0.3.0`).
            names = [n for n in exports if n.split("@", 1)[0] == _INTERFACE]
            if len(names) != 1:
                raise MdmError("host.load", "", f"cannot load the engine: no single `{_INTERFACE}` export in {list(exports)}")
            interface = self.component.get_export_index(names[0])
            self.interface = names[0]
            self.functions: Dict[str, wc.ExportIndex] = {}
            for name in _FUNCTIONS:
                index = self.component.get_export_index(name, interface)
                if index is None:
                    raise MdmError("host.load", "", f"cannot load the engine: `{names[0]}` has no `{name}`")
                self.functions[name] = index
            self.linker = wc.Linker(engine)
        except wasmtime.WasmtimeError as e:
            raise MdmError("host.load", "", f"cannot load the engine: {e}") from None


_engine_lock = threading.Lock()
_engine: Optional[wasmtime.Engine] = None
_runtime: Optional[Runtime] = None


def engine() -> wasmtime.Engine:
    """The process's wasmtime engine, made at first use, with its deadline clock running."""
    global _engine
    with _engine_lock:
        if _engine is None:
            config = wasmtime.Config()
            config.epoch_interruption = True
            _memory.configure(config)
            made = wasmtime.Engine(config)
            threading.Thread(target=_tick, args=(made,), name="mdm-policy-epoch", daemon=True).start()
            _engine = made
        return _engine


def _tick(e: wasmtime.Engine) -> None:
    """The clock deadlines count: the engine's epoch advances every tick, for ever."""
    while True:
        time.sleep(_TICK_SECONDS)
        e.increment_epoch()


def runtime() -> Runtime:
    """The process's runtime: the packaged component, compiled once at first use."""
    global _runtime
    if _runtime is None:
        made_engine = engine()
        with _engine_lock:
            if _runtime is None:
                try:
                    wasm = resources.files("mdm_policy").joinpath("mdm.wasm").read_bytes()
                except OSError as e:
                    raise MdmError("host.load", "", f"cannot load the engine: the package has no component ({e})") from None
                _runtime = Runtime(made_engine, wasm)
    return _runtime


class Instance:
    """One instance of the component in a store of its own, used by one thread at a time.

    After a fault (`faulted`), the instance is never called again: the guest may have
    stopped half-way through a change of its memory.
    """

    def __init__(self, rt: Runtime, limits: Limits) -> None:
        self.faulted = False
        self._meter = _memory.Meter(limits.memory_bytes)
        self._deadline = _ticks(limits.deadline_seconds)
        self._store = wasmtime.Store(rt.engine)
        self._store.set_epoch_deadline(_ticks(max(_INSTANTIATION_SECONDS, limits.deadline_seconds)))
        try:
            with _memory.metered(self._meter):
                instance = rt.linker.instantiate(self._store, rt.component)
        except wasmtime.WasmtimeError as e:
            fault = self._fault(e)
            if fault.code == "host.trap":
                fault = MdmError("host.load", "", f"cannot load the engine: instantiating the component: {e}")
            raise fault from None
        self._functions: Dict[str, Tuple[wc.Func, List[wc.ValType], Optional[wc.ValType]]] = {}
        for name, index in rt.functions.items():
            f = instance.get_func(self._store, index)
            if f is None:
                raise MdmError("host.load", "", f"cannot load the engine: `{name}` is not a function")
            # The bindings' `Func.__call__` reflects on the function's type at every call,
            # which costs more than the call itself: the types are read once here.
            ty = f.type(self._store)
            self._functions[name] = (f, [t for _, t in ty.params], ty.result)

    def call(self, name: str, *args: Any) -> Any:
        """Calls the export `name` under a fresh deadline; a fault raises `MdmError`."""
        if self.faulted:
            raise MdmError("host.protocol", "", "an instance that faulted was called again")
        self._store.set_epoch_deadline(self._deadline)
        self._meter.hit = False
        try:
            return self._invoke(name, args)
        except wasmtime.WasmtimeError as e:
            raise self._fault(e) from None
        except (TypeError, ValueError, UnicodeError) as e:
            # wasmtime-py could not convert a value to or from the guest's types.
            self.faulted = True
            raise MdmError("host.protocol", "", f"the engine's answer does not fit the request: {e!r}") from None

    def _invoke(self, name: str, args: Tuple[Any, ...]) -> Any:
        """`Func.__call__` of wasmtime-py 50.0.1 with the types read in advance."""
        f, params, result = self._functions[name]
        if len(args) != len(params):
            raise TypeError(f"`{name}` takes {len(params)} arguments, not {len(args)}")
        lowered = (ffi.wasmtime_component_val_t * len(args))()
        done = 0
        try:
            for ty, value in zip(params, args):
                ty.convert_to_c(self._store, value, ctypes.pointer(lowered[done]))
                done += 1
            out = ffi.wasmtime_component_val_t()
            call = ffi.wasmtime_component_func_call
            enter_wasm(lambda: call(ctypes.byref(f._func), self._store._context(), lowered, done, ctypes.byref(out), 1))
            return None if result is None else _lift(result, out)
        finally:
            for i in range(done):
                ffi.wasmtime_component_val_delete(ctypes.byref(lowered[i]))

    def _fault(self, e: wasmtime.WasmtimeError) -> MdmError:
        """Classifies a failed call as the Rust host does: memory first, then the deadline."""
        self.faulted = True
        text = str(e)
        if self._meter.hit:
            return MdmError("host.memory_limit", "", f"the engine hit the sandbox's memory limit of {self._meter.limit} bytes")
        # The trap wasmtime raises when the epoch deadline passes (`Trap::Interrupt`); the
        # bindings give a component call's error as text only.
        if "wasm trap: interrupt" in text:
            return MdmError("host.deadline", "", "the engine ran past its deadline and was stopped")
        return MdmError("host.trap", "", f"the engine trapped: {text.strip()}")


def _lift(ty: wc.ValType, out: Any) -> Any:
    """A call's result as a Python value. The usual answer, `ok(string)` (a decision, a
    report), is read straight from the C value: the bindings' generic lifting of a
    `result` builds its case types anew each time. Anything else is lifted by them."""
    result = out.of.result
    if out.kind == ffi.WASMTIME_COMPONENT_RESULT.value and result.is_ok and result.val:
        value = result.val.contents
        if value.kind == ffi.WASMTIME_COMPONENT_STRING.value:
            data = value.of.string
            raw = ctypes.string_at(data.data, data.size) if data.size else b""
            ffi.wasmtime_component_val_delete(ctypes.byref(out))
            return raw.decode("utf-8")
    return ty.convert_from_c(out)


# The contract's names for a document's errors, by what the document is.
_KIND = {"policy": "invalid_policy", "event": "invalid_event", "state": "invalid_state"}


def text(document: Document, kind: str, limits: Limits) -> str:
    """The text of a document of `kind` ("policy", "event" or "state"), checked as the other
    runtimes check it before the engine reads it: UTF-8 (never repaired) and within
    `limits.max_document_bytes`. Errors are the kind's `invalid_*` at the root.
    """
    code = _KIND[kind]
    if isinstance(document, (bytes, bytearray, memoryview)):
        raw = bytes(document)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            # The engine's own wording (`DocumentKind::text`), so that every runtime agrees.
            raise MdmError(code, "", f"not UTF-8: invalid byte at offset {e.start}") from None
        size = len(raw)
    else:
        if isinstance(document, str):
            value = document
        else:
            try:
                value = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_plain)
            except (TypeError, ValueError, RecursionError) as e:
                raise MdmError(code, "", f"not a JSON value: {e}") from None
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError as e:
            raise MdmError(code, "", f"not Unicode text: a lone surrogate at character {e.start}") from None
    if size > limits.max_document_bytes:
        raise MdmError(code, "", f"the document is {size} bytes, more than the limit of {limits.max_document_bytes}")
    return value


def _plain(value: object) -> object:
    """A mapping that is not a `dict` as one, for `json.dumps`; anything else is refused."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def snake(code: str) -> str:
    """A WIT enum case (`invalid-policy`) as the contract spells it (`invalid_policy`)."""
    return code.replace("-", "_")


def unwrap(value: Any, ok: type) -> Any:
    """The `ok` of a WIT `result<_, error>` as the bindings lift it (the value itself, or
    the error's record), or the error raised as `MdmError`."""
    if isinstance(value, ok):
        return value
    fields = _record(value, ("code", "pointer", "message"))
    if fields is None:
        raise MdmError("host.protocol", "", f"the engine's answer does not fit the request: {value!r}")
    code, pointer, message = fields
    raise MdmError(snake(code), pointer, message)


def _record(value: Any, names: Tuple[str, ...]) -> Optional[Tuple[str, ...]]:
    got = [getattr(value, n, None) for n in names]
    return tuple(g for g in got if isinstance(g, str)) if all(isinstance(g, str) for g in got) else None


def issues(values: Any) -> List[Dict[str, str]]:
    """A WIT `list<issue>` as the contract's issues, `{code, pointer, message}`."""
    out = []
    for v in values:
        fields = _record(v, ("code", "pointer", "message"))
        if fields is None:
            raise MdmError("host.protocol", "", f"the engine's answer does not fit the request: {v!r}")
        out.append({"code": snake(fields[0]), "pointer": fields[1], "message": fields[2]})
    return out


def loads(answer: str) -> Any:
    """The engine's JSON answer, parsed; text that is not JSON is a broken component."""
    try:
        return json.loads(answer)
    except ValueError as e:
        raise MdmError("host.protocol", "", f"the engine's answer is not JSON: {e}") from None
