//! The suites the host hands out through `OfxHost::fetchSuite`, and what their
//! `extern "C"` entry points share: panic containment, handle checks, output
//! pointer checks.

pub mod draw;
pub mod effect;
pub mod interact;
pub mod memory;
pub mod message;
pub mod param;
pub mod progress;
pub mod property;
pub mod thread;
pub mod timeline;

use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::clips::Clip;
use super::config::HostConfig;
use super::effect::Effect;
use super::handles::{self, Object};
use super::journal::{self, Journal};
use super::params::Param;
use super::properties::{PropertySet, Value};
use super::specs::HOST;
use super::status::{self, Status};
use super::strings::{self, name};
use crate::ffi::{self as f, OfxHost, OfxPropertySetHandle};

/// The host descriptor behind `OfxHost::host`.
pub struct HostRecord {
    pub props: Arc<PropertySet>,
    pub config: Arc<HostConfig>,
    pub journal: Arc<Journal>,
}

impl HostRecord {
    pub fn new(config: &Arc<HostConfig>, journal: &Arc<Journal>) -> Arc<HostRecord> {
        let props = PropertySet::from_specs("host descriptor", journal, &[HOST]);
        let c = config;
        let flag = |key: &'static [u8], v: bool| props.set_int(name(key), v as i32);
        props.set_str(name(f::kOfxPropName), &c.name);
        props.set_str(name(f::kOfxPropLabel), &c.label);
        props.set(name(f::kOfxPropVersion), Value::Int(c.version.to_vec()));
        props.set_str(
            name(f::kOfxPropVersionLabel),
            &format!("{}.{}.{}", c.version[0], c.version[1], c.version[2]),
        );
        flag(f::kOfxImageEffectHostPropIsBackground, c.is_background);
        flag(f::kOfxImageEffectPropSupportsOverlays, !c.is_background);
        flag(
            f::kOfxImageEffectPropSupportsMultiResolution,
            c.supports_multi_resolution,
        );
        flag(f::kOfxImageEffectPropSupportsTiles, c.supports_tiles);
        flag(
            f::kOfxImageEffectPropTemporalClipAccess,
            c.temporal_clip_access,
        );
        flag(
            f::kOfxImageEffectPropSupportsMultipleClipDepths,
            c.multiple_clip_depths,
        );
        flag(
            f::kOfxImageEffectPropSupportsMultipleClipPARs,
            c.multiple_clip_pars,
        );
        flag(
            f::kOfxParamHostPropSupportsStringAnimation,
            c.string_animation,
        );
        let names = |v: Vec<&str>| Value::strings(&v);
        props.set(
            name(f::kOfxImageEffectPropSupportedContexts),
            names(c.contexts.iter().map(|x| x.ofx_name()).collect()),
        );
        props.set(
            name(f::kOfxImageEffectPropSupportedPixelDepths),
            names(c.depths.iter().map(|x| x.ofx_name()).collect()),
        );
        props.set(
            name(f::kOfxImageEffectPropSupportedComponents),
            names(c.components.iter().map(|x| x.ofx_name()).collect()),
        );
        props.set_int(name(f::kOfxParamHostPropMaxParameters), c.max_parameters);
        props.set_int(name(f::kOfxParamHostPropMaxPages), c.max_pages);
        Arc::new(HostRecord {
            props,
            config: config.clone(),
            journal: journal.clone(),
        })
    }

    /// The `OfxHost` struct to give to `setHost`, whose `host` is `handle`.
    pub fn ofx_host(handle: OfxPropertySetHandle) -> OfxHost {
        OfxHost {
            host: handle,
            fetchSuite: Some(fetch_suite),
        }
    }
}

