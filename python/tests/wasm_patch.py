"""A faulty build of the engine for the tests: the real component with the bodies of some
exports' core functions replaced by `unreachable`, so that calling them traps (as the Rust
host's tests use a component whose every export traps).

Just enough of the binary formats: a component's core module sections (id 1), and in a
core module the import (2), export (7) and code (10) sections.
"""

from __future__ import annotations

from typing import Iterable, Iterator, List, Set, Tuple


def _leb(data: bytes, i: int) -> Tuple[int, int]:
    """An unsigned LEB128 at `i`: the value and the offset after it."""
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _sections(data: bytes, start: int) -> Iterator[Tuple[int, bytes]]:
    i = start
    while i < len(data):
        sid = data[i]
        size, j = _leb(data, i + 1)
        yield sid, data[j : j + size]
        i = j + size


def _name(data: bytes, i: int) -> Tuple[str, int]:
    n, i = _leb(data, i)
    return data[i : i + n].decode(), i + n


def _imported_functions(payload: bytes) -> int:
    count, i = _leb(payload, 0)
    functions = 0
    for _ in range(count):
        _, i = _name(payload, i)
        _, i = _name(payload, i)
        kind = payload[i]
        i += 1
        if kind == 0:  # a function: its type index
            functions += 1
            _, i = _leb(payload, i)
        elif kind in (1, 2):  # a table (a one-byte reference type first) or a memory: limits
            if kind == 1:
                i += 1
            flags = payload[i]
            _, i = _leb(payload, i + 1)
            if flags & 1:
                _, i = _leb(payload, i)
        elif kind == 3:  # a global: value type and mutability
            i += 2
        else:
            raise ValueError(f"import kind {kind} is not handled")
    return functions


def _exported_functions(payload: bytes) -> Iterator[Tuple[str, int]]:
    count, i = _leb(payload, 0)
    for _ in range(count):
        name, i = _name(payload, i)
        kind = payload[i]
        index, i = _leb(payload, i + 1)
        if kind == 0:
            yield name, index


# No locals, `unreachable`, `end`: valid for any function type.
_TRAP = b"\x00\x00\x0b"


def _patch_module(module: bytes, suffixes: Iterable[str]) -> Tuple[bytes, Set[str]]:
    sections = list(_sections(module, 8))
    imported = sum(_imported_functions(p) for sid, p in sections if sid == 2)
    exports = [e for sid, p in sections if sid == 7 for e in _exported_functions(p)]
    # The export itself, not its `cabi_post_` function (which others may share).
    targets = {
        index - imported: name
        for name, index in exports
        for s in suffixes
        if name.endswith(s) and not name.startswith("cabi_")
    }
    if not targets:
        return module, set()
    out = bytearray(module[:8])
    for sid, payload in sections:
        if sid == 10:
            count, i = _leb(payload, 0)
            bodies: List[bytes] = []
            for n in range(count):
                size, j = _leb(payload, i)
                bodies.append(_TRAP if n in targets else payload[j : j + size])
                i = j + size
            payload = _uleb(count) + b"".join(_uleb(len(b)) + b for b in bodies)
        out += bytes([sid]) + _uleb(len(payload)) + payload
    return bytes(out), set(targets.values())


def trapping(component: bytes, suffixes: Iterable[str]) -> bytes:
    """`component` with every core function whose export name ends with one of `suffixes`
    (`#version`) made to trap; fails if none was found."""
    wanted = list(suffixes)
    out = bytearray(component[:8])
    patched: Set[str] = set()
    for sid, payload in _sections(component, 8):
        if sid == 1:
            payload, names = _patch_module(payload, wanted)
            patched |= names
        out += bytes([sid]) + _uleb(len(payload)) + payload
    missing = [s for s in wanted if not any(n.endswith(s) for n in patched)]
    assert not missing, f"no core export ends with {missing}"
    return bytes(out)
