//! The C face of the provider: the four symbols OpenSSH `dlsym()`s and the `#[repr(C)]`
//! structs of `sk-api.h` (API 0x000a0000). This is the crate's only `unsafe` code.
//!
//! Contract with OpenSSH (ssh-sk.c): every struct and buffer handed back is released with
//! `free()`, so all of it comes from `libc::malloc`/`calloc`; on failure nothing is handed
//! back and everything allocated so far is freed here. No panic crosses the boundary:
//! each export runs inside `catch_unwind` and a panic becomes `SSH_SK_ERR_GENERAL`.
#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

use crate::middleware::{
    self, Algorithm, EnrollRequest, EnrollResponse, ProviderOptions, SignRequest, SkError,
};
use crate::{errors, API_VERSION};
use libc::{c_char, c_int, size_t};
use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{Mutex, PoisonError};
use zeroize::Zeroizing;

/// `struct sk_enroll_response`.
#[repr(C)]
pub struct sk_enroll_response {
    pub flags: u8,
    pub public_key: *mut u8,
    pub public_key_len: size_t,
    pub key_handle: *mut u8,
    pub key_handle_len: size_t,
    pub signature: *mut u8,
    pub signature_len: size_t,
    pub attestation_cert: *mut u8,
    pub attestation_cert_len: size_t,
    pub authdata: *mut u8,
    pub authdata_len: size_t,
}

/// `struct sk_sign_response`.
#[repr(C)]
pub struct sk_sign_response {
    pub flags: u8,
    pub counter: u32,
    pub sig_r: *mut u8,
    pub sig_r_len: size_t,
    pub sig_s: *mut u8,
    pub sig_s_len: size_t,
}

/// `struct sk_resident_key`.
#[repr(C)]
pub struct sk_resident_key {
    pub alg: u32,
    pub slot: size_t,
    pub application: *mut c_char,
    pub key: sk_enroll_response,
    pub flags: u8,
    pub user_id: *mut u8,
    pub user_id_len: size_t,
}

/// `struct sk_option`.
#[repr(C)]
pub struct sk_option {
    pub name: *mut c_char,
    pub value: *mut c_char,
    pub required: u8,
}

/// One call at a time: fd 1 is swapped process-wide while a device call runs, and two
/// interleaved save/restore pairs would leave it pointing at the wrong file.
static CALL_LOCK: Mutex<()> = Mutex::new(());

/// Runs an export's body: serialized, and with any panic turned into a general error.
fn guarded(body: impl FnOnce() -> Result<(), SkError>) -> c_int {
    let _serial = CALL_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => e.code(),
        Err(_) => errors::GENERAL,
    }
}

#[no_mangle]
pub extern "C" fn sk_api_version() -> u32 {
    API_VERSION
}

/// # Safety
/// OpenSSH's contract (sk-api.h): `challenge` points to `challenge_len` readable bytes,
/// `application` and a non-NULL `pin` are NUL-terminated strings, `options` is NULL or a
/// NULL-terminated array of valid `sk_option` pointers, `enroll_response` is writable.
#[no_mangle]
pub unsafe extern "C" fn sk_enroll(
    alg: u32,
    challenge: *const u8,
    challenge_len: size_t,
    application: *const c_char,
    flags: u8,
    pin: *const c_char,
    options: *mut *mut sk_option,
    enroll_response: *mut *mut sk_enroll_response,
) -> c_int {
    guarded(|| {
        if enroll_response.is_null() {
            return Err(SkError::General);
        }
        // SAFETY: checked non-NULL above; the caller gives us a writable out-pointer.
        unsafe { *enroll_response = ptr::null_mut() };
        let algorithm = Algorithm::from_ssh(alg).ok_or(SkError::Unsupported)?;
        // SAFETY: the pointers come straight from OpenSSH with the documented contract.
        let (challenge, application, pin, options) = unsafe {
            (
                bytes(challenge, challenge_len).to_vec(),
                string(application)?,
                pin_arg(pin)?,
                ProviderOptions::parse(option_list(options)?, true)?,
            )
        };
        let request = EnrollRequest {
            algorithm,
            challenge,
            application,
            flags,
            pin: middleware::pin_from_ssh(pin)?,
            options,
        };
        let response = middleware::with_device(&request.options, |device| {
            middleware::enroll(device, &request)
        })?;
        let c_response = to_c_enroll(&response).ok_or(SkError::General)?;
        let boxed = c_box(c_response).map_err(|lost| {
            // SAFETY: the buffers were malloc'd by to_c_enroll and never handed out.
            unsafe { free_enroll_fields(&lost) };
            SkError::General
        })?;
        // SAFETY: non-NULL (checked above) and writable; OpenSSH now owns `boxed`.
        unsafe { *enroll_response = boxed };
        Ok(())
    })
}