unsafe extern "C" fn fetch_suite(
    host: OfxPropertySetHandle,
    suite: *const c_char,
    version: c_int,
) -> *const c_void {
    guard(std::ptr::null(), || {
        let Some(Object::Host(record)) = handles::lookup(host) else {
            current_journal().violation(format!(
                "fetchSuite with {host:p}, which is not the host handle"
            ));
            return std::ptr::null();
        };
        let Some(suite) = (unsafe { strings::from_c(suite) }) else {
            record
                .journal
                .violation("fetchSuite with a NULL or non-UTF-8 suite name");
            return std::ptr::null();
        };
        let c = &record.config;
        let offered: Option<*const c_void> = match (suite, version) {
            (s, 1) if s == name(f::kOfxPropertySuite) => Some(property::suite()),
            (s, 1) if s == name(f::kOfxImageEffectSuite) => Some(effect::suite()),
            (s, 1) if s == name(f::kOfxParameterSuite) => Some(param::suite()),
            (s, 1) if s == name(f::kOfxMemorySuite) => Some(memory::suite()),
            (s, 1) if s == name(f::kOfxMultiThreadSuite) && c.offer_multithread => {
                Some(thread::suite())
            }
            (s, 1) if s == name(f::kOfxMessageSuite) => Some(message::suite_v1()),
            (s, 2) if s == name(f::kOfxMessageSuite) && c.offer_message_v2 => {
                Some(message::suite_v2())
            }
            (s, 1) if s == name(f::kOfxProgressSuite) && c.offer_progress => {
                Some(progress::suite_v1())
            }
            (s, 2) if s == name(f::kOfxProgressSuite) && c.offer_progress => {
                Some(progress::suite_v2())
            }
            (s, 1) if s == name(f::kOfxTimeLineSuite) && c.offer_timeline => {
                Some(timeline::suite())
            }
            (s, 1) if s == name(f::kOfxInteractSuite) && !c.is_background => {
                Some(interact::suite())
            }
            (s, 1) if s == name(f::kOfxDrawSuite) && c.offer_draw_suite => Some(draw::suite()),
            _ => None,
        };
        log::debug!(
            "fetchSuite({suite}, {version}) -> {}",
            if offered.is_some() { "offered" } else { "NULL" }
        );
        offered.unwrap_or(std::ptr::null())
    })
}

/// Runs a suite body, turning a host panic into `fallback` (and a recorded
/// host bug) instead of unwinding into C.
pub fn guard<R>(fallback: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        current_journal().violation("the host panicked inside a suite call (host bug)");
        fallback
    })
}

/// `guard` for bodies returning `Result<(), Status>`.
pub fn status(body: impl FnOnce() -> Result<(), Status>) -> Status {
    guard(status::ERR_UNKNOWN, || match body() {
        Ok(()) => status::OK,
        Err(s) => s,
    })
}

/// The journal of the effect whose action runs on this thread, for calls
/// whose handle says nothing (NULL, dead or foreign); the stray journal when
/// no action runs.
pub fn current_journal() -> Arc<Journal> {
    super::actions::current()
        .and_then(
            |frame| match handles::lookup(frame.effect as *const c_void) {
                Some(Object::Effect(e)) => Some(e.journal.clone()),
                _ => None,
            },
        )
        .unwrap_or_else(|| journal::stray().clone())
}

/// The journal a wrong handle is best reported to.
fn journal_of(object: &Object) -> Arc<Journal> {
    match object {
        Object::Props(p) => p.journal().clone(),
        Object::Host(h) => h.journal.clone(),
        Object::Effect(e) | Object::ParamSet(e) | Object::Param(e, _) | Object::Clip(e, _) => {
            e.journal.clone()
        }
        Object::Image(i) => i.props.journal().clone(),
        Object::Interact(i) => i.effect.journal.clone(),
        Object::DrawContext(d) => d.journal.clone(),
        Object::Memory(_) | Object::Mutex(_) => current_journal(),
    }
}

