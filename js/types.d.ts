/** An OS type. */
export type OsType = "ios" | "android" | "other";

/** The policy document (`mdm.policy/v1`); every field but `schema` is optional. */
export interface PolicyDocument {
  schema: "mdm.policy/v1";
  enabled?: boolean;
  assignment?: {
    organization?: boolean;
    users?: string[];
    groups?: string[];
    exclude_users?: string[];
    exclude_groups?: string[];
  };
  device_match?: "device_id" | "device_id_and_serial";
  assigned?: {
    max_devices?: number;
    on_new_device?: "approval" | "replace" | "deny";
    on_approve?: "replace" | "add";
    approval_ttl_hours?: number;
    push_mfa?: boolean;
  };
  unassigned?: {
    max_devices?: number;
    on_new_device?: "replace" | "add";
    access?: "limited" | "full";
    push_mfa?: boolean;
  };
  requirements?: {
    platforms?: OsType[];
    min_os_version?: Partial<Record<OsType, string>>;
    min_pin_length?: number;
    require_encryption?: boolean;
    block_compromised?: boolean;
  };
}

/** A policy document with every default filled in, as `Policy.document()` returns it. */
export type ResolvedPolicyDocument = {
  [K in keyof PolicyDocument]-?: Required<NonNullable<PolicyDocument[K]>>;
};

/** A device as the mobile app reports it; unknown attributes are dropped. */
export interface Device {
  device_id: string;
  os_type: OsType;
  os_version?: string;
  serial_number?: string;
  model?: string;
  name?: string;
  pin_length?: number;
  encrypted?: boolean;
  compromised?: boolean;
}

/** An active registered device. */
export interface RegisteredDevice extends Device {
  registered_at: string;
}

/** A user's stored state. */
export interface UserState {
  devices: RegisteredDevice[];
  pending: { device: Device; requested_at: string }[];
  rejected: { device_id: string; rejected_at: string }[];
}

/** A login, or an admin's action on one device. Times are RFC 3339. */
export type Event =
  | { type: "login"; user: string; at: string; device: Device }
  | { type: "approve" | "reject" | "unblock" | "remove_device"; user: string; device_id: string; at: string };

/** A stable reason code. */
export type Reason =
  | "scope.disabled" | "scope.excluded_user" | "scope.excluded_group" | "scope.user" | "scope.group"
  | "scope.organization" | "scope.none" | "device.rejected" | "device.serial_mismatch"
  | "posture.platform" | "posture.os_version" | "posture.pin" | "posture.encryption" | "posture.compromised"
  | "device.known" | "device.first" | "device.within_limit" | "device.pending" | "device.approval_requested"
  | "device.request_expired" | "device.limit_reached" | "device.replaced";

/** What a login may use. */
export interface Access {
  app: boolean;
  sso: boolean;
  push_mfa: boolean;
}

/** One state change. */
export type Effect =
  | { op: "add_device"; device: Device; at: string }
  | { op: "remove_device"; device_id: string }
  | { op: "add_pending"; device: Device; at: string }
  | { op: "remove_pending"; device_id: string }
  | { op: "add_rejected"; device_id: string; at: string }
  | { op: "remove_rejected"; device_id: string };

/** The answer to a login. */
export interface LoginDecision {
  outcome: "allow" | "limited" | "pending_approval" | "deny";
  assigned: boolean;
  access: Access;
  reasons: Reason[];
  /** For a posture deny, what the user can do. */
  remediation?: string[];
  effects: Effect[];
}

/** The answer to an admin action. */
export interface AdminDecision {
  effects: Effect[];
}

/** A decision and the state it leads to. */
export interface Evaluation {
  decision: LoginDecision | AdminDecision;
  state: UserState;
}

/** The contract's error codes. */
export type ErrorCode =
  | "invalid_policy" | "invalid_event" | "invalid_state"
  | "no_pending_request" | "request_expired" | "unknown_device";

/** What every function throws: an `Error` named `MdmError` with the code and JSON Pointer. */
export interface MdmError extends Error {
  name: "MdmError";
  code: ErrorCode;
  pointer: string;
}

/** A validation finding. */
export interface Issue {
  pointer: string;
  message: string;
}

/** Everything validation found. */
export interface Validation {
  errors: Issue[];
  warnings: Issue[];
}

/** What a further compliant device would get. */
export type NewDevice = "register" | "approval" | "replace" | "add" | "deny";

/** One user under one policy. */
export interface UserView {
  assigned: boolean;
  scope: Reason;
  access: Access;
  devices: { device_id: string; outcome: LoginDecision["outcome"]; reasons: Reason[] }[];
  new_device: NewDevice;
}

/** The what-if preview. */
export interface PreviewReport {
  summary: {
    users: number;
    assigned_before: number;
    assigned_after: number;
    became_assigned: number;
    became_unassigned: number;
    push_mfa_gained: number;
    push_mfa_lost: number;
    sso_gained: number;
    sso_lost: number;
    devices_blocked: number;
    devices_unblocked: number;
    new_device_changed: number;
  };
  changes: { user: string; before: UserView; after: UserView }[];
}
