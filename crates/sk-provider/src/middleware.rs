//! What the four middleware calls do, in safe Rust over [`Authenticator`].
//!
//! The semantics follow OpenSSH's own USB middleware (`sk-usbhid.c`, API 0x000a0000):
//! the provider only translates. Touch and PIN decisions are the authenticator's; the
//! provider passes `up`, the PIN and credProtect through and maps the answers to the
//! `SSH_SK_ERR_*` codes OpenSSH reacts to (a PIN prompt, an overwrite prompt, a clear
//! failure).

use crate::flags;
use skset::device::{
    error::status, AssertionRequest, Authenticator, CredProtect, CtapAuthenticator, CtapOptions,
    DeviceError, KeyAlgorithm, MakeCredentialRequest, Pin,
};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use zeroize::Zeroizing;

/// Set once a device call outlived its deadline: its worker thread may still be inside the
/// CTAP library (and print) at any time, so fd 1 stays on /dev/null from then on.
static STRANDED_WORKER: AtomicBool = AtomicBool::new(false);

fn note_stranded(error: &DeviceError) {
    if matches!(error, DeviceError::Timeout { .. } | DeviceError::Stalled) {
        STRANDED_WORKER.store(true, Ordering::SeqCst);
    }
}

/// Opens the device and runs `operation` on it with fd 1 silenced (see [`crate::stdout`]).
pub fn with_device<T>(
    options: &ProviderOptions,
    operation: impl FnOnce(&dyn Authenticator) -> Result<T, SkError>,
) -> Result<T, SkError> {
    let mut silenced = crate::stdout::SilencedStdout::new();
    let result = open_device(options).and_then(|device| operation(&device));
    if STRANDED_WORKER.load(Ordering::SeqCst) {
        silenced.keep_silenced();
    }
    result
}

/// The `SSH_SK_ERR_*` a call ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkError {
    /// -1: anything else; OpenSSH reports a generic failure.
    General,
    /// -2: the key cannot do what was asked (algorithm, credProtect).
    Unsupported,
    /// -3: OpenSSH asks for the PIN and retries (also used for a wrong PIN, like libfido2).
    PinRequired,
    /// -4: no device: `SKSET_SK_DEVICE` unset, or the path cannot be opened.
    DeviceNotFound,
    /// -5: a resident credential for this application and user exists (overwrite prompt).
    CredentialExists,
}

impl SkError {
    pub fn code(self) -> i32 {
        use crate::errors::*;
        match self {
            SkError::General => GENERAL,
            SkError::Unsupported => UNSUPPORTED,
            SkError::PinRequired => PIN_REQUIRED,
            SkError::DeviceNotFound => DEVICE_NOT_FOUND,
            SkError::CredentialExists => CREDENTIAL_EXISTS,
        }
    }

    /// The mapping `fidoerr_to_skerr` in sk-usbhid.c applies, in skset's error vocabulary.
    /// A wrong PIN and a refused operation become "PIN required" there too: OpenSSH then
    /// prompts (again) and counts the attempts itself.
    pub fn from_device(error: &DeviceError) -> SkError {
        match error {
            DeviceError::PinRequired
            | DeviceError::PinInvalid { .. }
            | DeviceError::TouchDenied => SkError::PinRequired,
            DeviceError::UnsupportedAlgorithm { .. } => SkError::Unsupported,
            DeviceError::UnsupportedOption { .. } => SkError::Unsupported,
            DeviceError::NoDevice
            | DeviceError::Open { .. }
            | DeviceError::HidUnavailable { .. } => SkError::DeviceNotFound,
            _ => SkError::General,
        }
    }
}

/// `SSH_SK_ECDSA` (0) and `SSH_SK_ED25519` (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    EcdsaP256,
    Ed25519,
}

impl Algorithm {
    pub fn from_ssh(alg: u32) -> Option<Algorithm> {
        match alg {
            0 => Some(Algorithm::EcdsaP256),
            1 => Some(Algorithm::Ed25519),
            _ => None,
        }
    }

    pub fn to_ssh(self) -> u32 {
        match self {
            Algorithm::EcdsaP256 => 0,
            Algorithm::Ed25519 => 1,
        }
    }

