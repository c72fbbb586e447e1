//! OFX status codes. The headers define most of them as casts (`((int)1)`),
//! which bindgen does not turn into constants, so they are spelled out here;
//! the values are part of the ABI.

/// An `OfxStatus` value.
pub type Status = crate::ffi::OfxStatus;

pub const OK: Status = 0;
pub const FAILED: Status = 1;
pub const ERR_FATAL: Status = 2;
pub const ERR_UNKNOWN: Status = 3;
pub const ERR_MISSING_HOST_FEATURE: Status = 4;
pub const ERR_UNSUPPORTED: Status = 5;
pub const ERR_EXISTS: Status = 6;
pub const ERR_FORMAT: Status = 7;
pub const ERR_MEMORY: Status = 8;
pub const ERR_BAD_HANDLE: Status = 9;
pub const ERR_BAD_INDEX: Status = 10;
pub const ERR_VALUE: Status = 11;
pub const REPLY_YES: Status = 12;
pub const REPLY_NO: Status = 13;
pub const REPLY_DEFAULT: Status = 14;
pub const ERR_IMAGE_FORMAT: Status = 1000;

/// The `kOfxStat...` name of a status, or `None` for a value OFX does not define.
pub fn status_name(status: Status) -> Option<&'static str> {
    Some(match status {
        OK => "kOfxStatOK",
        FAILED => "kOfxStatFailed",
        ERR_FATAL => "kOfxStatErrFatal",
        ERR_UNKNOWN => "kOfxStatErrUnknown",
        ERR_MISSING_HOST_FEATURE => "kOfxStatErrMissingHostFeature",
        ERR_UNSUPPORTED => "kOfxStatErrUnsupported",
        ERR_EXISTS => "kOfxStatErrExists",
        ERR_FORMAT => "kOfxStatErrFormat",
        ERR_MEMORY => "kOfxStatErrMemory",
        ERR_BAD_HANDLE => "kOfxStatErrBadHandle",
        ERR_BAD_INDEX => "kOfxStatErrBadIndex",
        ERR_VALUE => "kOfxStatErrValue",
        REPLY_YES => "kOfxStatReplyYes",
        REPLY_NO => "kOfxStatReplyNo",
        REPLY_DEFAULT => "kOfxStatReplyDefault",
        ERR_IMAGE_FORMAT => "kOfxStatErrImageFormat",
        _ => return None,
    })
}

/// `status_name`, or the number for an undefined value.
pub fn describe(status: Status) -> String {
    status_name(status).map_or_else(|| format!("undefined status {status}"), str::to_owned)
}
