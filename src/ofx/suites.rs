//! The host's function suites, fetched once when the host hands itself over.

use super::{c, OfxError, OfxResult};
use crate::ffi;
use std::os::raw::c_void;
use std::sync::RwLock;

/// Suite tables the plugin uses. The mandatory ones are references; the ones a
/// host may lack are `Option`s, and the plugin degrades gracefully without them.
#[derive(Clone, Copy)]
pub struct HostSuites {
    pub host: *mut ffi::OfxHost,
    pub property: &'static ffi::OfxPropertySuiteV1,
    pub param: &'static ffi::OfxParameterSuiteV1,
    pub effect: &'static ffi::OfxImageEffectSuiteV1,
    pub message: Option<&'static ffi::OfxMessageSuiteV1>,
    pub message_v2: Option<&'static ffi::OfxMessageSuiteV2>,
    pub progress: Option<&'static ffi::OfxProgressSuiteV1>,
    /// Overlays: the interact's property set and redraw requests.
    pub interact: Option<&'static ffi::OfxInteractSuiteV1>,
    /// OpenFX 1.5 drawing without OpenGL.
    pub draw: Option<&'static ffi::OfxDrawSuiteV1>,
}

// SAFETY: the tables are immutable function-pointer structs owned by the host
// for the plugin's whole life; OpenFX allows calling them from any thread.
unsafe impl Send for HostSuites {}
unsafe impl Sync for HostSuites {}

static SUITES: RwLock<Option<HostSuites>> = RwLock::new(None);

/// Called from `setHost`: remembers the host. Suites are fetched on `kOfxActionLoad`.
pub(crate) fn remember_host(host: *mut ffi::OfxHost) {
    let mut guard = SUITES.write().unwrap_or_else(|e| e.into_inner());
    *guard = None;
    HOST.write().unwrap_or_else(|e| e.into_inner()).0 = host;
}

struct HostPtr(*mut ffi::OfxHost);
unsafe impl Send for HostPtr {}
unsafe impl Sync for HostPtr {}
static HOST: RwLock<HostPtr> = RwLock::new(HostPtr(std::ptr::null_mut()));

/// Fetches every suite from the host given to `setHost`. Fails when a mandatory one is missing.
pub(crate) fn fetch_suites() -> OfxResult<HostSuites> {
    let host = HOST.read().unwrap_or_else(|e| e.into_inner()).0;
    if host.is_null() {
        return Err(OfxError::new(
            ffi::kOfxStatErrMissingHostFeature,
            "the host never called setHost",
        ));
    }
    // SAFETY: the host pointer stays valid between setHost and unload (OpenFX contract).
    let fetch = unsafe { (*host).fetchSuite }.ok_or_else(|| {
        OfxError::new(
            ffi::kOfxStatErrMissingHostFeature,
            "the host has no fetchSuite",
        )
    })?;
    let host_props = unsafe { (*host).host };
    let get = |name: &'static [u8], version: i32| -> *const c_void {
        // SAFETY: fetchSuite takes the host's own property set and a C string.
        unsafe { fetch(host_props, c(name).as_ptr(), version) }
    };
    let required = |name: &'static [u8], version: i32| -> OfxResult<*const c_void> {
        let p = get(name, version);
        if p.is_null() {
            Err(OfxError::new(
                ffi::kOfxStatErrMissingHostFeature,
                format!(
                    "the host lacks the required suite {} v{version}",
                    c(name).to_string_lossy()
                ),
            ))
        } else {
            Ok(p)
        }
    };
    // SAFETY: a non-null suite pointer points at the documented table, alive until unload.
    let suites = unsafe {
        HostSuites {
            host,
            property: &*(required(ffi::kOfxPropertySuite, 1)? as *const ffi::OfxPropertySuiteV1),
            param: &*(required(ffi::kOfxParameterSuite, 1)? as *const ffi::OfxParameterSuiteV1),
            effect: &*(required(ffi::kOfxImageEffectSuite, 1)?
                as *const ffi::OfxImageEffectSuiteV1),
            message: (get(ffi::kOfxMessageSuite, 1) as *const ffi::OfxMessageSuiteV1).as_ref(),
            message_v2: (get(ffi::kOfxMessageSuite, 2) as *const ffi::OfxMessageSuiteV2).as_ref(),
            progress: (get(ffi::kOfxProgressSuite, 1) as *const ffi::OfxProgressSuiteV1).as_ref(),
            interact: (get(ffi::kOfxInteractSuite, 1) as *const ffi::OfxInteractSuiteV1).as_ref(),
            draw: (get(ffi::kOfxDrawSuite, 1) as *const ffi::OfxDrawSuiteV1).as_ref(),
        }
    };
    *SUITES.write().unwrap_or_else(|e| e.into_inner()) = Some(suites);
    Ok(suites)
}

/// Forgets the suites on unload.
pub(crate) fn forget_suites() {
    *SUITES.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The suites fetched at load time.
pub fn host_suites() -> OfxResult<HostSuites> {
    SUITES
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .ok_or_else(|| {
            OfxError::new(
                ffi::kOfxStatErrMissingHostFeature,
                "action before kOfxActionLoad",
            )
        })
}