/// # Safety
/// As for [`sk_enroll`]; `data` points to `data_len` bytes, `key_handle` to
/// `key_handle_len` bytes, `sign_response` is writable.
#[no_mangle]
pub unsafe extern "C" fn sk_sign(
    alg: u32,
    data: *const u8,
    data_len: size_t,
    application: *const c_char,
    key_handle: *const u8,
    key_handle_len: size_t,
    flags: u8,
    pin: *const c_char,
    options: *mut *mut sk_option,
    sign_response: *mut *mut sk_sign_response,
) -> c_int {
    guarded(|| {
        if sign_response.is_null() {
            return Err(SkError::General);
        }
        // SAFETY: checked non-NULL above.
        unsafe { *sign_response = ptr::null_mut() };
        let algorithm = Algorithm::from_ssh(alg).ok_or(SkError::Unsupported)?;
        // SAFETY: the pointers come straight from OpenSSH with the documented contract.
        let (data, application, key_handle, pin, options) = unsafe {
            (
                bytes(data, data_len).to_vec(),
                string(application)?,
                bytes(key_handle, key_handle_len).to_vec(),
                pin_arg(pin)?,
                ProviderOptions::parse(option_list(options)?, false)?,
            )
        };
        let request = SignRequest {
            algorithm,
            data,
            application,
            key_handle,
            flags,
            pin: middleware::pin_from_ssh(pin)?,
            options,
        };
        let response = middleware::with_device(&request.options, |device| {
            middleware::sign(device, &request)
        })?;
        let (sig_r, sig_r_len) = c_bytes(&response.sig_r, true).ok_or(SkError::General)?;
        let (sig_s, sig_s_len) = match &response.sig_s {
            None => (ptr::null_mut(), 0),
            Some(s) => match c_bytes(s, true) {
                Some(allocated) => allocated,
                None => {
                    // SAFETY: sig_r came from malloc above and is not handed out.
                    unsafe { libc::free(sig_r.cast()) };
                    return Err(SkError::General);
                }
            },
        };
        let c_response = sk_sign_response {
            flags: response.flags,
            counter: response.counter,
            sig_r,
            sig_r_len,
            sig_s,
            sig_s_len,
        };
        let boxed = c_box(c_response).map_err(|lost| {
            // SAFETY: both came from malloc above (or are NULL) and were never handed out.
            unsafe {
                libc::free(lost.sig_r.cast());
                libc::free(lost.sig_s.cast());
            }
            SkError::General
        })?;
        // SAFETY: non-NULL (checked above) and writable; OpenSSH now owns `boxed`.
        unsafe { *sign_response = boxed };
        Ok(())
    })
}

/// # Safety
/// As for [`sk_enroll`]; `rks` and `nrks` are writable.
#[no_mangle]
pub unsafe extern "C" fn sk_load_resident_keys(
    pin: *const c_char,
    options: *mut *mut sk_option,
    rks: *mut *mut *mut sk_resident_key,
    nrks: *mut size_t,
) -> c_int {
    guarded(|| {
        if rks.is_null() || nrks.is_null() {
            return Err(SkError::General);
        }
        // SAFETY: both checked non-NULL above.
        unsafe {
            *rks = ptr::null_mut();
            *nrks = 0;
        }
        // SAFETY: the pointers come straight from OpenSSH with the documented contract.
        let (pin, options) = unsafe {
            (
                pin_arg(pin)?,
                ProviderOptions::parse(option_list(options)?, false)?,
            )
        };
        let pin = middleware::pin_from_ssh(pin)?;
        let keys = middleware::with_device(&options, |device| {
            middleware::load_resident_keys(device, pin.as_ref())
        })?;
        if keys.is_empty() {
            return Ok(());
        }
        let array = calloc_array::<sk_resident_key>(keys.len()).ok_or(SkError::General)?;
        for (i, key) in keys.iter().enumerate() {
            match to_c_resident(key) {
                // SAFETY: `array` has keys.len() zeroed slots; i is in range.
                Some(entry) => unsafe { *array.add(i) = entry },
                None => {
                    // SAFETY: slots 0..i hold entries built by to_c_resident, the rest NULL.
                    unsafe { free_resident_array(array, i) };
                    return Err(SkError::General);
                }
            }
        }
        // SAFETY: both checked non-NULL above; OpenSSH now owns the array and its entries.
        unsafe {
            *rks = array;
            *nrks = keys.len();
        }
        Ok(())
    })
}

