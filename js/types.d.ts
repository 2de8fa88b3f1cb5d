/** An OS type. */
export type OsType = "ios" | "android" | "other";

/** An enrollment method (version 2), in the order a device is fitted to one. */
export type EnrollmentMethod = "ios_profile" | "android_work_profile" | "samsung_knox" | "android_device_admin";

/** An app of the managed store (version 2). */
export interface App {
  id: string;
  name: string;
  platform: "ios" | "android";
  users?: string[];
  groups?: string[];
}

/** Who a policy assigns; an exclusion beats every inclusion. */
export interface Assignment {
  organization?: boolean;
  users?: string[];
  groups?: string[];
  exclude_users?: string[];
  exclude_groups?: string[];
}

/** What makes a login device the same as a registered one. */
export type DeviceMatch = "device_id" | "device_id_and_serial";

/** Settings for assigned users' devices (`approvers` is version 2's). */
export interface AssignedSettings {
  max_devices?: number;
  on_new_device?: "approval" | "replace" | "deny";
  on_approve?: "replace" | "add";
  approval_ttl_hours?: number;
  push_mfa?: boolean;
  approvers?: ("admin" | "self")[];
}

/** Settings for users no policy assigns. */
export interface UnassignedSettings {
  max_devices?: number;
  on_new_device?: "replace" | "add";
  access?: "limited" | "full";
  push_mfa?: boolean;
}

/** Device posture for assigned users (`grace_hours` is version 2's). */
export interface Requirements {
  platforms?: OsType[];
  min_os_version?: Partial<Record<OsType, string>>;
  min_pin_length?: number;
  require_encryption?: boolean;
  block_compromised?: boolean;
  grace_hours?: number;
}

/** Enrollment in management (version 2). */
export interface EnrollmentSettings {
  required?: boolean;
  methods?: EnrollmentMethod[];
}

/** What a managed device must apply besides the requirements (version 2). */
export interface ConfigurationSettings {
  data_separation?: boolean;
}

/**
 * One policy (`mdm.policy/v1` or `mdm.policy/v2`); every field but `schema` is optional.
 * `enrollment`, `configuration`, `apps`, `assigned.approvers` and
 * `requirements.grace_hours` are version 2's.
 */
export interface PolicyDocument {
  $schema?: string;
  schema: "mdm.policy/v1" | "mdm.policy/v2";
  enabled?: boolean;
  assignment?: Assignment;
  device_match?: DeviceMatch;
  assigned?: AssignedSettings;
  unassigned?: UnassignedSettings;
  requirements?: Requirements;
  enrollment?: EnrollmentSettings;
  configuration?: ConfigurationSettings;
  apps?: App[];
}

/**
 * One policy of a set: who it assigns and what their logins get, with the fields,
 * defaults and rules of version 2. `name` is 1 to 128 bytes of UTF-8, unique in the set
 * (compared byte for byte); a disabled policy is skipped.
 */
export interface PolicySetEntry {
  name: string;
  enabled?: boolean;
  assignment?: Assignment;
  assigned?: AssignedSettings;
  requirements?: Requirements;
  enrollment?: EnrollmentSettings;
  configuration?: ConfigurationSettings;
}

/**
 * A set of policies by priority (`mdm.policy/v3`): the organisation's settings, and its
 * policies in order; a user's policy is the first enabled one that assigns them. Every
 * field but `schema` is optional.
 */
export interface PolicySetDocument {
  $schema?: string;
  schema: "mdm.policy/v3";
  enabled?: boolean;
  device_match?: DeviceMatch;
  unassigned?: UnassignedSettings;
  apps?: App[];
  policies?: PolicySetEntry[];
}

/** Any policy document the engine reads: its `schema` says which. */
export type AnyPolicyDocument = PolicyDocument | PolicySetDocument;

/**
 * A single policy with every default filled in, as `Policy.document()` returns it for a v1
 * or v2 document (a version 1 document has no version 2 fields). For a v3 document it
 * returns a `ResolvedPolicySetDocument`: read `schema` before the rest, or take the
 * answer as a `ResolvedDocument`.
 */
export type ResolvedPolicyDocument = Omit<
  Required<PolicyDocument>,
  "$schema" | "assignment" | "assigned" | "unassigned" | "requirements" | "enrollment" | "configuration" | "apps"
> & {
  $schema?: string;
  assignment: Required<Assignment>;
  assigned: Required<Omit<AssignedSettings, "approvers">> & { approvers?: ("admin" | "self")[] };
  unassigned: Required<UnassignedSettings>;
  requirements: Required<Omit<Requirements, "grace_hours">> & { grace_hours?: number };
  enrollment?: Required<EnrollmentSettings>;
  configuration?: Required<ConfigurationSettings>;
  apps?: Required<App>[];
};

/** One policy of a set with every default filled in. */
export interface ResolvedPolicySetEntry {
  name: string;
  enabled: boolean;
  assignment: Required<Assignment>;
  assigned: Required<AssignedSettings>;
  requirements: Required<Requirements>;
  enrollment: Required<EnrollmentSettings>;
  configuration: Required<ConfigurationSettings>;
}

