//! One policy compiled: the settings a decision reads for the users it assigns, and the
//! rules over them (posture, expiry, enrollment). A version 1 or 2 document has one; a
//! version 3 document one per policy of its set.

use std::sync::Arc;

use super::doc::{AssignedOnNewDevice, AssignedSettings, EnrollmentSettings, OnApprove, Requirements};
use crate::device::{Device, Registered};
use crate::ids::OsType;
use crate::manage::{ADMIN_ONLY, Approver, Configuration, EnrollmentMethod, Methods};
use crate::outcome::{Access, Outcome, Reason, Reasons};
use crate::time::Timestamp;
use crate::version::Version;

/// Who may approve, as a set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Approvers {
    admin: bool,
    user: bool,
}

/// A policy's settings, resolved, and what it assigns by default.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// Its name in a set (version 3); `None` for a version 1 or 2 document.
    name: Option<Arc<str>>,
    /// The whole organisation is assigned (exclusions still apply).
    organization: bool,
    max_devices: u32,
    on_new_device: AssignedOnNewDevice,
    on_approve: OnApprove,
    approval_ttl_hours: u32,
    push_mfa: bool,
    approvers: Approvers,
    /// Allowed platforms, by [`OsType::index`].
    platform_allowed: [bool; 3],
    /// The allowed platforms as listed, for the remediation text.
    platforms: Box<[OsType]>,
    /// Lowest version per OS type, by [`OsType::index`].
    min_os: [Option<Version>; 3],
    min_pin_length: u32,
    require_encryption: bool,
    block_compromised: bool,
    grace_hours: u32,
    enrollment_required: bool,
    methods: Methods,
    configuration: Configuration,
}

/// What [`Rules::compile`] reads of a policy, from either kind of document.
pub(crate) struct RulesDoc<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) organization: bool,
    pub(crate) assigned: &'a AssignedSettings,
    pub(crate) requirements: &'a Requirements,
    pub(crate) enrollment: Option<&'a EnrollmentSettings>,
    pub(crate) data_separation: bool,
}

impl Rules {
    /// The rules of a validated, resolved policy.
    pub(crate) fn compile(doc: RulesDoc<'_>) -> Rules {
        let approvers = doc.assigned.approvers.as_deref().unwrap_or(ADMIN_ONLY);
        let r = doc.requirements;
        let mut min_os = [None; 3];
        for (os, v) in &r.min_os_version {
            if let (Some(os), Ok(v)) = (OsType::parse(os), v.parse::<Version>())
                && let Some(slot) = min_os.get_mut(os.index())
            {
                *slot = Some(v);
            }
        }
        let (enrollment_required, methods) = match doc.enrollment {
            Some(e) => (e.required, Methods::of(&e.methods)),
            None => (false, Methods::ALL),
        };
        Rules {
            name: doc.name.map(Arc::from),
            organization: doc.organization,
            max_devices: doc.assigned.max_devices,
            on_new_device: doc.assigned.on_new_device,
            on_approve: doc.assigned.on_approve,
            approval_ttl_hours: doc.assigned.approval_ttl_hours,
            push_mfa: doc.assigned.push_mfa,
            approvers: Approvers {
                admin: approvers.contains(&Approver::Admin),
                user: approvers.contains(&Approver::User),
            },
            platform_allowed: OsType::ALL.map(|o| r.platforms.is_empty() || r.platforms.contains(&o)),
            platforms: r.platforms.clone().into(),
            min_os,
            min_pin_length: r.min_pin_length,
            require_encryption: r.require_encryption,
            block_compromised: r.block_compromised,
            grace_hours: r.grace_hours.unwrap_or_default(),
            enrollment_required,
            methods,
            configuration: Configuration {
                min_pin_length: r.min_pin_length,
                require_encryption: r.require_encryption,
                data_separation: doc.data_separation,
            },
        }
    }