    fn device(self) -> KeyAlgorithm {
        match self {
            Algorithm::EcdsaP256 => KeyAlgorithm::EcdsaP256,
            Algorithm::Ed25519 => KeyAlgorithm::Ed25519,
        }
    }

    fn from_device(algorithm: KeyAlgorithm) -> Algorithm {
        match algorithm {
            KeyAlgorithm::EcdsaP256 => Algorithm::EcdsaP256,
            KeyAlgorithm::Ed25519 => Algorithm::Ed25519,
        }
    }
}

/// The `sk_option` list OpenSSH passes, parsed. Unknown options are ignored unless marked
/// required, as in sk-usbhid.c.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderOptions {
    /// `device`: a path that overrides `SKSET_SK_DEVICE`.
    pub device: Option<String>,
    /// `user` (enroll only): the user id, at most 31 bytes, zero padded to 32.
    pub user: Option<String>,
}

/// OpenSSH's user id buffer: 32 bytes.
pub const USER_ID_LEN: usize = 32;

impl ProviderOptions {
    /// Parses `(name, value, required)` triples. `allow_user` is true for enrollment only.
    pub fn parse<'a>(
        options: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
        allow_user: bool,
    ) -> Result<ProviderOptions, SkError> {
        let mut parsed = ProviderOptions::default();
        for (name, value, required) in options {
            match name {
                "device" => parsed.device = Some(value.to_string()),
                "user" if allow_user => {
                    // strlcpy into 32 bytes: 31 bytes of text at most, the rest NULs.
                    if value.len() >= USER_ID_LEN {
                        debug(format_args!(
                            "user option longer than {} bytes",
                            USER_ID_LEN - 1
                        ));
                        return Err(SkError::General);
                    }
                    parsed.user = Some(value.to_string());
                }
                _ if required => {
                    debug(format_args!("unsupported required option {name:?}"));
                    return Err(SkError::General);
                }
                _ => debug(format_args!("ignoring unsupported option {name:?}")),
            }
        }
        Ok(parsed)
    }

    /// The 32-byte user id: the `user` option zero padded, or 32 zero bytes.
    pub fn user_id(&self) -> Vec<u8> {
        let mut id = vec![0u8; USER_ID_LEN];
        if let Some(user) = &self.user {
            // Like strlcpy: stops at an embedded NUL (a C string cannot carry one anyway).
            let bytes = user.as_bytes();
            let end = bytes
                .iter()
                .position(|b| *b == 0)
                .unwrap_or(bytes.len())
                .min(USER_ID_LEN - 1);
            id[..end].copy_from_slice(&bytes[..end]);
        }
        id
    }
}

/// Turns OpenSSH's PIN argument into a [`Pin`]. NULL or empty means "no PIN". A string
/// the PIN rules reject cannot be the right PIN: report it as a wrong PIN would be.
pub fn pin_from_ssh(pin: Option<Zeroizing<String>>) -> Result<Option<Pin>, SkError> {
    match pin {
        None => Ok(None),
        Some(p) if p.is_empty() => Ok(None),
        Some(p) => Pin::new(p).map(Some).map_err(|e| {
            debug(format_args!("PIN refused before reaching the key: {e}"));
            SkError::PinRequired
        }),
    }
}

/// `sk_enroll`'s arguments.
#[derive(Debug)]
pub struct EnrollRequest {
    pub algorithm: Algorithm,
    pub challenge: Vec<u8>,
    pub application: String,
    pub flags: u8,
    pub pin: Option<Pin>,
    pub options: ProviderOptions,
}

/// `struct sk_enroll_response`, owned by Rust until the FFI layer copies it out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrollResponse {
    pub flags: u8,
    /// Ed25519: 32 bytes. P-256: 65 bytes, 04 || x || y.
    pub public_key: Vec<u8>,
    pub key_handle: Vec<u8>,
    pub signature: Vec<u8>,
    /// DER leaf certificate; empty for self attestation.
    pub attestation_cert: Vec<u8>,
    /// authenticatorData, CBOR-wrapped as libfido2 returns it.
    pub authdata: Vec<u8>,
}

