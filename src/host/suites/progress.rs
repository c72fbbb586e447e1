//! `OfxProgressSuiteV1` / `V2`: recorded in the instance's journal.

use std::ffi::{c_char, c_void};
use std::sync::atomic::Ordering;

use super::{effect_of, status};
use crate::ffi::{OfxProgressSuiteV1, OfxProgressSuiteV2, OfxStatus};
use crate::host::journal::ProgressEvent;
use crate::host::status as st;
use crate::host::strings;

static SUITE_V1: OfxProgressSuiteV1 = OfxProgressSuiteV1 {
    progressStart: Some(start_v1),
    progressUpdate: Some(update),
    progressEnd: Some(end),
};

static SUITE_V2: OfxProgressSuiteV2 = OfxProgressSuiteV2 {
    progressStart: Some(start_v2),
    progressUpdate: Some(update),
    progressEnd: Some(end),
};

pub fn suite_v1() -> *const c_void {
    &SUITE_V1 as *const OfxProgressSuiteV1 as *const c_void
}

pub fn suite_v2() -> *const c_void {
    &SUITE_V2 as *const OfxProgressSuiteV2 as *const c_void
}

unsafe extern "C" fn start_v1(h: *mut c_void, label: *const c_char) -> OfxStatus {
    start_v2(h, label, std::ptr::null())
}

unsafe extern "C" fn start_v2(
    h: *mut c_void,
    label: *const c_char,
    id: *const c_char,
) -> OfxStatus {
    status(|| {
        let effect = effect_of("progressStart", h)?;
        let label = super::text(&effect.journal, "progressStart", label, "label")?.to_owned();
        let id = strings::from_c(id).map(str::to_owned);
        effect.journal.progress(ProgressEvent::Start { label, id });
        Ok(())
    })
}

unsafe extern "C" fn update(h: *mut c_void, progress: f64) -> OfxStatus {
    status(|| {
        let effect = effect_of("progressUpdate", h)?;
        effect.journal.progress(ProgressEvent::Update(progress));
        if effect.abort.load(Ordering::Relaxed) {
            Err(st::REPLY_NO)
        } else {
            Ok(())
        }
    })
}

unsafe extern "C" fn end(h: *mut c_void) -> OfxStatus {
    status(|| {
        let effect = effect_of("progressEnd", h)?;
        effect.journal.progress(ProgressEvent::End);
        Ok(())
    })
}
