//! The [`Authenticator`] over ctap-hid-fido2 3.6.1, with its hazards handled:
//!
//! - every call runs on its own worker thread with a deadline, because hidapi's `read()`
//!   has no timeout and a stalled device would hang the caller (and the TUI) forever;
//! - the library's keep-alive message is switched off and the binary sends fd 1 away from
//!   the terminal (see `cli::output`), because the library `println!`s unconditionally;
//! - hidapi start-up is checked before the library gets the chance to `expect()` on it, and
//!   a panic inside a call becomes an error instead of unwinding into the caller;
//! - `MakeCredentialArgsBuilder::new` defaults to uv=true, which keys without built-in UV
//!   reject: every request says `.pin()` or `.without_pin_and_uv()`;
//! - extensions are passed one at a time in canonical order (OpenSK rejects any other).

use super::error::{status, status_name, DeviceError};
use super::types::*;
use super::{Authenticator, DeviceEvent, EventSink};
use ctap_hid_fido2::fidokey::credential_management::credential_management_params::CredentialProtectionPolicy;
use ctap_hid_fido2::fidokey::{
    CredentialExtension, CredentialSupportedKeyType, GetAssertionArgsBuilder,
    MakeCredentialArgsBuilder,
};
use ctap_hid_fido2::public_key::PublicKeyType;
use ctap_hid_fido2::public_key_credential_descriptor::PublicKeyCredentialDescriptor;
use ctap_hid_fido2::public_key_credential_user_entity::PublicKeyCredentialUserEntity;
use ctap_hid_fido2::{FidoKeyHid, FidoKeyHidFactory, HidParam, LibCfg};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How long skset waits for the device.
#[derive(Clone)]
pub struct CtapOptions {
    /// Calls that need no touch (getInfo, PIN, credential management).
    pub deadline: Duration,
    /// Calls that may wait for a touch. A YubiKey gives up after about 30 s itself.
    pub touch_deadline: Duration,
    /// Receives "touch your key now" and similar events; prompts are the caller's business.
    pub events: Option<EventSink>,
}

impl Default for CtapOptions {
    fn default() -> Self {
        CtapOptions {
            deadline: Duration::from_secs(10),
            touch_deadline: Duration::from_secs(45),
            events: None,
        }
    }
}

/// Lists FIDO devices (HID usage page 0xF1D0). A virtual key served as a file is not
/// enumerated by udev: name it with `--device PATH`.
pub fn list_devices() -> Result<Vec<DeviceSummary>, DeviceError> {
    check_hidapi()?;
    let found = catch_unwind(ctap_hid_fido2::get_fidokey_devices).map_err(|p| {
        DeviceError::HidUnavailable {
            reason: panic_text(&p),
        }
    })?;
    let mut devices: Vec<DeviceSummary> = found
        .into_iter()
        .filter_map(|d| match d.param {
            HidParam::Path(path) => Some(DeviceSummary {
                path,
                product: d.product_string,
                vendor_id: d.vid,
                product_id: d.pid,
            }),
            HidParam::VidPid { .. } => None,
        })
        .collect();
    devices.sort_by(|a, b| a.path.cmp(&b.path));
    devices.dedup_by(|a, b| a.path == b.path);
    Ok(devices)
}

/// hidapi's initialisation can fail (no udev, no /sys); ctap-hid-fido2 `expect()`s it.
fn check_hidapi() -> Result<(), DeviceError> {
    hidapi::HidApi::new()
        .map(drop)
        .map_err(|e| DeviceError::HidUnavailable {
            reason: e.to_string(),
        })
}

/// A security key opened through ctap-hid-fido2.
pub struct CtapAuthenticator {
    path: String,
    product: Option<String>,
    hid: Arc<FidoKeyHid>,
    options: CtapOptions,
    /// Set while a worker thread is inside the library. A call that outlived its deadline
    /// leaves it set until the device finally answers (or forever), and later calls then
    /// fail fast with [`DeviceError::Stalled`] instead of queueing behind it.
    busy: Arc<AtomicBool>,
}

