//! `OfxImageEffectSuiteV1`.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{clip_of, effect_of, guard, put, status, text};
use crate::ffi::{
    self as f, OfxImageClipHandle, OfxImageEffectHandle, OfxImageEffectSuiteV1, OfxParamSetHandle,
    OfxPropertySetHandle, OfxRectD, OfxStatus, OfxTime,
};
use crate::host::effect::Stage;
use crate::host::handles::{self, Object};
use crate::host::status as st;
use crate::host::strings::name;
use crate::host::{actions, queries, render};

use super::memory::{
    image_memory_alloc, image_memory_free, image_memory_lock, image_memory_unlock,
};

static SUITE: OfxImageEffectSuiteV1 = OfxImageEffectSuiteV1 {
    getPropertySet: Some(get_property_set),
    getParamSet: Some(get_param_set),
    clipDefine: Some(clip_define),
    clipGetHandle: Some(clip_get_handle),
    clipGetPropertySet: Some(clip_get_property_set),
    clipGetImage: Some(clip_get_image),
    clipReleaseImage: Some(clip_release_image),
    clipGetRegionOfDefinition: Some(clip_get_region_of_definition),
    abort: Some(abort),
    imageMemoryAlloc: Some(image_memory_alloc),
    imageMemoryFree: Some(image_memory_free),
    imageMemoryLock: Some(image_memory_lock),
    imageMemoryUnlock: Some(image_memory_unlock),
};

pub fn suite() -> *const c_void {
    &SUITE as *const OfxImageEffectSuiteV1 as *const c_void
}

unsafe extern "C" fn get_property_set(
    h: OfxImageEffectHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let effect = effect_of("getPropertySet", h)?;
        put(
            &effect.journal,
            "getPropertySet",
            out,
            Arc::as_ptr(&effect.props) as OfxPropertySetHandle,
        )
    })
}

unsafe extern "C" fn get_param_set(
    h: OfxImageEffectHandle,
    out: *mut OfxParamSetHandle,
) -> OfxStatus {
    status(|| {
        let effect = effect_of("getParamSet", h)?;
        put(
            &effect.journal,
            "getParamSet",
            out,
            Arc::as_ptr(&effect.params) as OfxParamSetHandle,
        )
    })
}

unsafe extern "C" fn clip_define(
    h: OfxImageEffectHandle,
    clip: *const c_char,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let call = "clipDefine";
        let effect = effect_of(call, h)?;
        let clip_name = text(&effect.journal, call, clip, "clip name")?;
        if !matches!(effect.stage, Stage::InContext(_)) {
            effect
                .journal
                .violation(format!("{call}(\"{clip_name}\") outside describeInContext"));
            return Err(st::ERR_BAD_HANDLE);
        }
        let clip = match effect.clip(clip_name) {
            Some(existing) => {
                effect
                    .journal
                    .violation(format!("{call}(\"{clip_name}\"): clip defined twice"));
                existing
            }
            None => effect.define_clip(clip_name),
        };
        if out.is_null() {
            return Ok(());
        }
        put(
            &effect.journal,
            call,
            out,
            Arc::as_ptr(&clip.props) as OfxPropertySetHandle,
        )
    })
}

unsafe extern "C" fn clip_get_handle(
    h: OfxImageEffectHandle,
    clip: *const c_char,
    out: *mut OfxImageClipHandle,
    props: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let call = "clipGetHandle";
        let effect = effect_of(call, h)?;
        let clip_name = text(&effect.journal, call, clip, "clip name")?;
        if !effect.is_instance() {
            effect
                .journal
                .violation(format!("{call}(\"{clip_name}\") on a descriptor"));
            return Err(st::ERR_BAD_HANDLE);
        }
        let Some(clip) = effect.clip(clip_name) else {
            effect.journal.violation(format!(
                "{call}(\"{clip_name}\"): no such clip in this context"
            ));
            return Err(st::ERR_UNKNOWN);
        };
        put(
            &effect.journal,
            call,
            out,
            Arc::as_ptr(&clip) as OfxImageClipHandle,
        )?;
        if !props.is_null() {
            props.write(Arc::as_ptr(&clip.props) as OfxPropertySetHandle);
        }
        Ok(())
    })
}

unsafe extern "C" fn clip_get_property_set(
    h: OfxImageClipHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let (effect, clip) = clip_of("clipGetPropertySet", h)?;
        put(
            &effect.journal,
            "clipGetPropertySet",
            out,
            Arc::as_ptr(&clip.props) as OfxPropertySetHandle,
        )
    })
}

unsafe extern "C" fn clip_get_image(
    h: OfxImageClipHandle,
    time: OfxTime,
    region: *const OfxRectD,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let call = "clipGetImage";
        let (effect, clip) = clip_of(call, h)?;
        if out.is_null() {
            effect
                .journal
                .violation(format!("{call}: NULL return pointer"));
            return Err(st::ERR_BAD_HANDLE);
        }
        out.write(std::ptr::null_mut());
        if !effect.is_instance() {
            effect
                .journal
                .violation(format!("{call} on a clip descriptor"));
            return Err(st::ERR_BAD_HANDLE);
        }
        let region = (!region.is_null()).then(|| region.read());
        let image = render::fetch_image(&effect, &clip, time, region)?;
        out.write(image);
        Ok(())
    })
}

unsafe extern "C" fn clip_release_image(h: OfxPropertySetHandle) -> OfxStatus {
    status(|| {
        let Some(Object::Image(image)) = handles::lookup(h) else {
            return Err(super::bad_handle("clipReleaseImage", h, "image"));
        };
        let Some(Object::Effect(effect)) = handles::lookup(image.effect as *const c_void) else {
            super::current_journal()
                .violation("clipReleaseImage on an image whose instance is gone");
            return Err(st::ERR_BAD_HANDLE);
        };
        render::release_image(&effect, h as usize)
    })
}

unsafe extern "C" fn clip_get_region_of_definition(
    h: OfxImageClipHandle,
    time: OfxTime,
    out: *mut OfxRectD,
) -> OfxStatus {
    status(|| {
        let call = "clipGetRegionOfDefinition";
        let (effect, clip) = clip_of(call, h)?;
        put(&effect.journal, call, out, OfxRectD::default())?;
        if !effect.is_instance() {
            effect
                .journal
                .violation(format!("{call} on a clip descriptor"));
            return Err(st::ERR_BAD_HANDLE);
        }
        let rod = if clip.is_output() {
            if actions::in_action_on(
                effect.handle(),
                name(f::kOfxImageEffectActionGetRegionOfDefinition),
            ) {
                effect.journal.violation(format!(
                    "{call} on the output clip from inside getRegionOfDefinition"
                ));
                return Err(st::FAILED);
            }
            queries::region_of_definition(&effect, time, (1.0, 1.0)).map_err(|_| st::FAILED)?
        } else if clip.connected() {
            clip.region_of_definition(time)
        } else {
            return Err(st::FAILED);
        };
        out.write(rod);
        Ok(())
    })
}

unsafe extern "C" fn abort(h: OfxImageEffectHandle) -> c_int {
    guard(0, || match effect_of("abort", h) {
        Ok(effect) => {
            let n = effect.abort_queries.fetch_add(1, Ordering::Relaxed) + 1;
            let at = effect.abort_at_query.load(Ordering::Relaxed);
            if at != 0 && n >= at {
                effect.abort.store(true, Ordering::Relaxed);
            }
            effect.abort.load(Ordering::Relaxed) as c_int
        }
        Err(_) => 0,
    })
}
