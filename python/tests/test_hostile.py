"""The sandbox fails closed: the memory cap, the deadline and a trap each raise `MdmError`
with the Rust host's code, never a decision and never a crash, and the same `Policy` and
the module keep serving afterwards (the instance that faulted is replaced).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Callable, Iterator

import pytest

import mdm_policy
from mdm_policy import Limits, MdmError, Policy, preview, validate, version
from mdm_policy import _core
from wasm_patch import trapping

AT = "2026-11-22T10:00:00Z"
SALES = {"schema": "mdm.policy/v1", "assignment": {"groups": ["sales"]}, "assigned": {"on_new_device": "replace"}}
EVERYONE = {"schema": "mdm.policy/v1", "assignment": {"organization": True}}


def login(device: str) -> dict[str, object]:
    return {"type": "login", "user": "alice", "at": AT, "device": {"device_id": device, "os_type": "ios"}}


def state_with(n: int) -> dict[str, object]:
    devices = [{"device_id": f"D{i}", "os_type": "ios", "registered_at": "2026-01-01T00:00:00Z"} for i in range(n)]
    return {"devices": devices}


def population(n: int) -> str:
    directory = {f"u{i}": ["sales"] for i in range(n)}
    states = {f"u{i}": state_with(1) for i in range(n)}
    return json.dumps({"directory": directory, "state": states})


def fault(f: Callable[[], object]) -> str:
    """The code of the `MdmError` `f` raises; an answer fails the test."""
    with pytest.raises(MdmError) as raised:
        answer = f()
        pytest.fail(f"expected a fault, got an answer: {str(answer)[:200]}")
    assert raised.value.pointer == ""
    return raised.value.code


def allows(policy: Policy) -> bool:
    decision = policy.evaluate(["sales"], None, login("A1"))["decision"]
    return decision.get("outcome") == "allow"


def test_a_huge_valid_policy_trips_the_memory_cap() -> None:
    groups = [f"g{i}" for i in range(1_000_000)]
    huge = json.dumps({"schema": "mdm.policy/v1", "assignment": {"groups": groups}})
    assert fault(lambda: Policy(huge, limits=Limits(memory_bytes=8 << 20))) == "host.memory_limit"
    assert allows(Policy(SALES, limits=Limits(memory_bytes=8 << 20)))


def test_a_population_that_fits_but_whose_preview_does_not() -> None:
    # 2.5 MB of text crosses into the guest; parsing it needs more than 8 MiB.
    pop = population(20_000)
    small = Limits(memory_bytes=8 << 20)
    assert fault(lambda: preview(SALES, EVERYONE, pop, AT, limits=small)) == "host.memory_limit"
    assert preview(SALES, EVERYONE, population(10), AT, limits=small)["summary"]["users"] == 10
    assert preview(SALES, EVERYONE, pop, AT, limits=Limits(memory_bytes=1 << 30, deadline_seconds=30))["summary"]["became_assigned"] == 0


def test_the_memory_cap_on_a_policy_then_it_serves() -> None:
    policy = Policy(SALES, limits=Limits(memory_bytes=4 << 20))
    assert fault(lambda: policy.evaluate(["sales"], state_with(100_000), login("NEW"))) == "host.memory_limit"
    assert allows(policy)


def test_the_deadline_on_a_preview_then_the_module_serves() -> None:
    pop = population(100_000)
    tight = Limits(memory_bytes=1 << 30, deadline_seconds=0.001)
    assert fault(lambda: preview(SALES, EVERYONE, pop, AT, limits=tight)) == "host.deadline"
    assert preview(SALES, EVERYONE, population(4), AT, limits=tight)["summary"]["users"] == 4
    assert validate(SALES)["errors"] == []


def test_the_deadline_on_a_policy_then_it_serves() -> None:
    policy = Policy(SALES, limits=Limits(memory_bytes=1 << 30, deadline_seconds=0.002))
    # Replacing among 300k devices parses and sorts them all: far past 2 ms in the guest.
    assert fault(lambda: policy.evaluate(["sales"], state_with(300_000), login("NEW"))) == "host.deadline"
    assert allows(policy)


@pytest.fixture
def faulty_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's runtime replaced by a build whose `version` and `policy.evaluate` trap."""
    real = resources.files("mdm_policy").joinpath("mdm.wasm").read_bytes()
    faulty = _core.Runtime(_core.engine(), trapping(real, ["#version", "#[method]policy.evaluate"]))
    monkeypatch.setattr(_core, "_runtime", faulty)
    yield


def test_a_trap_is_an_error_not_a_crash(faulty_engine: None) -> None:
    policy = Policy(SALES)  # parsing does not trap
    for _ in range(3):  # each time in a new instance: the one that trapped is dropped
        assert fault(lambda: policy.evaluate(["sales"], None, login("A1"))) == "host.trap"
    assert fault(version) == "host.trap"
    assert validate(SALES)["errors"] == []


def test_the_real_engine_is_unaffected_by_a_faulty_one(faulty_engine: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert fault(version) == "host.trap"
    monkeypatch.undo()
    assert version() == mdm_policy.__version__
    assert allows(Policy(SALES))
