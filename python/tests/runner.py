"""The scenario runner of spec section 4 for the Python package: a port of
`js/test/runner.mjs`, with the same steps and the same trace shape as the Rust runner
(`mdm run --json`), so that traces compare across runtimes. Also the repository's paths,
and the native engine's traces.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, cast

from mdm_policy import MdmError, Policy, UserState

REPO = Path(__file__).resolve().parents[2]
MDM = REPO / "target/release/mdm"
GENERATED = REPO / "target/generated"

Json = Any


def native_trace(file: Path) -> List[Json]:
    """The native engine's trace of a scenario file (`mdm run --native --json`)."""
    assert MDM.exists(), f"no {MDM}: cargo build --release makes it"
    done = subprocess.run([str(MDM), "run", "--native", "--json", str(file)], capture_output=True, text=True)
    assert done.returncode == 0, f"mdm run --native {file}: exit {done.returncode}: {done.stderr}"
    return cast(List[Json], json.loads(done.stdout)["trace"])


def failure(e: MdmError) -> Dict[str, str]:
    """An error as the traces show it."""
    return {"code": e.code, "pointer": e.pointer, "message": e.message}


# A policy that names nobody: whoever logs in is unassigned.
_NOBODY = Policy({"schema": "mdm.policy/v1"})
_PROBE_AT = "2026-01-01T00:00:00Z"


def parse_state(value: Json) -> UserState:
    """A stored state as the engine writes it, with every list present: what the JS
    package's `parseState` gives (the jco test shows initial states with it).

    The component has no such export, so the engine itself shows the state: a login of a
    device the state rejects changes nothing (step 1 denies it, whatever the scope), and
    the evaluation's state is the stored one as the engine writes it. The rejection added
    for it, under an id the state does not use, is taken off again.
    """
    state = dict(value)
    used = {d.get("device_id") for d in state.get("devices", [])}
    used |= {p.get("device", {}).get("device_id") for p in state.get("pending", [])}
    used |= {r.get("device_id") for r in state.get("rejected", [])}
    probe = next(f"probe-{i}" for i in range(len(used) + 1) if f"probe-{i}" not in used)
    state["rejected"] = [*state.get("rejected", []), {"device_id": probe, "rejected_at": _PROBE_AT}]
    login = {"type": "login", "user": "probe", "at": _PROBE_AT, "device": {"device_id": probe, "os_type": "other"}}
    evaluation = _NOBODY.evaluate([], state, login)
    decision = evaluation["decision"]
    assert "outcome" in decision and decision["reasons"] == ["scope.none", "device.rejected"], decision
    assert decision["effects"] == [], decision
    shown = evaluation["state"]
    assert shown["rejected"][-1]["device_id"] == probe, shown
    shown["rejected"].pop()
    return shown


def _step_error(pointer: str, message: str) -> Json:
    """A malformed `set_policy` or `set_groups`, worded as the Rust runner words it."""
    return {"error": {"code": "invalid_event", "pointer": pointer, "message": message}}


def run_scenario(scenario: Json) -> List[Json]:
    """Runs a parsed scenario through the package; the per-step trace: the event, its
    result, and the state of the user it names."""
    policy = Policy(json.dumps(scenario["policy"]))
    directory: Dict[str, Json] = dict(scenario.get("directory") or {})
    states: Dict[str, UserState] = {u: parse_state(s) for u, s in (scenario.get("state") or {}).items()}
    empty = parse_state({})
    trace = []
    for step in scenario["steps"]:
        event = step["event"]
        fields: Dict[str, Json] = event if isinstance(event, dict) else {}
        user = fields["user"] if isinstance(fields.get("user"), str) else ""
        result: Json
        if fields.get("type") == "set_policy" and "policy" not in fields:
            result = _step_error("/policy", "missing field `policy`")
        elif fields.get("type") == "set_policy":
            try:
                policy = Policy(json.dumps(fields["policy"]))
                result = "ok"
            except MdmError as e:
                result = {"error": failure(e)}
        elif fields.get("type") == "set_groups":
            groups = fields.get("groups")
            if user == "" or not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                result = _step_error("/groups", "`set_groups` needs a `user` and a list of `groups`")
            else:
                directory[user] = groups
                result = "ok"
        else:
            try:
                evaluation = policy.evaluate(directory.get(user, []), states.get(user), event)
                states[user] = evaluation["state"]
                result = {"decision": evaluation["decision"]}
            except MdmError as e:
                result = {"error": failure(e)}
        trace.append({"event": event, "result": result, "state": states.get(user, empty)})
    return trace


def run_bad(context: Json, document: str, data: bytes) -> Dict[str, str]:
    """Runs one bad-input case (`tests/bad/`): `document` names the bad one ("policy",
    "event" or "state"), `data` is its file; the others come from `context`. Returns the
    error the package raised; an answer fails the test."""

    def doc(name: str) -> bytes:
        return data if document == name else json.dumps(context[name]).encode()

    try:
        policy = Policy(doc("policy"))
        assert document != "policy", "expected an error, got a loaded policy"
        answer: Optional[Json] = policy.evaluate(context["groups"], doc("state"), doc("event"))
    except MdmError as e:
        return failure(e)
    raise AssertionError(f"expected an error, got {answer}")


def assert_same_trace(mine: List[Json], native: List[Json], what: str) -> None:
    """Every step equal, reported at the first that differs."""
    assert len(mine) == len(native), f"{what}: {len(mine)} steps, native {len(native)}"
    for i, (a, b) in enumerate(zip(mine, native)):
        assert a == b, f"{what}, step {i}:\n  python: {json.dumps(a)}\n  native: {json.dumps(b)}"