/// `sk_sign`'s arguments. `data` is the whole message: the authenticator signs
/// SHA-256(data) as clientDataHash (API 0x000a0000 moved the hashing into the middleware).
#[derive(Debug)]
pub struct SignRequest {
    pub algorithm: Algorithm,
    pub data: Vec<u8>,
    pub application: String,
    pub key_handle: Vec<u8>,
    pub flags: u8,
    pub pin: Option<Pin>,
    pub options: ProviderOptions,
}

/// `struct sk_sign_response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignResponse {
    /// authenticatorData flags (UP 0x01, UV 0x04): sshd checks these against the policy.
    pub flags: u8,
    pub counter: u32,
    /// Ed25519: the 64-byte signature. ECDSA: r.
    pub sig_r: Vec<u8>,
    /// ECDSA: s. Ed25519: none (NULL).
    pub sig_s: Option<Vec<u8>>,
}

/// `struct sk_resident_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentKey {
    pub algorithm: Algorithm,
    pub slot: usize,
    pub application: String,
    pub key: EnrollResponse,
    pub flags: u8,
    pub user_id: Vec<u8>,
}

/// Opens the device the options or `SKSET_SK_DEVICE` name.
pub fn open_device(options: &ProviderOptions) -> Result<CtapAuthenticator, SkError> {
    let path = match &options.device {
        Some(path) => path.clone(),
        None => match std::env::var(crate::DEVICE_ENV) {
            Ok(path) if !path.is_empty() => path,
            _ => {
                report(format_args!(
                    "no device: set {}=PATH (a /dev/hidrawN node or the virtual key's hidraw0 file)",
                    crate::DEVICE_ENV
                ));
                return Err(SkError::DeviceNotFound);
            }
        },
    };
    CtapAuthenticator::open(&path, CtapOptions::default()).map_err(|e| {
        note_stranded(&e);
        report(format_args!("cannot open {path}: {e}"));
        SkError::DeviceNotFound
    })
}

/// `sk_enroll`: make a credential the way sk-usbhid.c does.
pub fn enroll(
    device: &dyn Authenticator,
    request: &EnrollRequest,
) -> Result<EnrollResponse, SkError> {
    let user_id = request.options.user_id();
    let resident = request.flags & flags::RESIDENT_KEY != 0;
    let verify_required = request.flags & flags::USER_VERIFICATION_REQUIRED != 0;
    let pin = request.pin.as_ref();

    if resident && request.flags & flags::FORCE_OPERATION == 0 {
        if let Some(pin) = pin {
            if resident_credential_exists(device, &request.application, &user_id, pin)? {
                debug(format_args!(
                    "a resident key for {} and this user exists",
                    request.application
                ));
                return Err(SkError::CredentialExists);
            }
        }
        // Without a PIN, libfido2's lookup (an up=false getAssertion without UV) cannot
        // see OpenSSH's credentials either: they are all credProtect 2 or 3. Nothing to do.
    }

    let cred_protect = if resident || verify_required {
        let info = device.info().map_err(|e| device_failure("getInfo", &e))?;
        if !info.cred_protect {
            report(format_args!(
                "{} does not support credProtect; refusing to create an unprotected resident/verify-required key",
                device.path()
            ));
            return Err(SkError::Unsupported);
        }
        Some(if verify_required {
            CredProtect::UvRequired
        } else {
            CredProtect::UvOptionalWithCredentialId
        })
    } else {
        None
    };

    let credential = device
        .make_credential(&MakeCredentialRequest {
            algorithm: request.algorithm.device(),
            application: request.application.clone(),
            user_id,
            user_name: "openssh".into(),
            resident,
            cred_protect,
            pin,
            challenge: request.challenge.clone(),
            exclude: Vec::new(),
        })
        .map_err(|e| device_failure("makeCredential", &e))?;

    let expected = match request.algorithm {
        Algorithm::Ed25519 => 32,
        Algorithm::EcdsaP256 => 65,
    };
    if credential.public_key.len() != expected {
        report(format_args!(
            "the key returned a public key of {} bytes",
            credential.public_key.len()
        ));
        return Err(SkError::General);
    }
    Ok(EnrollResponse {
        // OpenSSH stores the flags it asked for (sk-usbhid.c copies them back).
        flags: request.flags,
        public_key: credential.public_key,
        key_handle: credential.key_handle,
        signature: credential.attestation.signature,
        attestation_cert: credential
            .attestation
            .x5c
            .into_iter()
            .next()
            .unwrap_or_default(),
        authdata: crate::cbor::byte_string(&credential.attestation.auth_data),
    })
}

