//! Conversions between bindgen's NUL-terminated byte-string constants, Rust
//! strings and the C strings plugins hand us.

use std::ffi::{c_char, CStr};

/// A bindgen string constant (`b"OfxPropName\0"`) as `&str`, usable in consts.
pub const fn name(bytes: &'static [u8]) -> &'static str {
    let Some((&0, body)) = bytes.split_last() else {
        panic!("OFX string constant without its NUL terminator")
    };
    match std::str::from_utf8(body) {
        Ok(s) => s,
        Err(_) => panic!("OFX string constant is not UTF-8"),
    }
}

/// A bindgen string constant as a C string pointer.
pub fn c_ptr(bytes: &'static [u8]) -> *const c_char {
    debug_assert_eq!(bytes.last(), Some(&0));
    bytes.as_ptr().cast()
}

/// Reads a plugin-supplied C string; `None` for NULL or invalid UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string alive for `'a`.
pub unsafe fn from_c<'a>(ptr: *const c_char) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    CStr::from_ptr(ptr).to_str().ok()
}

/// Like [`from_c`] but describes what went wrong, for violation messages.
///
/// # Safety
/// As for [`from_c`].
pub unsafe fn arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, String> {
    if ptr.is_null() {
        return Err(format!("{what} is NULL"));
    }
    CStr::from_ptr(ptr)
        .to_str()
        .map_err(|_| format!("{what} is not valid UTF-8"))
}