/** A set of policies with every default filled in, as `Policy.document()` returns it for a v3 document. */
export interface ResolvedPolicySetDocument {
  $schema?: string;
  schema: "mdm.policy/v3";
  enabled: boolean;
  device_match: DeviceMatch;
  unassigned: Required<UnassignedSettings>;
  apps: Required<App>[];
  policies: ResolvedPolicySetEntry[];
}

/** What `Policy.document()` returns for any schema. */
export type ResolvedDocument = ResolvedPolicyDocument | ResolvedPolicySetDocument;

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
  manufacturer?: string;
  work_profile?: boolean;
}

/** A login device: also the apps it has installed, read for this login only. */
export interface LoginDevice extends Device {
  apps?: { id: string; managed: boolean }[];
}

/** An active registered device. */
export interface RegisteredDevice extends Device {
  registered_at: string;
  enrollment?: { method: EnrollmentMethod; at: string };
  noncompliant_since?: string;
}

/** A user's stored state. */
export interface UserState {
  devices: RegisteredDevice[];
  pending: { device: Device; requested_at: string }[];
  rejected: { device_id: string; rejected_at: string }[];
}

/** A login, or an admin's action on one device. Times are RFC 3339. */
export type Event =
  | { type: "login"; user: string; at: string; device: LoginDevice }
  | { type: "approve"; user: string; device_id: string; at: string; by?: "admin" | "self"; from_device?: string }
  | { type: "reject" | "unblock" | "remove_device" | "deprovision" | "wipe"; user: string; device_id: string; at: string }
  | { type: "enrolled"; user: string; device_id: string; at: string; method: EnrollmentMethod };

/** A stable reason code. */
export type Reason =
  | "scope.disabled" | "scope.excluded_user" | "scope.excluded_group" | "scope.user" | "scope.group"
  | "scope.organization" | "scope.none" | "device.rejected" | "device.serial_mismatch"
  | "posture.platform" | "posture.os_version" | "posture.pin" | "posture.encryption" | "posture.compromised"
  | "enrollment.unsupported" | "posture.grace" | "posture.grace_expired"
  | "device.known" | "device.first" | "device.within_limit" | "device.pending" | "device.approval_requested"
  | "device.request_expired" | "device.limit_reached" | "device.replaced"
  | "enrollment.required" | "apps.unmanaged";

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
  | { op: "remove_rejected"; device_id: string }
  | { op: "set_noncompliant"; device_id: string; at: string }
  | { op: "clear_noncompliant"; device_id: string }
  | { op: "set_enrollment"; device_id: string; method: EnrollmentMethod; at: string };

/** The answer to a login. */
export interface LoginDecision {
  outcome: "allow" | "limited" | "pending_approval" | "deny";
  assigned: boolean;
  access: Access;
  reasons: Reason[];
  /** What the user can do: per failed rule, for a grace period, per unmanaged app. */
  remediation?: string[];
  /** The method the device must enroll with. */
  enroll?: { method: EnrollmentMethod };
  /** Until when a device in its grace period keeps access. */
  grace_until?: string;
  /** What the managed device must apply (an assigned user's allowed login). */
  configuration?: { min_pin_length: number; require_encryption: boolean; data_separation: boolean };
  /** The app store for this device (an assigned user's `allow`). */
  apps?: { id: string; name: string; status: "available" | "managed" | "unmanaged" }[];
  /**
   * Under a v3 document only: the name of the user's policy, or `null` when no policy
   * assigns them. Absent under v1 and v2.
   */
  policy?: string | null;
  effects: Effect[];
}

/** The answer to an admin event. */
export interface AdminDecision {
  effects: Effect[];
  /** Device commands for the gateway to send; absent when there are none. */
  commands?: { action: "deprovision" | "wipe"; device_id: string }[];
  /** Under a v3 document only: the user's policy now, or `null`. Absent under v1 and v2. */
  policy?: string | null;
}

/** A decision and the state it leads to. */
export interface Evaluation {
  decision: LoginDecision | AdminDecision;
  state: UserState;
}

/** The contract's error codes. */
export type ErrorCode =
  | "invalid_policy" | "invalid_event" | "invalid_state"
  | "no_pending_request" | "request_expired" | "unknown_device" | "not_permitted";

/** What every function throws: an `Error` named `MdmError` with the code and JSON Pointer. */
export interface MdmError extends Error {
  name: "MdmError";
  code: ErrorCode;
  pointer: string;
}

/** What kind of finding a validation issue is. */
export type IssueCode =
  | "syntax" | "unknown_field" | "missing_field" | "invalid_type" | "invalid_value" | "out_of_range"
  | "invalid_id" | "invalid_version" | "duplicate" | "empty" | "unsupported_schema" | "included_and_excluded";

/** A validation finding. */
export interface Issue {
  code: IssueCode;
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
  apps: { platform: "ios" | "android"; id: string }[];
  /**
   * When either side of the preview is a v3 document: the user's policy on this side, or
   * `null` (unassigned, or a v1 or v2 side). Absent when neither side is v3.
   */
  policy?: string | null;
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
    devices_need_enrollment: number;
    devices_in_grace: number;
    apps_gained: number;
    apps_lost: number;
    /**
     * When either side is a v3 document: the users assigned on both sides whose policy's
     * name differs, counted when both sides are v3 (else 0). Absent when neither side is.
     */
    policy_changed?: number;
  };
  changes: { user: string; before: UserView; after: UserView }[];
}