impl CtapAuthenticator {
    /// Opens the device at `path` (a `/dev/hidraw*` node or the virtual key's file).
    pub fn open(path: &str, options: CtapOptions) -> Result<CtapAuthenticator, DeviceError> {
        check_hidapi()?;
        // Enumeration only knows udev's hidraw nodes; a file elsewhere (the virtual key) has
        // no product string to find, so skip the walk over every HID device.
        let product = if path.starts_with("/dev/") {
            list_devices()
                .ok()
                .and_then(|all| all.into_iter().find(|d| d.path == path))
                .map(|d| d.product)
        } else {
            None
        };
        let cfg = library_config();
        let params = [HidParam::Path(path.to_string())];
        let hid = run_with_deadline("open", options.deadline, move || {
            let open_error = |e: anyhow::Error| DeviceError::Open {
                path: params_path(&params),
                reason: format!("{e:#}"),
            };
            let hid = FidoKeyHidFactory::create_by_params(&params, &cfg).map_err(open_error)?;
            let info = hid.get_info().map_err(open_error)?;
            // PIN protocol 2 where offered: protocol 1 is deprecated in CTAP 2.1.
            Ok(if info.pin_uv_auth_protocols.contains(&2) {
                hid.with_pin_protocol_version(2)
            } else {
                hid
            })
        })?;
        let authenticator = CtapAuthenticator {
            path: path.to_string(),
            product,
            hid: Arc::new(hid),
            options,
            busy: Arc::new(AtomicBool::new(false)),
        };
        Ok(authenticator)
    }

    /// Runs one library call on a worker thread, bounded by `deadline`.
    fn call<T: Send + 'static>(
        &self,
        operation: &'static str,
        deadline: Duration,
        f: impl FnOnce(&FidoKeyHid) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, DeviceError> {
        if self.busy.swap(true, Ordering::SeqCst) {
            return Err(DeviceError::Stalled);
        }
        let hid = Arc::clone(&self.hid);
        let busy = Arc::clone(&self.busy);
        let result = run_with_deadline(operation, deadline, move || {
            let outcome = f(&hid).map_err(|e| classify(operation, &e, &hid));
            busy.store(false, Ordering::SeqCst);
            outcome
        });
        if let Err(DeviceError::Protocol { .. }) = &result {
            // A panic inside the library: the worker is gone, the device is free again.
            self.busy.store(false, Ordering::SeqCst);
        }
        result
    }

    /// Credential management on a key without a PIN fails as PIN_REQUIRED on some keys;
    /// "set a PIN first" is the useful answer there.
    fn explain_missing_pin<T>(&self, result: Result<T, DeviceError>) -> Result<T, DeviceError> {
        match result {
            Err(DeviceError::PinRequired) if matches!(self.info(), Ok(info) if !info.pin_is_set()) => {
                Err(DeviceError::PinNotSet)
            }
            other => other,
        }
    }

    fn emit(&self, event: DeviceEvent) {
        if let Some(sink) = &self.options.events {
            sink(event);
        }
    }
}

fn params_path(params: &[HidParam]) -> String {
    match params.first() {
        Some(HidParam::Path(p)) => p.clone(),
        _ => String::new(),
    }
}

fn library_config() -> LibCfg {
    let mut cfg = LibCfg::init();
    cfg.enable_log = false;
    // The library would println! this on every keep-alive; skset shows its own prompt.
    cfg.enable_keep_alive_msg = false;
    cfg.keep_alive_msg = String::new();
    // CTAP 2.1 credential management (0x0A), which YubiKey 5.2+ and OpenSK implement.
    cfg.use_pre_credential_management = false;
    cfg
}

/// Runs `f` on its own thread and waits at most `deadline` for it. A thread that misses the
/// deadline is left behind (hidapi offers no way to interrupt a blocked read); the caller
/// learns of it through [`DeviceError::Timeout`].
fn run_with_deadline<T: Send + 'static>(
    operation: &'static str,
    deadline: Duration,
    f: impl FnOnce() -> Result<T, DeviceError> + Send + 'static,
) -> Result<T, DeviceError> {
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name(WORKER_THREAD_NAME.into())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(outcome);
        });
    if let Err(e) = spawned {
        return Err(DeviceError::Protocol {
            operation,
            detail: format!("cannot start a worker thread: {e}"),
        });
    }
    match rx.recv_timeout(deadline) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(DeviceError::Protocol {
            operation,
            detail: format!("the CTAP library panicked: {}", panic_text(&panic)),
        }),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(DeviceError::Timeout {
            operation,
            after: deadline,
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(DeviceError::Protocol {
            operation,
            detail: "the worker thread vanished".into(),
        }),
    }
}

