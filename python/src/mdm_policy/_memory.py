"""The guest's linear memories, made by this package so that it sees every growth.

wasmtime's Python bindings give a store a memory cap (`Store.set_limits`) but not the
callback the Rust host's `ResourceLimiter` gets: a refused `memory.grow` is invisible, and
the guest then aborts with an `unreachable` trap, exactly as it would on a bug. To answer
`host.memory_limit` as the Rust host does, the engine gets a host memory creator
(`wasmtime_config_host_memory_creator_set` of wasmtime's C API): each linear memory is an
`mmap` reservation whose growth is granted here up to its store's cap and refused past it,
and a refusal is noted on the store's `Meter`.

Every callback returns an error rather than raise: ctypes answers a callback that raised
with 0, which to wasmtime means success with an unset memory, and wasmtime then aborts
the process. POSIX only (Linux, macOS), as `mmap` is.
"""

from __future__ import annotations

import ctypes
import mmap
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Dict, Iterator, Optional

import wasmtime

# The C API's structures and callback types, from the bindings of the pinned wasmtime
# version (their struct fields accept only these callback types).
from wasmtime import _ffi as ffi

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64]
_libc.mprotect.restype = ctypes.c_int
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.munmap.restype = ctypes.c_int
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

_MAP_FAILED = ctypes.c_void_p(-1).value
_NONE = 0  # PROT_NONE: 0 on every POSIX system, and not named by every Python's mmap module
_RW = mmap.PROT_READ | mmap.PROT_WRITE
# Reserved address space only: nothing is committed until a growth makes it writable.
_FLAGS = mmap.MAP_PRIVATE | getattr(mmap, "MAP_ANONYMOUS", getattr(mmap, "MAP_ANON", 0)) | getattr(mmap, "MAP_NORESERVE", 0)
_WASM_PAGE = 1 << 16


@dataclass
class Meter:
    """One store's memory cap, and whether a growth was refused since it was last reset."""

    limit: int
    hit: bool = False


@dataclass
class _Memory:
    base: int
    size: int
    capacity: int
    mapped: int
    meter: Meter = field(repr=False)


_memories: Dict[int, _Memory] = {}
_next_id = iter(range(1, 1 << 62))
_local = threading.local()


@contextmanager
def metered(meter: Meter) -> Iterator[None]:
    """Within this block, memories this thread's instantiation creates count against `meter`.

    wasmtime creates an instance's memories during `instantiate`, on the calling thread,
    without saying for which store: the thread says it instead.
    """
    _local.meter = meter
    try:
        yield
    finally:
        _local.meter = None


def _error(message: str) -> int:
    """A `wasmtime_error_t *` for wasmtime to take ownership of."""
    pointer = ffi.wasmtime_error_new(message.encode())
    return ctypes.cast(pointer, ctypes.c_void_p).value or 0


def _round_up(n: int, to: int) -> int:
    return -(-n // to) * to


def _new(
    _env: Optional[int],
    _ty: object,
    minimum: int,
    _maximum: int,
    reserved: int,
    guard: int,
    out: "ctypes._Pointer[ffi.wasmtime_linear_memory_t]",
) -> int:
    try:
        meter: Optional[Meter] = getattr(_local, "meter", None)
        if meter is None:
            return _error("a memory outside an mdm_policy instantiation")
        if minimum > meter.limit:
            meter.hit = True
            return _error(f"the component needs {minimum} bytes at start, more than the cap of {meter.limit}")
        # Reserve what wasmtime's compiled code assumes (its reservation and guard), so
        # that its elided bounds checks land in unmapped pages, never in other memory.
        capacity = _round_up(max(reserved, meter.limit, minimum), _WASM_PAGE)
        mapped = capacity + guard
        base = _libc.mmap(None, mapped, _NONE, _FLAGS, -1, 0)
        if base is None or base == _MAP_FAILED:
            return _error(f"cannot reserve {mapped} bytes of address space (errno {ctypes.get_errno()})")
        if minimum and _libc.mprotect(base, minimum, _RW) != 0:
            _libc.munmap(base, mapped)
            return _error(f"cannot commit {minimum} bytes (errno {ctypes.get_errno()})")
        key = next(_next_id)
        _memories[key] = _Memory(base=base, size=minimum, capacity=capacity, mapped=mapped, meter=meter)
        out[0].env = key
        out[0].get_memory = _get_memory
        out[0].grow_memory = _grow_memory
        out[0].finalizer = _free_memory
        return 0
    except BaseException as e:  # noqa: BLE001 - see the module's docstring
        return _error(f"cannot create a memory: {e!r}")


def _get(env: int, size: "ctypes._Pointer[ctypes.c_size_t]", capacity: "ctypes._Pointer[ctypes.c_size_t]") -> int:
    # A lookup of a live memory: wasmtime asks only between creation and finalization.
    m = _memories[env]
    size[0] = m.size
    capacity[0] = m.capacity
    return m.base


def _grow(env: int, new_size: int) -> int:
    try:
        m = _memories[env]
        if new_size > m.meter.limit or new_size > m.capacity:
            m.meter.hit = True
            return _error(f"the memory cap of {m.meter.limit} bytes refuses {new_size}")
        if new_size > m.size and _libc.mprotect(m.base, new_size, _RW) != 0:
            return _error(f"cannot commit {new_size} bytes (errno {ctypes.get_errno()})")
        m.size = max(m.size, new_size)
        return 0
    except BaseException as e:  # noqa: BLE001 - see the module's docstring
        return _error(f"cannot grow a memory: {e!r}")


def _free(env: int) -> None:
    try:
        m = _memories.pop(env, None)
        if m is not None:
            _libc.munmap(m.base, m.mapped)
    except BaseException:  # noqa: BLE001 - at interpreter shutdown the globals may be gone
        pass


def _nothing(_env: Optional[int]) -> None:
    """The creator's own finalizer: it holds nothing."""


# The callbacks as C function pointers, alive as long as this module (wasmtime keeps the
# pointers only).
_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_new_memory = ffi.wasmtime_new_memory_callback_t(_new)
_get_memory = ffi.wasmtime_memory_get_callback_t(_get)
_grow_memory = ffi.wasmtime_memory_grow_callback_t(_grow)
_free_memory = _FINALIZER(_free)
_no_finalizer = _FINALIZER(_nothing)


def configure(config: wasmtime.Config) -> None:
    """Makes every linear memory of engines built from `config` one of this module's."""
    # Copy-on-write initialisation needs wasmtime's own mmap memories (wasmtime 50 panics
    # on a host memory with it on); the data segments are copied instead, 200 KB once.
    config.memory_init_cow = False
    creator = ffi.wasmtime_memory_creator_t(None, _new_memory, _no_finalizer)
    # wasmtime copies the structure; the callbacks live as long as this module.
    ffi.wasmtime_config_host_memory_creator_set(config.ptr(), ctypes.byref(creator))
