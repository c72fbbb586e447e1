//! Messages to the artist through the host's message suites, mirrored to the log.

use super::{c, host_suites};
use crate::ffi;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageLevel {
    Error,
    Warning,
    Message,
}

impl MessageLevel {
    fn ofx(self) -> &'static [u8] {
        match self {
            MessageLevel::Error => ffi::kOfxMessageError,
            MessageLevel::Warning => ffi::kOfxMessageWarning,
            MessageLevel::Message => ffi::kOfxMessageMessage,
        }
    }
    fn log(self, text: &str) {
        match self {
            MessageLevel::Error => log::error!("{text}"),
            MessageLevel::Warning => log::warn!("{text}"),
            MessageLevel::Message => log::info!("{text}"),
        }
    }
}

const FORMAT: &[u8] = b"%s\0";
const MESSAGE_ID: &[u8] = b"org.collapseofx.Collapse\0";

fn text(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("NUL bytes were replaced")
}

/// The printf-style signature shared by `message` (v1, v2) and `setPersistentMessage` (v2).
type MessageFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_char,
    *const c_char,
    *const c_char,
    ...
) -> ffi::OfxStatus;

fn send(f: MessageFn, handle: *mut c_void, level: MessageLevel, message: &str) {
    level.log(message);
    let msg = text(message);
    // SAFETY: a handle, two C strings, a printf format and its one string argument.
    unsafe {
        f(
            handle,
            c(level.ofx()).as_ptr(),
            c(MESSAGE_ID).as_ptr(),
            c(FORMAT).as_ptr(),
            msg.as_ptr(),
        )
    };
}

/// Shows a one-off message (host message suite v1) and logs it. `handle` is the
/// instance or descriptor handle, or null for a message not tied to one.
pub(crate) fn post_message(handle: *mut c_void, level: MessageLevel, message: &str) {
    match host_suites()
        .ok()
        .and_then(|s| s.message)
        .and_then(|m| m.message)
    {
        Some(f) => send(f, handle, level, message),
        None => level.log(message),
    }
}

/// Shows a message that stays on the node until cleared (message suite v2),
/// falling back to a one-off message on hosts without v2.
pub(crate) fn set_persistent_message(handle: *mut c_void, level: MessageLevel, message: &str) {
    match host_suites()
        .ok()
        .and_then(|s| s.message_v2)
        .and_then(|m| m.setPersistentMessage)
    {
        Some(f) => send(f, handle, level, message),
        None => post_message(handle, level, message),
    }
}

/// Clears the node's persistent message, if the host has message suite v2.
pub(crate) fn clear_persistent_message(handle: *mut c_void) {
    if let Some(f) = host_suites()
        .ok()
        .and_then(|s| s.message_v2)
        .and_then(|m| m.clearPersistentMessage)
    {
        // SAFETY: an instance handle given to us by the host.
        unsafe { f(handle) };
    }
}