/// Name of the threads that call into ctap-hid-fido2. The binary's panic hook stays quiet
/// for them: their panics are caught and reported as [`DeviceError::Protocol`].
pub const WORKER_THREAD_NAME: &str = "skset-device";

fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// ctap-hid-fido2 reports CTAP failures as text such as
/// `response_status err = 0x31 CTAP2_ERR_PIN_INVALID ...`; recover the status code.
fn status_code(message: &str) -> Option<u8> {
    let rest =
        &message[message.find("response_status err = 0x")? + "response_status err = 0x".len()..];
    u8::from_str_radix(rest.get(..2)?, 16).ok()
}

/// Maps a library error to ours. Runs on the worker thread, so it may ask the device for
/// the PIN retry counter after a wrong PIN.
fn classify(operation: &'static str, error: &anyhow::Error, hid: &FidoKeyHid) -> DeviceError {
    let message = format!("{error:#}");
    let Some(code) = status_code(&message) else {
        if message.contains("read err")
            || message.contains("write err")
            || message.contains("read error")
            || message.contains("write error")
        {
            return DeviceError::Transport { detail: message };
        }
        return DeviceError::Protocol {
            operation,
            detail: message,
        };
    };
    match code {
        status::PIN_INVALID | status::PIN_AUTH_INVALID => DeviceError::PinInvalid {
            retries_left: hid
                .get_pin_retries()
                .ok()
                .and_then(|r| u32::try_from(r).ok()),
        },
        status::PIN_BLOCKED => DeviceError::PinBlocked,
        status::PIN_AUTH_BLOCKED => DeviceError::PinAuthBlocked,
        status::PIN_NOT_SET => DeviceError::PinNotSet,
        status::PIN_REQUIRED => DeviceError::PinRequired,
        status::PIN_POLICY_VIOLATION => DeviceError::PinPolicy {
            min_length: hid.get_info().map(|i| i.min_pin_length.max(4)).unwrap_or(4),
        },
        status::OPERATION_DENIED => DeviceError::TouchDenied,
        status::USER_ACTION_TIMEOUT | status::ACTION_TIMEOUT | status::KEEPALIVE_CANCEL => {
            DeviceError::TouchTimeout
        }
        status::KEY_STORE_FULL => DeviceError::KeyStoreFull,
        status::UNSUPPORTED_ALGORITHM => DeviceError::UnsupportedAlgorithm {
            algorithm: "the requested algorithm".into(),
        },
        status::CREDENTIAL_EXCLUDED => DeviceError::CredentialExcluded,
        status::UNSUPPORTED_OPTION | status::INVALID_OPTION => DeviceError::UnsupportedOption {
            code: Some(code),
            detail: format!("CTAP 0x{code:02X} {} during {operation}", status_name(code)),
        },
        _ => DeviceError::Ctap {
            code,
            name: status_name(code).to_string(),
            operation,
        },
    }
}

fn is_no_credentials(error: &DeviceError) -> bool {
    matches!(
        error,
        DeviceError::Ctap {
            code: status::NO_CREDENTIALS,
            ..
        }
    )
}

impl Authenticator for CtapAuthenticator {
    fn path(&self) -> &str {
        &self.path
    }

    fn info(&self) -> Result<DeviceInfo, DeviceError> {
        let path = self.path.clone();
        let product = self.product.clone();
        self.call("getInfo", self.options.deadline, move |hid| {
            let info = hid.get_info()?;
            // The library's Info type lives in a private module: copy what we need.
            let raw = RawInfo {
                versions: info.versions,
                extensions: info.extensions,
                aaguid: info.aaguid,
                options: info.options,
                algorithms: info.algorithms,
                firmware_version: info.firmware_version,
                remaining_discoverable_credentials: info.remaining_discoverable_credentials,
                min_pin_length: info.min_pin_length,
                pin_uv_auth_protocols: info.pin_uv_auth_protocols,
            };
            Ok(convert_info(path, product, &raw))
        })
    }

