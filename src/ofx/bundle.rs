//! Where the plugin's bundle is: the folder of the loaded binary
//! (`<Name>.ofx.bundle/Contents/Linux-x86-64`) and its `Contents/Resources`.

use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The folder holding the binary this code was loaded from.
pub fn binary_dir() -> Option<PathBuf> {
    // SAFETY: Dl_info is plain data; all-zero is a valid value before dladdr fills it.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let probe = binary_dir as *const libc::c_void;
    // SAFETY: dladdr only reads the loader's tables for an address inside this object.
    if unsafe { libc::dladdr(probe, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let file = unsafe { CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(OsStr::from_bytes(file.to_bytes()));
    let path = path.canonicalize().unwrap_or(path);
    path.parent().map(Path::to_path_buf)
}

/// The bundle's `Contents/Resources` folder (default model, icons).
pub fn resources_dir() -> Option<PathBuf> {
    binary_dir().and_then(|d| d.parent().map(|contents| contents.join("Resources")))
}
