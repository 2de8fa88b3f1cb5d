"""The whole scenario corpus (tests/scenarios, every version) through the package, as
js/test/jco.test.mjs runs it through jco: every trace must equal the native engine's
(`mdm run --native --json`), which the wasmtime host must also give (tests/scenarios.rs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import REPO, assert_same_trace, native_trace, run_scenario

CORPUS = REPO / "tests/scenarios"
FILES = sorted(CORPUS.rglob("*.json"))


def test_the_corpus_is_there() -> None:
    assert len(FILES) > 100, f"{len(FILES)} scenarios under {CORPUS}"


@pytest.mark.parametrize("file", FILES, ids=lambda f: str(f.relative_to(CORPUS)))
def test_scenario(file: Path) -> None:
    scenario = json.loads(file.read_text(encoding="utf-8"))
    assert_same_trace(run_scenario(scenario), native_trace(file), str(file.relative_to(CORPUS)))