    fn pin_status(&self) -> Result<PinStatus, DeviceError> {
        let info = self.info()?;
        if info.options.client_pin.is_none() {
            return Err(DeviceError::UnsupportedOption {
                code: None,
                detail: "this key has no PIN support (clientPin)".into(),
            });
        }
        if !info.pin_is_set() {
            return Ok(PinStatus {
                is_set: false,
                retries_left: None,
            });
        }
        let retries = self.call("getPinRetries", self.options.deadline, |hid| {
            hid.get_pin_retries()
        })?;
        Ok(PinStatus {
            is_set: true,
            retries_left: u32::try_from(retries).ok(),
        })
    }

    fn set_pin(&self, new_pin: &Pin) -> Result<(), DeviceError> {
        let new_pin = new_pin.clone();
        self.call("setPIN", self.options.deadline, move |hid| {
            hid.set_new_pin(new_pin.expose())
        })
    }

    fn change_pin(&self, current: &Pin, new_pin: &Pin) -> Result<(), DeviceError> {
        let (current, new_pin) = (current.clone(), new_pin.clone());
        self.call("changePIN", self.options.deadline, move |hid| {
            hid.change_pin(current.expose(), new_pin.expose())
        })
    }

    fn make_credential(
        &self,
        request: &MakeCredentialRequest<'_>,
    ) -> Result<NewCredential, DeviceError> {
        let algorithm = request.algorithm;
        let application = request.application.clone();
        let challenge = request.challenge.clone();
        let user = PublicKeyCredentialUserEntity::new(
            Some(&request.user_id),
            Some(&request.user_name),
            Some(&request.user_name),
        );
        let resident = request.resident;
        let cred_protect = request.cred_protect;
        let pin = request.pin.cloned();
        let exclude = request.exclude.clone();
        self.emit(DeviceEvent::TouchNeeded {
            operation: "make credential",
        });
        let result = self.call("makeCredential", self.options.touch_deadline, move |hid| {
            let mut args = MakeCredentialArgsBuilder::new(&application, &challenge)
                .key_type(match algorithm {
                    KeyAlgorithm::Ed25519 => CredentialSupportedKeyType::Ed25519,
                    KeyAlgorithm::EcdsaP256 => CredentialSupportedKeyType::Ecdsa256,
                })
                .user_entity(&user);
            args = match &pin {
                Some(pin) => args.pin(pin.expose()),
                None => args.without_pin_and_uv(),
            };
            if resident {
                args = args.resident_key();
            }
            for id in &exclude {
                args = args.exclude_authenticator(id);
            }
            if let Some(level) = cred_protect {
                // One extension only: nothing to sort. Add any new ones in canonical order.
                args = args.extensions(&[CredentialExtension::CredProtect(Some(match level {
                    CredProtect::UvOptional => CredentialProtectionPolicy::UserVerificationOptional,
                    CredProtect::UvOptionalWithCredentialId => {
                        CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList
                    }
                    CredProtect::UvRequired => CredentialProtectionPolicy::UserVerificationRequired,
                }))]);
            }
            let attestation = hid.make_credential_with_args(&args.build())?;
            Ok(attestation)
        });
        self.emit(DeviceEvent::TouchDone);
        let attestation = result.map_err(|e| match e {
            DeviceError::UnsupportedAlgorithm { .. } => DeviceError::UnsupportedAlgorithm {
                algorithm: algorithm.to_string(),
            },
            other => other,
        })?;
        let public_key = attestation.credential_publickey.der.clone();
        let expected = match algorithm {
            KeyAlgorithm::Ed25519 => 32,
            KeyAlgorithm::EcdsaP256 => 65,
        };
        if public_key.len() != expected {
            return Err(DeviceError::Protocol {
                operation: "makeCredential",
                detail: format!(
                    "a {algorithm} public key of {} bytes (expected {expected})",
                    public_key.len()
                ),
            });
        }
        let flags = attestation
            .auth_data
            .get(32)
            .copied()
            .unwrap_or_else(|| attestation.flags.as_u8());
        Ok(NewCredential {
            algorithm,
            public_key,
            key_handle: attestation.credential_descriptor.id.clone(),
            auth_data_flags: flags,
            sign_count: attestation.sign_count,
            attestation: AttestationStatement {
                format: attestation.fmt.clone(),
                algorithm: attestation.attstmt_alg,
                signature: attestation.attstmt_sig.clone(),
                x5c: attestation.attstmt_x5c.clone(),
                auth_data: attestation.auth_data.clone(),
            },
        })
    }

