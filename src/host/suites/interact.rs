//! `OfxInteractSuiteV1`: an overlay's property set, and its requests to redraw.

use std::ffi::c_void;
use std::sync::atomic::Ordering;

use super::{bad_handle, put, status};
use crate::ffi::{OfxInteractHandle, OfxInteractSuiteV1, OfxPropertySetHandle, OfxStatus};
use crate::host::handles::{self, Object};
use crate::host::overlay::InteractObj;
use std::sync::Arc;

static SUITE: OfxInteractSuiteV1 = OfxInteractSuiteV1 {
    interactSwapBuffers: Some(swap_buffers),
    interactRedraw: Some(redraw),
    interactGetPropertySet: Some(get_property_set),
};

pub fn suite() -> *const c_void {
    &SUITE as *const OfxInteractSuiteV1 as *const c_void
}

fn interact_of(call: &str, h: OfxInteractHandle) -> Result<Arc<InteractObj>, OfxStatus> {
    match handles::lookup(h) {
        Some(Object::Interact(i)) => Ok(i),
        _ => Err(bad_handle(call, h, "interact")),
    }
}

unsafe extern "C" fn swap_buffers(h: OfxInteractHandle) -> OfxStatus {
    status(|| {
        interact_of("interactSwapBuffers", h)?
            .swaps
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    })
}

unsafe extern "C" fn redraw(h: OfxInteractHandle) -> OfxStatus {
    status(|| {
        interact_of("interactRedraw", h)?
            .redraws
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    })
}

unsafe extern "C" fn get_property_set(
    h: OfxInteractHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let interact = interact_of("interactGetPropertySet", h)?;
        put(
            &interact.effect.journal,
            "interactGetPropertySet",
            out,
            interact.props_handle,
        )
    })
}