/// sk-usbhid.c's `key_lookup`, through credential management (the trait has no
/// discoverable getAssertion): is there a credential for `application` with this user id?
fn resident_credential_exists(
    device: &dyn Authenticator,
    application: &str,
    user_id: &[u8],
    pin: &Pin,
) -> Result<bool, SkError> {
    match device.list_ssh_credentials(pin) {
        Ok(credentials) => Ok(credentials
            .iter()
            .any(|c| c.application == application && c.user_id == user_id)),
        // No credential management: the lookup cannot be made, as on CTAP 2.0 keys.
        Err(e) if is_not_supported(&e) => Ok(false),
        Err(e) => Err(device_failure("key lookup", &e)),
    }
}

fn is_not_supported(error: &DeviceError) -> bool {
    matches!(error.ctap_code(), Some(status::INVALID_COMMAND))
        || matches!(error, DeviceError::UnsupportedOption { .. })
}

/// `sk_sign`.
pub fn sign(device: &dyn Authenticator, request: &SignRequest) -> Result<SignResponse, SkError> {
    if request.pin.is_none() && request.flags & flags::USER_VERIFICATION_REQUIRED != 0 {
        // sk-usbhid.c asks the key for built-in UV here; the Authenticator trait offers
        // no way to request it, so the PIN is the only user verification: ask for it.
        debug(format_args!(
            "verify-required key and no PIN: asking OpenSSH for the PIN"
        ));
        return Err(SkError::PinRequired);
    }
    let assertion = device
        .get_assertion(&AssertionRequest {
            application: request.application.clone(),
            key_handle: request.key_handle.clone(),
            message: request.data.clone(),
            user_presence: request.flags & flags::USER_PRESENCE_REQUIRED != 0,
            pin: request.pin.as_ref(),
        })
        .map_err(|e| device_failure("getAssertion", &e))?;
    let (sig_r, sig_s) = match request.algorithm {
        Algorithm::Ed25519 => {
            if assertion.signature.len() != 64 {
                report(format_args!(
                    "Ed25519 signature of {} bytes",
                    assertion.signature.len()
                ));
                return Err(SkError::General);
            }
            (assertion.signature, None)
        }
        Algorithm::EcdsaP256 => {
            let split = crate::der::split_ecdsa_signature(&assertion.signature).map_err(|e| {
                report(format_args!("{e}"));
                SkError::General
            })?;
            (split.r, Some(split.s))
        }
    };
    Ok(SignResponse {
        flags: assertion.flags,
        counter: assertion.sign_count,
        sig_r,
        sig_s,
    })
}

/// `sk_load_resident_keys`: every discoverable credential of an `ssh:` application.
pub fn load_resident_keys(
    device: &dyn Authenticator,
    pin: Option<&Pin>,
) -> Result<Vec<ResidentKey>, SkError> {
    let Some(pin) = pin else {
        debug(format_args!("listing resident keys needs the PIN"));
        return Err(SkError::PinRequired);
    };
    let info = device.info().map_err(|e| device_failure("getInfo", &e))?;
    let credentials = match device.list_ssh_credentials(pin) {
        Ok(c) => c,
        Err(e) if is_not_supported(&e) => {
            debug(format_args!(
                "{} does not support credential management: no resident keys",
                device.path()
            ));
            return Ok(Vec::new());
        }
        Err(e) => return Err(device_failure("credential management", &e)),
    };
    let mut keys = Vec::with_capacity(credentials.len());
    for credential in credentials {
        let Some(algorithm) = credential.algorithm else {
            debug(format_args!(
                "skipping a credential of {} with an unknown algorithm",
                credential.application
            ));
            continue;
        };
        let mut key_flags = 0;
        // OpenSSH marks a key verify-required only when the device cannot verify by itself.
        if credential.cred_protect == Some(CredProtect::UvRequired.level())
            && info.options.user_verification.is_none()
        {
            key_flags |= flags::USER_VERIFICATION_REQUIRED;
        }
        keys.push(ResidentKey {
            algorithm: Algorithm::from_device(algorithm),
            slot: keys.len(),
            application: credential.application,
            key: EnrollResponse {
                public_key: credential.public_key,
                key_handle: credential.credential_id,
                ..EnrollResponse::default()
            },
            flags: key_flags,
            user_id: credential.user_id,
        });
    }
    Ok(keys)
}