    /// Its name in a set.
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.name.as_ref()
    }

    /// Whether it assigns the whole organisation.
    pub(crate) fn organization(&self) -> bool {
        self.organization
    }

    /// Devices an assigned user registers without approval.
    pub(crate) fn max_devices(&self) -> u32 {
        self.max_devices
    }

    /// What a further device gets once `max_devices` are active.
    pub(crate) fn on_new_device(&self) -> AssignedOnNewDevice {
        self.on_new_device
    }

    /// What an approval does.
    pub(crate) fn on_approve(&self) -> OnApprove {
        self.on_approve
    }

    /// Whether `approver` may approve requests.
    pub(crate) fn allows(&self, approver: Approver) -> bool {
        match approver {
            Approver::Admin => self.approvers.admin,
            Approver::User => self.approvers.user,
        }
    }

    /// Hours an active device that stops meeting a rule with grace keeps its access.
    pub(crate) fn grace_hours(&self) -> u32 {
        self.grace_hours
    }

    /// Whether assigned users' devices must be enrolled.
    pub(crate) fn enrollment_required(&self) -> bool {
        self.enrollment_required
    }

    /// The enrollment methods it allows.
    pub(crate) fn methods(&self) -> Methods {
        self.methods
    }

    /// What a managed device must apply.
    pub(crate) fn configuration(&self) -> Configuration {
        self.configuration
    }

    /// What an assigned user's allowed login gets.
    pub(crate) fn allowed(&self) -> (Outcome, Access) {
        (Outcome::Allow, Access { app: true, sso: true, push_mfa: self.push_mfa })
    }

    /// Whether a platform is allowed.
    pub(crate) fn platform_allowed(&self, os: OsType) -> bool {
        self.platform_allowed.get(os.index()).copied().unwrap_or(false)
    }

    /// The posture rules `device` fails, as reasons (empty when it passes).
    pub(crate) fn posture<K>(&self, device: &Device<K>) -> Reasons {
        let mut out = Reasons::default();
        let os = device.os_type;
        if !self.platform_allowed(os) {
            out.insert(Reason::PosturePlatform);
        }
        if let Some(Some(min)) = self.min_os.get(os.index())
            && device.os_version.is_none_or(|v| v < *min)
        {
            out.insert(Reason::PostureOsVersion);
        }
        if self.min_pin_length > 0 && device.pin_length.is_none_or(|p| p < self.min_pin_length) {
            out.insert(Reason::PosturePin);
        }
        if self.require_encryption && device.encrypted != Some(true) {
            out.insert(Reason::PostureEncryption);
        }
        if self.block_compromised && device.compromised != Some(false) {
            out.insert(Reason::PostureCompromised);
        }
        out
    }

    /// What the user can do about each failed rule of step 3.
    pub(crate) fn remediation(&self, os: OsType, failures: Reasons) -> Vec<String> {
        failures
            .iter()
            .filter_map(|f| match f {
                Reason::PosturePlatform => {
                    let names: Vec<&str> = self.platforms.iter().map(|p| p.display_name()).collect();
                    Some(format!("use a device running {}", names.join(" or ")))
                }
                Reason::PostureOsVersion => {
                    let min = self.min_os.get(os.index()).copied().flatten()?;
                    Some(format!("update {} to {min} or later", os.display_name()))
                }
                Reason::PosturePin => Some(format!("set a PIN of at least {} digits", self.min_pin_length)),
                Reason::PostureEncryption => Some("turn on device encryption".into()),
                Reason::PostureCompromised => Some("use a device that is not jailbroken or rooted".into()),
                Reason::EnrollmentUnsupported => {
                    let names: Vec<&str> = self.methods.iter().map(EnrollmentMethod::display_name).collect();
                    Some(format!("use a device that can enroll in management with {}", names.join(" or ")))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether a request made at `requested_at` has expired at `at`.
    pub(crate) fn expired(&self, requested_at: Timestamp, at: Timestamp) -> bool {
        let ttl = self.approval_ttl_hours;
        ttl > 0 && at >= requested_at.plus_hours(ttl)
    }

    /// Whether a registered device is enrolled: it finished enrolling with a method the
    /// policy still allows.
    pub(crate) fn enrolled<K>(&self, device: &Registered<K>) -> bool {
        device.enrollment.is_some_and(|e| self.methods.contains(e.method))
    }

    /// A device that passes every posture rule: what "a further compliant device" of the
    /// preview logs in with.
    pub(crate) fn compliant_probe<K>(&self, device_id: K) -> Device<K> {
        // It reports a work profile and Samsung as its maker, so that every allowed Android
        // method fits it; its OS is the first allowed one that some allowed method enrolls
        // when enrollment is required.
        let allowed = |o: &OsType| self.platform_allowed(*o);
        let fits = |o: &OsType| !self.enrollment_required || self.methods.iter().any(|m| m.platform() == *o);
        let os = OsType::ALL
            .into_iter()
            .find(|o| allowed(o) && fits(o))
            .or_else(|| OsType::ALL.into_iter().find(allowed))
            .unwrap_or(OsType::Ios);
        Device {
            os_version: Some(Version::MAX),
            pin_length: Some(u32::MAX),
            encrypted: Some(true),
            compromised: Some(false),
            work_profile: Some(true),
            manufacturer: Some("samsung".into()),
            ..Device::new(device_id, os)
        }
    }
}