    fn get_assertion(&self, request: &AssertionRequest<'_>) -> Result<Assertion, DeviceError> {
        let application = request.application.clone();
        let message = request.message.clone();
        let key_handle = request.key_handle.clone();
        let user_presence = request.user_presence;
        let pin = request.pin.cloned();
        let deadline = if user_presence {
            self.options.touch_deadline
        } else {
            self.options.deadline
        };
        if user_presence {
            self.emit(DeviceEvent::TouchNeeded { operation: "sign" });
        }
        let result = self.call("getAssertion", deadline, move |hid| {
            let mut args =
                GetAssertionArgsBuilder::new(&application, &message).credential_id(&key_handle);
            args = match &pin {
                Some(pin) => args.pin(pin.expose()),
                None => args.without_pin_and_uv(),
            };
            if !user_presence {
                args = args.without_up();
            }
            let mut assertions = hid.get_assertion_with_args(&args.build())?;
            if assertions.is_empty() {
                anyhow::bail!("the key returned no assertion");
            }
            Ok(assertions.swap_remove(0))
        });
        if user_presence {
            self.emit(DeviceEvent::TouchDone);
        }
        let assertion = result?;
        let flags = assertion
            .auth_data
            .get(32)
            .copied()
            .unwrap_or_else(|| assertion.flags.as_u8());
        Ok(Assertion {
            flags,
            sign_count: assertion.sign_count,
            signature: assertion.signature,
            auth_data: assertion.auth_data,
        })
    }

    fn credential_counts(&self, pin: &Pin) -> Result<CredentialCounts, DeviceError> {
        let pin = pin.clone();
        self.explain_missing_pin(self.call(
            "credentialManagement.getCredsMetadata",
            self.options.deadline,
            move |hid| {
                let counts = hid.credential_management_get_creds_metadata(Some(pin.expose()))?;
                Ok(CredentialCounts {
                    existing: counts.existing_resident_credentials_count,
                    remaining: counts.max_possible_remaining_resident_credentials_count,
                })
            },
        ))
    }

