"""The bad-input corpus (tests/bad/) through the package, documents passed as the bytes of
their files, as js/test/bad.test.mjs does: each case must fail with its expected code and
JSON Pointer, and with exactly the error the engine gives natively (written by
`cargo test --release -p mdm-tests --test bad` to target/generated/bad.json).
"""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

from runner import GENERATED, REPO, run_bad

DIR = REPO / "tests/bad"
CONTEXT = json.loads((DIR / "context.json").read_text(encoding="utf-8"))
EXPECTED: Dict[str, Any] = json.loads((DIR / "expect.json").read_text(encoding="utf-8"))
NATIVE = GENERATED / "bad.json"


def run(name: str) -> Dict[str, str]:
    return run_bad(CONTEXT, name.split("/")[0], (DIR / name).read_bytes())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input(name: str) -> None:
    got = run(name)
    assert {"code": got["code"], "pointer": got["pointer"]} == EXPECTED[name]


def test_every_error_is_the_native_engines() -> None:
    assert NATIVE.exists(), f"no {NATIVE}: `cargo test --release -p mdm-tests --test bad` writes it (make test runs it)"
    native: Dict[str, Any] = json.loads(NATIVE.read_text(encoding="utf-8"))
    assert sorted(native) == sorted(EXPECTED), "the native run covered every case"
    differ = {name: (run(name), native[name]["error"]) for name in EXPECTED if run(name) != native[name]["error"]}
    assert not differ, f"{len(differ)} cases differ from the native engine (python, native): {differ}"
