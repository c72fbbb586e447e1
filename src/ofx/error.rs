//! OpenFX status codes and the plugin's error type.

use crate::ffi;
use std::fmt;

/// An `OfxStatus` value.
pub type Status = ffi::OfxStatus;

/// A failed host call or action: the status to return and a sentence for the artist.
#[derive(Debug, Clone)]
pub struct OfxError {
    pub status: Status,
    pub message: String,
}

pub type OfxResult<T> = Result<T, OfxError>;

const ABORTED: &str = "render aborted by the host";

impl OfxError {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        OfxError {
            status,
            message: message.into(),
        }
    }
    /// A render or action that could not be done (kOfxStatFailed).
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ffi::kOfxStatFailed, message)
    }
    /// The host asked the render to stop: a failed render, but nothing to tell the artist.
    pub fn aborted() -> Self {
        Self::new(ffi::kOfxStatFailed, ABORTED)
    }
    pub fn is_abort(&self) -> bool {
        self.message == ABORTED
    }
    /// A host call returned `status`.
    pub fn host_call(what: &str, status: Status) -> Self {
        Self::new(
            status,
            format!("host call {what} returned {}", status_name(status)),
        )
    }
}

impl fmt::Display for OfxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, status_name(self.status))
    }
}

impl std::error::Error for OfxError {}

/// The symbolic name of a status, for messages and logs.
pub fn status_name(status: Status) -> &'static str {
    match status {
        ffi::kOfxStatOK => "kOfxStatOK",
        ffi::kOfxStatFailed => "kOfxStatFailed",
        ffi::kOfxStatErrFatal => "kOfxStatErrFatal",
        ffi::kOfxStatErrUnknown => "kOfxStatErrUnknown",
        ffi::kOfxStatErrMissingHostFeature => "kOfxStatErrMissingHostFeature",
        ffi::kOfxStatErrUnsupported => "kOfxStatErrUnsupported",
        ffi::kOfxStatErrExists => "kOfxStatErrExists",
        ffi::kOfxStatErrFormat => "kOfxStatErrFormat",
        ffi::kOfxStatErrMemory => "kOfxStatErrMemory",
        ffi::kOfxStatErrBadHandle => "kOfxStatErrBadHandle",
        ffi::kOfxStatErrBadIndex => "kOfxStatErrBadIndex",
        ffi::kOfxStatErrValue => "kOfxStatErrValue",
        ffi::kOfxStatReplyYes => "kOfxStatReplyYes",
        ffi::kOfxStatReplyNo => "kOfxStatReplyNo",
        ffi::kOfxStatReplyDefault => "kOfxStatReplyDefault",
        _ => "unknown status",
    }
}

/// Turns a host call's status into a `Result`.
pub(crate) fn check(what: &str, status: Status) -> OfxResult<()> {
    if status == ffi::kOfxStatOK {
        Ok(())
    } else {
        Err(OfxError::host_call(what, status))
    }
}