/// Reports a handle of the wrong kind (or a dead one) for `call`.
fn bad_handle<T>(call: &str, handle: *const T, wanted: &str) -> Status {
    let text = format!("{call}: {handle:p} is not a live {wanted} handle");
    match handles::lookup(handle) {
        Some(other) => journal_of(&other).violation(text),
        None => current_journal().violation(text),
    }
    status::ERR_BAD_HANDLE
}

pub fn props_of(call: &str, handle: OfxPropertySetHandle) -> Result<Arc<PropertySet>, Status> {
    handles::lookup(handle)
        .and_then(|o| o.property_set())
        .ok_or_else(|| bad_handle(call, handle, "property set"))
}

pub fn effect_of<T>(call: &str, handle: *const T) -> Result<Arc<Effect>, Status> {
    match handles::lookup(handle) {
        Some(Object::Effect(e)) => Ok(e),
        _ => Err(bad_handle(call, handle, "image effect")),
    }
}

pub fn clip_of<T>(call: &str, handle: *const T) -> Result<(Arc<Effect>, Arc<Clip>), Status> {
    match handles::lookup(handle) {
        Some(Object::Clip(e, c)) => Ok((e, c)),
        _ => Err(bad_handle(call, handle, "clip")),
    }
}

pub fn param_of<T>(call: &str, handle: *const T) -> Result<(Arc<Effect>, Arc<Param>), Status> {
    match handles::lookup(handle) {
        Some(Object::Param(e, p)) => Ok((e, p)),
        _ => Err(bad_handle(call, handle, "parameter")),
    }
}

pub fn param_set_of<T>(call: &str, handle: *const T) -> Result<Arc<Effect>, Status> {
    match handles::lookup(handle) {
        Some(Object::ParamSet(e)) => Ok(e),
        _ => Err(bad_handle(call, handle, "parameter set")),
    }
}

/// Writes through a plugin-supplied output pointer; NULL is a violation.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
pub unsafe fn put<T>(journal: &Journal, call: &str, out: *mut T, value: T) -> Result<(), Status> {
    if out.is_null() {
        journal.violation(format!("{call}: NULL return pointer"));
        return Err(status::ERR_BAD_HANDLE);
    }
    out.write(value);
    Ok(())
}

/// Reads a plugin-supplied string argument; NULL or bad UTF-8 is a violation.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
pub unsafe fn text<'a>(
    journal: &Journal,
    call: &str,
    ptr: *const c_char,
    what: &str,
) -> Result<&'a str, Status> {
    strings::arg(ptr, what).map_err(|why| {
        journal.violation(format!("{call}: {why}"));
        status::ERR_BAD_HANDLE
    })
}

/// The Rust side of the C shims in `variadic.c`.
#[repr(C)]
struct ShimCallbacks {
    param_shape: unsafe extern "C" fn(f::OfxParamHandle, *mut c_int, *mut c_int) -> Status,
    param_read:
        unsafe extern "C" fn(f::OfxParamHandle, c_int, f64, f64, *mut *mut c_void, c_int) -> Status,
    param_write: unsafe extern "C" fn(
        f::OfxParamHandle,
        c_int,
        f64,
        *const c_int,
        *const f64,
        *const c_char,
    ) -> Status,
    message: unsafe extern "C" fn(
        *mut c_void,
        *const c_char,
        *const c_char,
        *const c_char,
        c_int,
    ) -> Status,
}

static SHIM_CALLBACKS: ShimCallbacks = ShimCallbacks {
    param_shape: param::param_shape,
    param_read: param::param_read,
    param_write: param::param_write,
    message: message::message,
};

unsafe extern "C" {
    fn collapse_host_set_callbacks(callbacks: *const ShimCallbacks);
}

/// Registers the shims' callbacks; done before any plugin can call a suite.
pub fn install_shims() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: the table is a static with the layout `variadic.c` declares.
    ONCE.call_once(|| unsafe { collapse_host_set_callbacks(&SHIM_CALLBACKS) });
}
