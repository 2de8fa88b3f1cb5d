"""The package's API as a gateway uses it: documents in every form, errors with the
contract's codes and pointers, the limits checked before the engine, and the wheel that
was installed (never the source tree)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

import mdm_policy
from mdm_policy import Document, Limits, MdmError, Policy, preview, validate, version
from mdm_policy import _core

from runner import REPO

AT = "2026-11-22T10:00:00Z"
POLICY = '{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]}}'
LOGIN = {"type": "login", "user": "alice", "at": AT, "device": {"device_id": "A1", "os_type": "ios"}}


def error(f: Callable[[], object]) -> MdmError:
    with pytest.raises(MdmError) as raised:
        f()
    return raised.value


def test_the_installed_wheel_is_tested_with_its_component() -> None:
    assert "site-packages" in Path(mdm_policy.__file__).parts
    assert resources.files("mdm_policy").joinpath("mdm.wasm").read_bytes()[:4] == b"\0asm"
    assert resources.files("mdm_policy").joinpath("py.typed").is_file()


def test_the_export_is_found_by_its_interface_name() -> None:
    name, current = _core.runtime().interface.split("@")
    assert name == "mdm:policy/engine"
    # The same component as another version of the WIT package (`mdm:policy@0.4.0`, say):
    # every name that carries the version, renamed alike, keeps it valid.
    real = resources.files("mdm_policy").joinpath("mdm.wasm").read_bytes()
    other = real.replace(f"@{current}".encode(), b"@9.9.9")
    runtime = _core.Runtime(_core.engine(), other)
    assert runtime.interface == "mdm:policy/engine@9.9.9"
    assert _core.Instance(runtime, Limits()).call(_core.VERSION) == version()


def test_documents_as_text_bytes_or_values_decide_alike() -> None:
    forms: List[Tuple[Document, Document]] = [
        (POLICY, json.dumps(LOGIN)),
        (POLICY.encode(), json.dumps(LOGIN).encode()),
        (json.loads(POLICY), LOGIN),
    ]
    answers = [Policy(doc).evaluate(["sales"], None, event) for doc, event in forms]
    assert answers[0] == answers[1] == answers[2]
    decision = answers[0]["decision"]
    assert "outcome" in decision and decision["outcome"] == "allow"
    assert decision["reasons"] == ["scope.group", "device.first"]
    assert answers[0]["state"]["devices"][0]["device_id"] == "A1"


def test_a_stored_state_decides_the_next_event() -> None:
    policy = Policy(POLICY)
    state = policy.evaluate(["sales"], None, LOGIN)["state"]
    second = {**LOGIN, "device": {"device_id": "A2", "os_type": "android"}}
    pending = policy.evaluate(["sales"], state, second)
    assert pending["decision"].get("outcome") == "pending_approval"
    approve = {"type": "approve", "user": "alice", "device_id": "A2", "at": AT}
    approved = policy.evaluate(["sales"], json.dumps(pending["state"]), approve)
    assert [d["device_id"] for d in approved["state"]["devices"]] == ["A2"]


def test_contract_errors_carry_code_and_pointer() -> None:
    e = error(lambda: Policy('{"schema":"mdm.policy/v1","assigned":{"max_devices":0}}'))
    assert (e.code, e.pointer) == ("invalid_policy", "/assigned/max_devices")
    policy = Policy(POLICY)
    e = error(lambda: policy.evaluate([], None, {"type": "approve", "user": "alice", "device_id": "X9", "at": AT}))
    assert (e.code, e.pointer) == ("no_pending_request", "/device_id")
    e = error(lambda: policy.evaluate([], {"devices": 1}, LOGIN))
    assert (e.code, e.pointer) == ("invalid_state", "/devices")
    e = error(lambda: policy.evaluate([], None, {**LOGIN, "at": "yesterday"}))
    assert (e.code, e.pointer) == ("invalid_event", "/at")


def test_documents_are_checked_before_the_engine() -> None:
    e = error(lambda: Policy(b'{"schema":"\xff"}'))
    assert (e.code, e.pointer, e.message) == ("invalid_policy", "", "not UTF-8: invalid byte at offset 11")
    e = error(lambda: Policy(POLICY).evaluate([], None, {"at": float("nan")}))
    assert (e.code, e.pointer) == ("invalid_event", "")
    e = error(lambda: Policy(POLICY).evaluate([], "\ud800", LOGIN))
    assert (e.code, e.pointer) == ("invalid_state", "")
    e = error(lambda: Policy(POLICY, limits=Limits(max_document_bytes=10)))
    assert e.code == "invalid_policy" and e.message == f"the document is {len(POLICY)} bytes, more than the limit of 10"
    with pytest.raises(TypeError):
        Policy(POLICY).evaluate("sales", None, LOGIN)


def test_warnings_validate_preview_and_version() -> None:
    both = {"schema": "mdm.policy/v1", "assignment": {"groups": ["sales"], "exclude_groups": ["sales"]}}
    assert [w["code"] for w in Policy(both).warnings] == ["included_and_excluded"]
    report = validate('{"schema":"mdm.policy/v1","asigned":{},"unassigned":{"max_devices":0}}')
    assert [i["code"] for i in report["errors"]] == ["unknown_field", "out_of_range"]
    assert validate(b"\xff")["errors"] == [{"code": "syntax", "pointer": "", "message": "not UTF-8: invalid byte at offset 0"}]
    population = (REPO / "examples/population.json").read_bytes()
    proposed = (REPO / "examples/policy-engineering.json").read_text(encoding="utf-8")
    summary = preview(Policy((REPO / "examples/policy.json").read_text(encoding="utf-8")), proposed, population, AT)["summary"]
    assert summary["users"] == 4
    e = error(lambda: preview(POLICY, POLICY, population, "not a time"))
    assert e.code == "invalid_event"
    assert version().count(".") == 2
