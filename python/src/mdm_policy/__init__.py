"""mdm-policy for Python: the Mobile Device Management rules engine's WebAssembly
component, embedded through wasmtime, for gateways written in Python.

Every decision is made by the same sandboxed module the Rust host (`mdm-host`) runs: one
wasmtime engine and one compiled component per process, made at first use; an instance
per policy and concurrent caller, each in a store with a memory cap and a deadline
(`Limits`). A fault of the guest (a trap, the memory cap, the deadline) raises `MdmError`
with the Rust host's code (`host.trap`, `host.memory_limit`, `host.deadline`), the
instance it happened in is thrown away, and the next call gets a fresh one: a fault is
never a decision, so never an `allow`.

Thread safety: a `Policy` may be shared by any number of threads. Each call takes an idle
instance of the policy's own (or makes one, parsing the policy into it), so threads decide
at the same time without waiting for each other; the engine itself runs without the GIL.
`validate`, `preview` and `version` use a fresh instance per call.

Documents are JSON text, the bytes they arrived in (UTF-8, never repaired), or parsed
values (`dict`); answers are `dict`s equal to the JS package's (`TypedDict`s below).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, List, Sequence, Tuple, Union, cast

from wasmtime.component import ResourceAny

from . import _core
from ._core import Document, Limits, MdmError
from ._types import (
    Access,
    AdminDecision,
    Change,
    Command,
    Configuration,
    Device,
    DeviceView,
    Effect,
    Enroll,
    Enrollment,
    EnrollmentMethod,
    Evaluation,
    Issue,
    IssueCode,
    LoginDecision,
    Outcome,
    OsType,
    PendingRequest,
    PreviewReport,
    PreviewSummary,
    Reason,
    RegisteredDevice,
    Rejection,
    StoreApp,
    UserState,
    UserView,
    Validation,
)

__all__ = [
    "Access", "AdminDecision", "Change", "Command", "Configuration", "Device", "DeviceView",
    "Document", "Effect", "Enroll", "Enrollment", "EnrollmentMethod", "Evaluation", "Issue",
    "IssueCode", "Limits", "LoginDecision", "MdmError", "Outcome", "OsType", "PendingRequest",
    "Policy", "PreviewReport", "PreviewSummary", "Reason", "RegisteredDevice", "Rejection",
    "StoreApp", "UserState", "UserView", "Validation", "preview", "validate", "version",
]  # fmt: skip

__version__ = "0.1.0"

_DEFAULT = Limits()

# An instance of the engine with a policy parsed into it.
_Slot = Tuple[_core.Instance, ResourceAny]
# What a policy's call does with its slot.
_Call = Callable[[_core.Instance, ResourceAny], Any]


class Policy:
    """A parsed, validated and indexed policy, ready to decide events.

    `Policy(document)` raises `MdmError` (`invalid_policy`, with the JSON Pointer of the
    field) when the document is not a usable policy. Safe to share between threads.
    """

    def __init__(self, document: Document, *, limits: Limits = _DEFAULT) -> None:
        self._limits = limits
        self._runtime = _core.runtime()
        self._text = _core.text(document, "policy", limits)
        self._lock = threading.Lock()
        self._idle: List[_Slot] = []
        slot = self._slot()
        self._warnings = cast(List[Issue], self._use(slot, lambda i, p: _core.issues(i.call(_core.WARNINGS, p))))

    @property
    def warnings(self) -> List[Issue]:
        """What validation warned about (the policy is usable): `{code, pointer, message}`."""
        return [cast(Issue, dict(w)) for w in self._warnings]

    def evaluate(
        self,
        groups: Sequence[str],
        state: Union[Document, None],
        event: Document,
    ) -> Evaluation:
        """Decides `event` for a user in `groups` whose stored state is `state`.

        `state` is `None` (or empty text: the WIT's `""`) for a user with nothing stored.
        Returns `{"decision": ..., "state": ...}`: the decision and the state to store.
        Raises `MdmError`: a bad document (`invalid_event`, `invalid_state`), an admin
        event that cannot be carried out (`no_pending_request`, ...), or a fault (`host.*`).
        """
        names = _groups(groups)
        stored = "" if state is None else _core.text(state, "state", self._limits)
        happened = _core.text(event, "event", self._limits)
        answer = self._call(lambda i, p: _core.unwrap(i.call(_core.EVALUATE, p, names, stored, happened), str))
        evaluation = _core.loads(answer)
        if not (isinstance(evaluation, dict) and "decision" in evaluation and "state" in evaluation):
            raise MdmError("host.protocol", "", f"the engine's answer is not an evaluation: {answer[:200]}")
        return cast(Evaluation, evaluation)

    def _slot(self) -> _Slot:
        """A new instance with this policy parsed into it."""
        instance = _core.Instance(self._runtime, self._limits)
        return instance, _core.unwrap(instance.call(_core.PARSE, self._text), ResourceAny)

    def _call(self, f: _Call) -> Any:
        with self._lock:
            slot = self._idle.pop() if self._idle else None
        return self._use(slot or self._slot(), f)

    def _use(self, slot: _Slot, f: _Call) -> Any:
        """Runs `f(instance, policy)`; the instance goes back to the pool unless it faulted."""
        try:
            result = f(*slot)
        except MdmError as e:
            if not (e.code.startswith("host.") or slot[0].faulted):
                self._release(slot)
            raise
        self._release(slot)
        return result

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            self._idle.append(slot)


def _groups(groups: Sequence[str]) -> List[str]:
    # A string is a sequence of strings too: refuse it rather than decide for its letters.
    if isinstance(groups, (str, bytes)) or not all(isinstance(g, str) for g in groups):
        raise TypeError("groups must be a sequence of str")
    return list(groups)


def _policy_text(policy: Union[Policy, Document], limits: Limits) -> str:
    return policy._text if isinstance(policy, Policy) else _core.text(policy, "policy", limits)


def validate(document: Document, *, limits: Limits = _DEFAULT) -> Validation:
    """Every error and warning of a policy document (up to 100 errors), each with its code
    and JSON Pointer; bytes that are not UTF-8 are one `syntax` error, as text that is not
    JSON is. Raises `MdmError` only for a document over the size limit or a fault.
    """
    try:
        text = _core.text(document, "policy", limits)
    except MdmError as e:
        if not e.message.startswith("not UTF-8"):
            raise
        return {"errors": [{"code": "syntax", "pointer": "", "message": e.message}], "warnings": []}
    found = _core.Instance(_core.runtime(), limits).call(_core.VALIDATE, text)
    errors, warnings = getattr(found, "errors", None), getattr(found, "warnings", None)
    if not (isinstance(errors, list) and isinstance(warnings, list)):
        raise MdmError("host.protocol", "", f"the engine's answer is not a validation: {found!r}")
    return cast(Validation, {"errors": _core.issues(errors), "warnings": _core.issues(warnings)})


def preview(
    current: Union[Policy, Document],
    proposed: Union[Policy, Document],
    population: Document,
    at: str,
    *,
    limits: Limits = _DEFAULT,
) -> PreviewReport:
    """What changing the policy from `current` to `proposed` would do to every user of
    `population` (`{"directory": {...}, "state": {...}}`) at `at` (RFC 3339).

    Raises `MdmError`: `invalid_policy`, `invalid_state` (the population), `invalid_event`
    (`at`), or a fault (`host.*`).
    """
    if not isinstance(at, str):
        raise TypeError("at must be an RFC 3339 str")
    args = (
        _policy_text(current, limits),
        _policy_text(proposed, limits),
        _core.text(population, "state", limits),
        _core.text(at, "event", limits),
    )
    answer = _core.unwrap(_core.Instance(_core.runtime(), limits).call(_core.PREVIEW, *args), str)
    return cast(PreviewReport, _core.loads(answer))


def version() -> str:
    """The version of the engine inside the sandbox (`MAJOR.MINOR.PATCH`): what decides."""
    answer = _core.Instance(_core.runtime(), _DEFAULT).call(_core.VERSION)
    if not isinstance(answer, str):
        raise MdmError("host.protocol", "", f"the engine's version is not text: {answer!r}")
    return answer
