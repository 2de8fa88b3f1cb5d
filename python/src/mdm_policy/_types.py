"""The documents the engine answers with, as `TypedDict`s: the shapes of the contract
(`docs/contract.md`) and of the JS package's `types.d.ts`. A key that may be absent is in
a `total=False` class.
"""

from __future__ import annotations

from typing import List, Literal, TypedDict, Union, final

OsType = Literal["ios", "android", "other"]
EnrollmentMethod = Literal["ios_profile", "android_work_profile", "samsung_knox", "android_device_admin"]
Outcome = Literal["allow", "limited", "pending_approval", "deny"]
Reason = Literal[
    "scope.disabled", "scope.excluded_user", "scope.excluded_group", "scope.user", "scope.group",
    "scope.organization", "scope.none", "device.rejected", "device.serial_mismatch",
    "posture.platform", "posture.os_version", "posture.pin", "posture.encryption", "posture.compromised",
    "enrollment.unsupported", "posture.grace", "posture.grace_expired",
    "device.known", "device.first", "device.within_limit", "device.pending", "device.approval_requested",
    "device.request_expired", "device.limit_reached", "device.replaced",
    "enrollment.required", "apps.unmanaged",
]  # fmt: skip
EffectOp = Literal[
    "add_device", "remove_device", "add_pending", "remove_pending", "add_rejected", "remove_rejected",
    "set_noncompliant", "clear_noncompliant", "set_enrollment",
]  # fmt: skip
IssueCode = Literal[
    "syntax", "unknown_field", "missing_field", "invalid_type", "invalid_value", "out_of_range",
    "invalid_id", "invalid_version", "duplicate", "empty", "unsupported_schema", "included_and_excluded",
]  # fmt: skip
NewDevice = Literal["register", "approval", "replace", "add", "deny"]


class _DeviceKeys(TypedDict):
    device_id: str
    os_type: OsType


class Device(_DeviceKeys, total=False):
    """A device as the engine stores it (unknown attributes are dropped)."""

    os_version: str
    serial_number: str
    model: str
    name: str
    pin_length: int
    encrypted: bool
    compromised: bool
    manufacturer: str
    work_profile: bool


class Enrollment(TypedDict):
    """That a device finished enrolling (version 2)."""

    method: EnrollmentMethod
    at: str


class _RegisteredKeys(Device):
    registered_at: str


class RegisteredDevice(_RegisteredKeys, total=False):
    """An active registered device."""

    enrollment: Enrollment
    noncompliant_since: str


class PendingRequest(TypedDict):
    """A device waiting for approval."""

    device: Device
    requested_at: str


class Rejection(TypedDict):
    """A device the admin rejected."""

    device_id: str
    rejected_at: str


class UserState(TypedDict):
    """A user's stored state, with every list present."""

    devices: List[RegisteredDevice]
    pending: List[PendingRequest]
    rejected: List[Rejection]


class _EffectKeys(TypedDict):
    op: EffectOp


class Effect(_EffectKeys, total=False):
    """One state change; which other keys it has depends on `op` (the contract's table)."""

    device: Device
    device_id: str
    at: str
    method: EnrollmentMethod


class Access(TypedDict):
    """What a login may use."""

    app: bool
    sso: bool
    push_mfa: bool


class Enroll(TypedDict):
    """The method a device must enroll with."""

    method: EnrollmentMethod


class Configuration(TypedDict):
    """What a managed device must apply."""

    min_pin_length: int
    require_encryption: bool
    data_separation: bool


class StoreApp(TypedDict):
    """An app of the store a login's device sees."""

    id: str
    name: str
    status: Literal["available", "managed", "unmanaged"]


class _LoginKeys(TypedDict):
    outcome: Outcome
    assigned: bool
    access: Access
    reasons: List[Reason]
    effects: List[Effect]


# Final, so that `"outcome" in decision` tells a type checker which decision it is.
@final
class LoginDecision(_LoginKeys, total=False):
    """The answer to a login."""

    remediation: List[str]
    enroll: Enroll
    grace_until: str
    configuration: Configuration
    apps: List[StoreApp]


class Command(TypedDict):
    """A device command for the gateway to send."""

    action: Literal["deprovision", "wipe"]
    device_id: str


class _AdminKeys(TypedDict):
    effects: List[Effect]


@final
class AdminDecision(_AdminKeys, total=False):
    """The answer to an admin event; `commands` only when it sends any."""

    commands: List[Command]


class Evaluation(TypedDict):
    """A decision and the user's state after it: store `state` as it is."""

    decision: Union[LoginDecision, AdminDecision]
    state: UserState


class Issue(TypedDict):
    """A validation finding."""

    code: IssueCode
    pointer: str
    message: str


class Validation(TypedDict):
    """Everything validation found: the policy is usable when `errors` is empty."""

    errors: List[Issue]
    warnings: List[Issue]


class DeviceView(TypedDict):
    """One active device of a user under one policy."""

    device_id: str
    outcome: Outcome
    reasons: List[Reason]


class AppRef(TypedDict):
    """An app, by platform and id."""

    platform: Literal["ios", "android"]
    id: str


class UserView(TypedDict):
    """One user under one policy."""

    assigned: bool
    scope: Reason
    access: Access
    devices: List[DeviceView]
    new_device: NewDevice
    apps: List[AppRef]


class Change(TypedDict):
    """A user the change affects, on both sides."""

    user: str
    before: UserView
    after: UserView


class PreviewSummary(TypedDict):
    """The preview's counts (spec section 5)."""

    users: int
    assigned_before: int
    assigned_after: int
    became_assigned: int
    became_unassigned: int
    push_mfa_gained: int
    push_mfa_lost: int
    sso_gained: int
    sso_lost: int
    devices_blocked: int
    devices_unblocked: int
    new_device_changed: int
    devices_need_enrollment: int
    devices_in_grace: int
    apps_gained: int
    apps_lost: int


class PreviewReport(TypedDict):
    """What a policy change would do to every user."""

    summary: PreviewSummary
    changes: List[Change]
