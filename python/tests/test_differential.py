"""The random sequences of tests/differential.rs through the package: every step must give
the native engine's trace, which that test writes to target/generated/differential.jsonl
(2,000 sequences; at least 500 must be there).
"""

from __future__ import annotations

import json

from runner import GENERATED, assert_same_trace, run_scenario

FILE = GENERATED / "differential.jsonl"
COMMAND = "cargo test --release -p mdm-tests --test differential"


def test_random_sequences_equal_native() -> None:
    assert FILE.exists(), f"no {FILE}: `{COMMAND}` writes it (make test runs it)"
    lines = [line for line in FILE.read_text(encoding="utf-8").splitlines() if line]
    assert len(lines) >= 500, f"{len(lines)} sequences in {FILE}; `{COMMAND}` writes 2,000"
    steps = 0
    for line in lines:
        case = json.loads(line)
        assert_same_trace(run_scenario(case["scenario"]), case["trace"], f"seed {case['seed']}")
        steps += len(case["trace"])
    print(f"{len(lines)} sequences, {steps} steps: Python = native")