fn device_failure(operation: &str, error: &DeviceError) -> SkError {
    note_stranded(error);
    let mapped = SkError::from_device(error);
    if mapped == SkError::PinRequired {
        // Expected turns of the conversation (OpenSSH prompts): not worth a line on stderr.
        debug(format_args!("{operation}: {error}"));
    } else {
        report(format_args!("{operation}: {error}"));
    }
    mapped
}

/// True when `SKSET_SK_DEBUG=1`.
fn debug_enabled() -> bool {
    std::env::var_os(crate::DEBUG_ENV).is_some_and(|v| v == "1")
}

/// A line on stderr for a real failure (never stdout: see [`crate::stdout`]).
fn report(message: fmt::Arguments<'_>) {
    eprintln!("skset-sk-provider: {message}");
}

/// A line on stderr only with `SKSET_SK_DEBUG=1`.
pub(crate) fn debug(message: fmt::Arguments<'_>) {
    if debug_enabled() {
        eprintln!("skset-sk-provider: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skset::device::{
        Assertion, AttestationStatement, CredentialCounts, DeviceInfo, DeviceOptions,
        NewCredential, PinStatus, ResidentCredential,
    };
    use std::sync::Mutex;

    /// What the provider asked makeCredential for.
    #[derive(Debug, Clone, PartialEq)]
    struct Made {
        algorithm: KeyAlgorithm,
        application: String,
        user_id: Vec<u8>,
        user_name: String,
        resident: bool,
        cred_protect: Option<CredProtect>,
        with_pin: bool,
        challenge: Vec<u8>,
    }

    /// What the provider asked getAssertion for.
    #[derive(Debug, Clone, PartialEq)]
    struct Asserted {
        application: String,
        key_handle: Vec<u8>,
        message: Vec<u8>,
        user_presence: bool,
        with_pin: bool,
    }

    /// Records requests and answers from a script; enough to check the translation.
    #[derive(Default)]
    struct Fake {
        cred_protect: bool,
        internal_uv: Option<bool>,
        credentials: Vec<ResidentCredential>,
        assertion_signature: Vec<u8>,
        fail_with: Mutex<Option<DeviceError>>,
        made: Mutex<Vec<Made>>,
        asserted: Mutex<Vec<Asserted>>,
        listed: Mutex<u32>,
    }

    impl Fake {
        fn fail(&self) -> Result<(), DeviceError> {
            match self.fail_with.lock().unwrap().take() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    }

    impl Authenticator for Fake {
        fn path(&self) -> &str {
            "fake"
        }
        fn info(&self) -> Result<DeviceInfo, DeviceError> {
            Ok(DeviceInfo {
                path: "fake".into(),
                product: None,
                aaguid: "00".repeat(16),
                firmware_version: None,
                ctap_versions: vec!["FIDO_2_1".into()],
                cose_algorithms: vec![-8, -7],
                ssh_algorithms: vec![KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256],
                extensions: vec![],
                options: DeviceOptions {
                    resident_keys: true,
                    client_pin: Some(true),
                    user_presence: true,
                    user_verification: self.internal_uv,
                    credential_management: true,
                },
                cred_protect: self.cred_protect,
                remaining_discoverable_credentials: Some(10),
                min_pin_length: 4,
                pin_protocols: vec![2],
            })
        }
        fn pin_status(&self) -> Result<PinStatus, DeviceError> {
            unimplemented!()
        }
        fn set_pin(&self, _: &Pin) -> Result<(), DeviceError> {
            unimplemented!()
        }
        fn change_pin(&self, _: &Pin, _: &Pin) -> Result<(), DeviceError> {
            unimplemented!()
        }
        fn make_credential(
            &self,
            r: &MakeCredentialRequest<'_>,
        ) -> Result<NewCredential, DeviceError> {
            self.fail()?;
            self.made.lock().unwrap().push(Made {
                algorithm: r.algorithm,
                application: r.application.clone(),
                user_id: r.user_id.clone(),
                user_name: r.user_name.clone(),
                resident: r.resident,
                cred_protect: r.cred_protect,
                with_pin: r.pin.is_some(),
                challenge: r.challenge.clone(),
            });
            let public_key = match r.algorithm {
                KeyAlgorithm::Ed25519 => vec![7; 32],
                KeyAlgorithm::EcdsaP256 => [vec![4], vec![9; 64]].concat(),
            };
            Ok(NewCredential {
                algorithm: r.algorithm,
                public_key,
                key_handle: vec![1, 2, 3],
                auth_data_flags: 0x45,
                sign_count: 0,
                attestation: AttestationStatement {
                    format: "packed".into(),
                    algorithm: -8,
                    signature: vec![5; 64],
                    x5c: vec![],
                    auth_data: vec![0xaa; 3],
                },
            })
        }
        fn get_assertion(&self, r: &AssertionRequest<'_>) -> Result<Assertion, DeviceError> {
            self.fail()?;
            self.asserted.lock().unwrap().push(Asserted {
                application: r.application.clone(),
                key_handle: r.key_handle.clone(),
                message: r.message.clone(),
                user_presence: r.user_presence,
                with_pin: r.pin.is_some(),
            });
            Ok(Assertion {
                flags: if r.user_presence { 0x01 } else { 0 }
                    | if r.pin.is_some() { 0x04 } else { 0 },
                sign_count: 42,
                signature: self.assertion_signature.clone(),
                auth_data: vec![],
            })
        }
        fn credential_counts(&self, _: &Pin) -> Result<CredentialCounts, DeviceError> {
            unimplemented!()
        }
        fn list_ssh_credentials(&self, _: &Pin) -> Result<Vec<ResidentCredential>, DeviceError> {
            self.fail()?;
            *self.listed.lock().unwrap() += 1;
            Ok(self.credentials.clone())
        }
        fn delete_credential(&self, _: &Pin, _: &[u8]) -> Result<(), DeviceError> {
            unimplemented!()
        }
    }

    fn pin() -> Pin {
        Pin::new(Zeroizing::new("1234".into())).unwrap()
    }

    fn credential(application: &str, user: &[u8], cred_protect: u8) -> ResidentCredential {
        let mut user_id = vec![0; 32];
        user_id[..user.len()].copy_from_slice(user);
        ResidentCredential {
            application: application.into(),
            user_id,
            user_name: "openssh".into(),
            credential_id: vec![0xc0, 0xde],
            algorithm: Some(KeyAlgorithm::Ed25519),
            public_key: vec![3; 32],
            cred_protect: Some(cred_protect),
        }
    }

    fn enroll_request(flags: u8, pin: Option<Pin>, user: Option<&str>) -> EnrollRequest {
        EnrollRequest {
            algorithm: Algorithm::Ed25519,
            challenge: b"challenge".to_vec(),
            application: "ssh:root".into(),
            flags,
            pin,
            options: ProviderOptions {
                device: None,
                user: user.map(str::to_string),
            },
        }
    }

    #[test]
    fn enrollment_mirrors_openssh() {
        let fake = Fake {
            cred_protect: true,
            ..Fake::default()
        };
        let response = enroll(&fake, &enroll_request(0x25, Some(pin()), Some("alice"))).unwrap();
        let made = fake.made.lock().unwrap();
        let mut expected_id = vec![0u8; 32];
        expected_id[..5].copy_from_slice(b"alice");
        assert_eq!(
            made[0],
            Made {
                algorithm: KeyAlgorithm::Ed25519,
                application: "ssh:root".into(),
                user_id: expected_id,
                user_name: "openssh".into(),
                resident: true,
                cred_protect: Some(CredProtect::UvRequired),
                with_pin: true,
                challenge: b"challenge".to_vec(),
            }
        );
        assert_eq!(response.flags, 0x25);
        assert_eq!(response.authdata, vec![0x43, 0xaa, 0xaa, 0xaa]);
        assert!(response.attestation_cert.is_empty());
    }

    #[test]
    fn cred_protect_follows_flags() {
        let fake = Fake {
            cred_protect: true,
            ..Fake::default()
        };
        enroll(&fake, &enroll_request(0x21, None, None)).unwrap();
        enroll(&fake, &enroll_request(0x01, None, None)).unwrap();
        enroll(&fake, &enroll_request(0x05, None, None)).unwrap();
        let made = fake.made.lock().unwrap();
        assert_eq!(
            made[0].cred_protect,
            Some(CredProtect::UvOptionalWithCredentialId)
        );
        assert_eq!(
            made[0].user_id,
            vec![0; 32],
            "default user id is 32 zero bytes"
        );
        assert_eq!(made[1].cred_protect, None);
        assert!(!made[1].resident);
        assert_eq!(made[2].cred_protect, Some(CredProtect::UvRequired));
    }

    #[test]
    fn resident_keys_need_cred_protect() {
        let fake = Fake::default();
        assert_eq!(
            enroll(&fake, &enroll_request(0x21, None, None)).unwrap_err(),
            SkError::Unsupported
        );
        assert!(enroll(&fake, &enroll_request(0x01, None, None)).is_ok());
    }

    #[test]
    fn an_existing_resident_key_is_reported_unless_forced() {
        let fake = Fake {
            cred_protect: true,
            credentials: vec![credential("ssh:root", b"", 3)],
            ..Fake::default()
        };
        assert_eq!(
            enroll(&fake, &enroll_request(0x25, Some(pin()), None)).unwrap_err(),
            SkError::CredentialExists
        );
        // Another user id under the same application is a different credential.
        assert!(enroll(&fake, &enroll_request(0x25, Some(pin()), Some("bob"))).is_ok());
        // FORCE_OPERATION (the "y" to "Overwrite key in token?") skips the lookup.
        assert!(enroll(&fake, &enroll_request(0x35, Some(pin()), None)).is_ok());
        // Without a PIN the lookup is not made (it could not see credProtect>=2 anyway).
        let listed_before = *fake.listed.lock().unwrap();
        assert!(enroll(&fake, &enroll_request(0x25, None, None)).is_ok());
        assert_eq!(*fake.listed.lock().unwrap(), listed_before);
    }

    #[test]
    fn pin_errors_make_openssh_prompt() {
        let fake = Fake {
            cred_protect: true,
            ..Fake::default()
        };
        *fake.fail_with.lock().unwrap() = Some(DeviceError::PinRequired);
        assert_eq!(
            enroll(&fake, &enroll_request(0x21, None, None)).unwrap_err(),
            SkError::PinRequired
        );
        *fake.fail_with.lock().unwrap() = Some(DeviceError::PinInvalid {
            retries_left: Some(7),
        });
        assert_eq!(
            enroll(&fake, &enroll_request(0x25, Some(pin()), None)).unwrap_err(),
            SkError::PinRequired
        );
        *fake.fail_with.lock().unwrap() = Some(DeviceError::PinBlocked);
        assert_eq!(
            enroll(&fake, &enroll_request(0x01, Some(pin()), None)).unwrap_err(),
            SkError::General
        );
        *fake.fail_with.lock().unwrap() = Some(DeviceError::UnsupportedAlgorithm {
            algorithm: "x".into(),
        });
        assert_eq!(
            enroll(&fake, &enroll_request(0x01, None, None)).unwrap_err(),
            SkError::Unsupported
        );
        assert_eq!(
            pin_from_ssh(Some(Zeroizing::new("12".into()))).unwrap_err(),
            SkError::PinRequired
        );
        assert!(pin_from_ssh(Some(Zeroizing::new(String::new())))
            .unwrap()
            .is_none());
    }

    fn sign_request(algorithm: Algorithm, flags: u8, pin: Option<Pin>) -> SignRequest {
        SignRequest {
            algorithm,
            data: b"the whole message".to_vec(),
            application: "ssh:".into(),
            key_handle: vec![9, 9],
            flags,
            pin,
            options: ProviderOptions::default(),
        }
    }

    #[test]
    fn signing_passes_up_pin_and_the_whole_message() {
        let fake = Fake {
            assertion_signature: vec![6; 64],
            ..Fake::default()
        };
        let r = sign(&fake, &sign_request(Algorithm::Ed25519, 0x01, None)).unwrap();
        assert_eq!(
            (r.flags, r.counter, r.sig_r.len(), r.sig_s.clone()),
            (0x01, 42, 64, None)
        );
        sign(&fake, &sign_request(Algorithm::Ed25519, 0x00, None)).unwrap();
        sign(&fake, &sign_request(Algorithm::Ed25519, 0x05, Some(pin()))).unwrap();
        let asserted = fake.asserted.lock().unwrap();
        assert_eq!(
            asserted[0],
            Asserted {
                application: "ssh:".into(),
                key_handle: vec![9, 9],
                message: b"the whole message".to_vec(),
                user_presence: true,
                with_pin: false,
            }
        );
        assert!(
            !asserted[1].user_presence,
            "no-touch-required signs with up=false"
        );
        assert!(asserted[2].user_presence && asserted[2].with_pin);
    }

    #[test]
    fn verify_required_without_pin_asks_for_one_before_touching_the_key() {
        let fake = Fake {
            assertion_signature: vec![6; 64],
            ..Fake::default()
        };
        assert_eq!(
            sign(&fake, &sign_request(Algorithm::Ed25519, 0x05, None)).unwrap_err(),
            SkError::PinRequired
        );
        assert!(fake.asserted.lock().unwrap().is_empty());
    }

    #[test]
    fn ecdsa_signatures_are_split() {
        let der = vec![0x30, 0x07, 0x02, 0x02, 0x00, 0x81, 0x02, 0x01, 0x05];
        let fake = Fake {
            assertion_signature: der,
            ..Fake::default()
        };
        let r = sign(&fake, &sign_request(Algorithm::EcdsaP256, 0x01, None)).unwrap();
        assert_eq!((r.sig_r, r.sig_s), (vec![0x81], Some(vec![0x05])));
        let fake = Fake {
            assertion_signature: vec![6; 64],
            ..Fake::default()
        };
        assert_eq!(
            sign(&fake, &sign_request(Algorithm::EcdsaP256, 0x01, None)).unwrap_err(),
            SkError::General
        );
    }

    #[test]
    fn resident_keys_carry_openssh_flags() {
        let mut other = credential("ssh:robo", b"robo", 2);
        other.algorithm = Some(KeyAlgorithm::EcdsaP256);
        let fake = Fake {
            credentials: vec![credential("ssh:root", b"", 3), other],
            ..Fake::default()
        };
        assert_eq!(
            load_resident_keys(&fake, None).unwrap_err(),
            SkError::PinRequired
        );
        let keys = load_resident_keys(&fake, Some(&pin())).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            (
                keys[0].application.as_str(),
                keys[0].flags,
                keys[0].algorithm
            ),
            ("ssh:root", 0x04, Algorithm::Ed25519)
        );
        assert_eq!(
            (keys[1].flags, keys[1].algorithm, keys[1].slot),
            (0x00, Algorithm::EcdsaP256, 1)
        );
        assert_eq!(&keys[1].user_id[..4], b"robo");
        assert_eq!(keys[0].key.key_handle, vec![0xc0, 0xde]);
        // A key with built-in UV does not need the PIN: OpenSSH leaves UV off then.
        let fake = Fake {
            credentials: vec![credential("ssh:root", b"", 3)],
            internal_uv: Some(true),
            ..Fake::default()
        };
        assert_eq!(load_resident_keys(&fake, Some(&pin())).unwrap()[0].flags, 0);
    }

    #[test]
    fn options_follow_sk_usbhid() {
        let o = ProviderOptions::parse(
            [("device", "/dev/x", false), ("user", "alice", false)],
            true,
        )
        .unwrap();
        assert_eq!(o.device.as_deref(), Some("/dev/x"));
        assert_eq!(&o.user_id()[..6], b"alice\0");
        assert!(ProviderOptions::parse([("user", &*"u".repeat(31), false)], true).is_ok());
        assert_eq!(
            ProviderOptions::parse([("user", &*"u".repeat(32), false)], true).unwrap_err(),
            SkError::General
        );
        assert!(ProviderOptions::parse([("mystery", "1", false)], false).is_ok());
        assert_eq!(
            ProviderOptions::parse([("mystery", "1", true)], false).unwrap_err(),
            SkError::General
        );
        // `user` means nothing to sign/load: ignored unless required.
        assert_eq!(
            ProviderOptions::parse([("user", "x", true)], false).unwrap_err(),
            SkError::General
        );
    }
}