    fn list_ssh_credentials(&self, pin: &Pin) -> Result<Vec<ResidentCredential>, DeviceError> {
        let pin_for_rps = pin.clone();
        let rps = match self.explain_missing_pin(self.call(
            "credentialManagement.enumerateRPs",
            self.options.deadline,
            move |hid| hid.credential_management_enumerate_rps(Some(pin_for_rps.expose())),
        )) {
            Ok(rps) => rps,
            Err(e) if is_no_credentials(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut found = Vec::new();
        for rp in rps {
            let application = rp.public_key_credential_rp_entity.id.clone();
            if !application.starts_with("ssh:") {
                continue;
            }
            let pin = pin.clone();
            let rp_hash = rp.rpid_hash.clone();
            let credentials = match self.call(
                "credentialManagement.enumerateCredentials",
                self.options.deadline,
                move |hid| {
                    hid.credential_management_enumerate_credentials(Some(pin.expose()), &rp_hash)
                },
            ) {
                Ok(c) => c,
                Err(e) if is_no_credentials(&e) => continue,
                Err(e) => return Err(e),
            };
            for c in credentials {
                let algorithm = match c.public_key.key_type {
                    PublicKeyType::Ed25519 => Some(KeyAlgorithm::Ed25519),
                    PublicKeyType::Ecdsa256 => Some(KeyAlgorithm::EcdsaP256),
                    PublicKeyType::Unknown => None,
                };
                found.push(ResidentCredential {
                    application: application.clone(),
                    user_id: c.public_key_credential_user_entity.id.clone(),
                    user_name: c.public_key_credential_user_entity.name.clone(),
                    credential_id: c.public_key_credential_descriptor.id.clone(),
                    algorithm,
                    public_key: c.public_key.der.clone(),
                    cred_protect: match c.cred_protect {
                        CredentialProtectionPolicy::UserVerificationOptional => Some(1),
                        CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList => Some(2),
                        CredentialProtectionPolicy::UserVerificationRequired => Some(3),
                        CredentialProtectionPolicy::Unknown => None,
                    },
                });
            }
        }
        found.sort_by(|a, b| (&a.application, &a.user_id).cmp(&(&b.application, &b.user_id)));
        Ok(found)
    }

    fn delete_credential(&self, pin: &Pin, credential_id: &[u8]) -> Result<(), DeviceError> {
        let pin = pin.clone();
        let descriptor = PublicKeyCredentialDescriptor {
            id: credential_id.to_vec(),
            ctype: "public-key".into(),
        };
        self.explain_missing_pin(self.call(
            "credentialManagement.deleteCredential",
            self.options.deadline,
            move |hid| hid.credential_management_delete_credential(Some(pin.expose()), descriptor),
        ))
    }
}

/// The getInfo fields skset uses, copied out of the library's private type.
struct RawInfo {
    versions: Vec<String>,
    extensions: Vec<String>,
    aaguid: Vec<u8>,
    options: Vec<(String, bool)>,
    algorithms: Vec<(String, String)>,
    firmware_version: u32,
    remaining_discoverable_credentials: u32,
    min_pin_length: u32,
    pin_uv_auth_protocols: Vec<u32>,
}

fn convert_info(path: String, product: Option<String>, info: &RawInfo) -> DeviceInfo {
    let option = |name: &str| {
        info.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    };
    let cose_algorithms: Vec<i64> = info
        .algorithms
        .iter()
        .filter(|(k, _)| k == "alg")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let mut ssh_algorithms: Vec<KeyAlgorithm> = cose_algorithms
        .iter()
        .filter_map(|id| KeyAlgorithm::from_cose_id(*id))
        .collect();
    // CTAP 2.0 devices may not list algorithms at all; every FIDO2 key does ES256.
    if info.algorithms.is_empty() {
        ssh_algorithms.push(KeyAlgorithm::EcdsaP256);
    }
    ssh_algorithms.sort_by_key(|a| match a {
        KeyAlgorithm::Ed25519 => 0,
        KeyAlgorithm::EcdsaP256 => 1,
    });
    ssh_algorithms.dedup();
    let versions_2_1 = info
        .versions
        .iter()
        .any(|v| v == "FIDO_2_1" || v == "FIDO_2_1_PRE");
    DeviceInfo {
        path,
        product,
        aaguid: hex::encode(&info.aaguid),
        firmware_version: (info.firmware_version != 0).then_some(info.firmware_version),
        ctap_versions: info.versions.clone(),
        cose_algorithms,
        ssh_algorithms,
        extensions: info.extensions.clone(),
        options: DeviceOptions {
            resident_keys: option("rk").unwrap_or(false),
            client_pin: option("clientPin"),
            user_presence: option("up").unwrap_or(true),
            user_verification: option("uv"),
            credential_management: option("credMgmt").unwrap_or(false)
                || (versions_2_1 && option("credentialMgmtPreview").unwrap_or(false)),
        },
        cred_protect: info.extensions.iter().any(|e| e == "credProtect"),
        remaining_discoverable_credentials: (info.remaining_discoverable_credentials != 0
            || versions_2_1)
            .then_some(info.remaining_discoverable_credentials),
        min_pin_length: info.min_pin_length.max(4),
        pin_protocols: info.pin_uv_auth_protocols.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_code_is_read_from_library_messages() {
        assert_eq!(
            status_code("response_status err = 0x31 CTAP2_ERR_PIN_INVALID   PIN Invalid."),
            Some(0x31)
        );
        assert_eq!(
            status_code("response_status err = 0x2E CTAP2_ERR_NO_CREDENTIALS"),
            Some(0x2E)
        );
        assert_eq!(status_code("read err = 0xFE"), None);
        assert_eq!(status_code("response_status err = 0x"), None);
    }

    #[test]
    fn a_stuck_call_times_out_and_a_panic_becomes_an_error() {
        let started = std::time::Instant::now();
        let r: Result<(), _> = run_with_deadline("test", Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        });
        assert!(matches!(r, Err(DeviceError::Timeout { .. })));
        assert!(started.elapsed() < Duration::from_secs(2));
        let r: Result<(), _> = run_with_deadline("test", Duration::from_secs(5), || panic!("boom"));
        match r {
            Err(DeviceError::Protocol { detail, .. }) => assert!(detail.contains("boom")),
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }
}