// ---- reading OpenSSH's arguments ----

/// # Safety
/// `p` is NULL (then `len` is ignored) or points to `len` readable bytes that outlive 'a.
unsafe fn bytes<'a>(p: *const u8, len: size_t) -> &'a [u8] {
    if p.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: caller's contract.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives 'a.
unsafe fn c_str<'a>(p: *const c_char) -> Option<&'a CStr> {
    // SAFETY: caller's contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) })
}

/// A required UTF-8 string argument (the application).
///
/// # Safety
/// As [`c_str`].
unsafe fn string(p: *const c_char) -> Result<String, SkError> {
    // SAFETY: caller's contract.
    let s = unsafe { c_str(p) }.ok_or(SkError::General)?;
    s.to_str().map(str::to_string).map_err(|_| SkError::General)
}

/// The PIN, copied into a zeroizing buffer. A PIN that is not UTF-8 cannot be a CTAP PIN.
///
/// # Safety
/// As [`c_str`].
unsafe fn pin_arg(p: *const c_char) -> Result<Option<Zeroizing<String>>, SkError> {
    // SAFETY: caller's contract.
    match unsafe { c_str(p) } {
        None => Ok(None),
        Some(s) => s
            .to_str()
            .map(|s| Some(Zeroizing::new(s.to_string())))
            .map_err(|_| SkError::PinRequired),
    }
}

/// # Safety
/// `options` is NULL or a NULL-terminated array of pointers to valid `sk_option`s whose
/// strings outlive 'a.
unsafe fn option_list<'a>(
    options: *mut *mut sk_option,
) -> Result<Vec<(&'a str, &'a str, bool)>, SkError> {
    let mut parsed = Vec::new();
    if options.is_null() {
        return Ok(parsed);
    }
    for i in 0.. {
        // SAFETY: the array is NULL-terminated, so every index up to the NULL is in bounds.
        let option = unsafe { *options.add(i) };
        if option.is_null() {
            break;
        }
        // SAFETY: a valid sk_option per the caller's contract.
        let option = unsafe { &*option };
        // SAFETY: its name and value are NUL-terminated strings (or NULL).
        let (name, value) = unsafe { (c_str(option.name), c_str(option.value)) };
        let name = name.and_then(|n| n.to_str().ok()).ok_or(SkError::General)?;
        let value = value
            .map_or(Ok(""), CStr::to_str)
            .map_err(|_| SkError::General)?;
        parsed.push((name, value, option.required != 0));
    }
    Ok(parsed)
}

// ---- building results OpenSSH will free() ----

