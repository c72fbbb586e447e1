//! `OfxTimeLineSuiteV1`: a timeline over the project's frame range whose
//! current time the plugin may move.

use std::ffi::c_void;

use super::{effect_of, put, status};
use crate::ffi::{OfxStatus, OfxTimeLineSuiteV1};

static SUITE: OfxTimeLineSuiteV1 = OfxTimeLineSuiteV1 {
    getTime: Some(get_time),
    gotoTime: Some(goto_time),
    getTimeBounds: Some(get_time_bounds),
};

pub fn suite() -> *const c_void {
    &SUITE as *const OfxTimeLineSuiteV1 as *const c_void
}

unsafe extern "C" fn get_time(h: *mut c_void, out: *mut f64) -> OfxStatus {
    status(|| {
        let effect = effect_of("getTime", h)?;
        let now = *effect.time.lock().unwrap_or_else(|e| e.into_inner());
        put(&effect.journal, "getTime", out, now)
    })
}

unsafe extern "C" fn goto_time(h: *mut c_void, time: f64) -> OfxStatus {
    status(|| {
        let effect = effect_of("gotoTime", h)?;
        *effect.time.lock().unwrap_or_else(|e| e.into_inner()) = time;
        Ok(())
    })
}

unsafe extern "C" fn get_time_bounds(h: *mut c_void, first: *mut f64, last: *mut f64) -> OfxStatus {
    status(|| {
        let effect = effect_of("getTimeBounds", h)?;
        let (a, b) = effect.config.project.frame_range;
        put(&effect.journal, "getTimeBounds", first, a)?;
        put(&effect.journal, "getTimeBounds", last, b)
    })
}