/// Copies `data` into a malloc'd buffer. Empty data gives NULL unless `always`, which
/// allocates one byte so OpenSSH's NULL checks (sig_r, sig_s, public key, key handle)
/// do not mistake an empty value for a missing one. None if malloc fails.
fn c_bytes(data: &[u8], always: bool) -> Option<(*mut u8, size_t)> {
    if data.is_empty() && !always {
        return Some((ptr::null_mut(), 0));
    }
    // SAFETY: malloc of a non-zero size; the result is checked for NULL.
    let p = unsafe { libc::malloc(data.len().max(1)) }.cast::<u8>();
    if p.is_null() {
        return None;
    }
    // SAFETY: p has room for data.len() bytes and does not overlap `data`.
    unsafe { ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
    Some((p, data.len()))
}

/// A malloc'd NUL-terminated copy of `s` (which must not contain NUL).
fn c_string(s: &str) -> Option<*mut c_char> {
    if s.as_bytes().contains(&0) {
        return None;
    }
    let (p, _) = c_bytes(&[s.as_bytes(), &[0]].concat(), true)?;
    Some(p.cast())
}

/// A calloc'd array of `n` zeroed (NULL) pointers.
fn calloc_array<T>(n: usize) -> Option<*mut *mut T> {
    // SAFETY: calloc checks n * size for overflow; the result is checked for NULL.
    let p = unsafe { libc::calloc(n, std::mem::size_of::<*mut T>()) }.cast::<*mut T>();
    (!p.is_null()).then_some(p)
}

/// Moves `value` into a calloc'd block. If calloc fails the value comes back, so the
/// caller can free the buffers it points to.
fn c_box<T>(value: T) -> Result<*mut T, T> {
    // SAFETY: calloc of one T; the result is checked for NULL.
    let p = unsafe { libc::calloc(1, std::mem::size_of::<T>()) }.cast::<T>();
    if p.is_null() {
        return Err(value);
    }
    // SAFETY: p is non-NULL, suitably aligned (malloc alignment covers these structs) and
    // sized for one T.
    unsafe { p.write(value) };
    Ok(p)
}

fn to_c_enroll(r: &EnrollResponse) -> Option<sk_enroll_response> {
    let mut c = sk_enroll_response {
        flags: r.flags,
        public_key: ptr::null_mut(),
        public_key_len: 0,
        key_handle: ptr::null_mut(),
        key_handle_len: 0,
        signature: ptr::null_mut(),
        signature_len: 0,
        attestation_cert: ptr::null_mut(),
        attestation_cert_len: 0,
        authdata: ptr::null_mut(),
        authdata_len: 0,
    };
    let filled = (|| {
        (c.public_key, c.public_key_len) = c_bytes(&r.public_key, true)?;
        (c.key_handle, c.key_handle_len) = c_bytes(&r.key_handle, true)?;
        (c.signature, c.signature_len) = c_bytes(&r.signature, false)?;
        (c.attestation_cert, c.attestation_cert_len) = c_bytes(&r.attestation_cert, false)?;
        (c.authdata, c.authdata_len) = c_bytes(&r.authdata, false)?;
        Some(())
    })();
    if filled.is_none() {
        // SAFETY: every non-NULL field was malloc'd just above and is not handed out.
        unsafe { free_enroll_fields(&c) };
        return None;
    }
    Some(c)
}

fn to_c_resident(key: &middleware::ResidentKey) -> Option<*mut sk_resident_key> {
    let enroll = to_c_enroll(&key.key)?;
    let application = c_string(&key.application);
    let user_id = c_bytes(&key.user_id, false);
    let (Some(application), Some((user_id, user_id_len))) = (application, user_id) else {
        // SAFETY: all of these were malloc'd above (or are NULL) and are not handed out.
        unsafe {
            free_enroll_fields(&enroll);
            libc::free(application.unwrap_or(ptr::null_mut()).cast());
            libc::free(user_id.map_or(ptr::null_mut(), |u| u.0).cast());
        }
        return None;
    };
    let entry = sk_resident_key {
        alg: key.algorithm.to_ssh(),
        slot: key.slot,
        application,
        key: enroll,
        flags: key.flags,
        user_id,
        user_id_len,
    };
    c_box(entry)
        .map_err(|lost| {
            // SAFETY: the entry was never handed out; its buffers were malloc'd above.
            unsafe {
                free_enroll_fields(&lost.key);
                libc::free(lost.application.cast());
                libc::free(lost.user_id.cast());
            }
        })
        .ok()
}

/// # Safety
/// Every non-NULL pointer in `c` came from malloc and is owned by nobody else.
unsafe fn free_enroll_fields(c: &sk_enroll_response) {
    // SAFETY: caller's contract; free(NULL) is a no-op.
    unsafe {
        libc::free(c.public_key.cast());
        libc::free(c.key_handle.cast());
        libc::free(c.signature.cast());
        libc::free(c.attestation_cert.cast());
        libc::free(c.authdata.cast());
    }
}

/// # Safety
/// `array` came from [`calloc_array`]; its first `filled` slots hold entries from
/// [`to_c_resident`]; nobody else owns any of it.
unsafe fn free_resident_array(array: *mut *mut sk_resident_key, filled: usize) {
    for i in 0..filled {
        // SAFETY: caller's contract.
        unsafe {
            let entry = *array.add(i);
            if !entry.is_null() {
                free_enroll_fields(&(*entry).key);
                libc::free((*entry).application.cast());
                libc::free((*entry).user_id.cast());
                libc::free(entry.cast());
            }
        }
    }
    // SAFETY: caller's contract.
    unsafe { libc::free(array.cast()) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// Offsets as a C compiler lays out sk-api.h on LP64 (x86_64, aarch64).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn layout_matches_sk_api_h() {
        assert_eq!(offset_of!(sk_enroll_response, public_key), 8);
        assert_eq!(offset_of!(sk_enroll_response, authdata_len), 80);
        assert_eq!(size_of::<sk_enroll_response>(), 88);
        assert_eq!(offset_of!(sk_sign_response, counter), 4);
        assert_eq!(offset_of!(sk_sign_response, sig_r), 8);
        assert_eq!(size_of::<sk_sign_response>(), 40);
        assert_eq!(offset_of!(sk_resident_key, slot), 8);
        assert_eq!(offset_of!(sk_resident_key, application), 16);
        assert_eq!(offset_of!(sk_resident_key, key), 24);
        assert_eq!(offset_of!(sk_resident_key, flags), 112);
        assert_eq!(offset_of!(sk_resident_key, user_id), 120);
        assert_eq!(size_of::<sk_resident_key>(), 136);
        assert_eq!(offset_of!(sk_option, required), 16);
        assert_eq!(size_of::<sk_option>(), 24);
    }

    #[test]
    fn version_is_0x000a0000() {
        assert_eq!(sk_api_version() & 0xffff_0000, 0x000a_0000);
    }

    #[test]
    fn a_null_out_pointer_is_a_general_error() {
        // SAFETY: exercising the documented NULL checks; nothing else is dereferenced.
        let r = unsafe {
            sk_enroll(
                1,
                ptr::null(),
                0,
                c"ssh:".as_ptr(),
                0,
                ptr::null(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        assert_eq!(r, errors::GENERAL);
        // SAFETY: as above.
        let r = unsafe {
            sk_load_resident_keys(
                ptr::null(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        assert_eq!(r, errors::GENERAL);
    }

    #[test]
    fn option_arrays_are_read_to_the_terminator() {
        let (name, value) = (c"user".as_ptr().cast_mut(), c"alice".as_ptr().cast_mut());
        let mut option = sk_option {
            name,
            value,
            required: 1,
        };
        let mut array = [&mut option as *mut sk_option, ptr::null_mut()];
        // SAFETY: a NULL-terminated array of one valid option with static strings.
        let parsed = unsafe { option_list(array.as_mut_ptr()) }.unwrap();
        assert_eq!(parsed, vec![("user", "alice", true)]);
        // SAFETY: NULL is allowed.
        assert!(unsafe { option_list(ptr::null_mut()) }.unwrap().is_empty());
    }

    #[test]
    fn results_round_trip_through_the_c_allocator() {
        let r = EnrollResponse {
            flags: 0x21,
            public_key: vec![1; 32],
            key_handle: vec![2; 16],
            signature: vec![],
            attestation_cert: vec![],
            authdata: vec![3; 5],
        };
        let c = to_c_enroll(&r).unwrap();
        assert!(c.signature.is_null() && c.attestation_cert.is_null());
        // SAFETY: fields just allocated with the lengths recorded beside them.
        unsafe {
            assert_eq!(
                std::slice::from_raw_parts(c.public_key, c.public_key_len),
                &[1; 32]
            );
            assert_eq!(
                std::slice::from_raw_parts(c.authdata, c.authdata_len),
                &[3; 5]
            );
            free_enroll_fields(&c);
        }
        let key = middleware::ResidentKey {
            algorithm: Algorithm::Ed25519,
            slot: 0,
            application: "ssh:root".into(),
            key: r,
            flags: 0x04,
            user_id: vec![0; 32],
        };
        let array = calloc_array::<sk_resident_key>(1).unwrap();
        let entry = to_c_resident(&key).unwrap();
        // SAFETY: one slot, filled with an entry from to_c_resident; freed with its helper.
        unsafe {
            *array = entry;
            assert_eq!(
                CStr::from_ptr((*entry).application).to_str().unwrap(),
                "ssh:root"
            );
            assert_eq!(
                ((*entry).alg, (*entry).flags, (*entry).user_id_len),
                (1, 0x04, 32)
            );
            free_resident_array(array, 1);
        }
        assert!(c_string("nul\0inside").is_none());
    }
}
