//! One render action: the output buffer handed to the plugin (surrounded by
//! canaries), the images `clipGetImage` serves, and the checks made afterwards.

use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::actions;
use super::clips::Clip;
use super::effect::{Effect, LiveImage};
use super::handles::Object;
use super::images::{
    self, grow, intersect, is_empty, rect, same_rect, to_pixels, BitDepth, Components, Image,
    ImageHandle, Premult, Storage,
};
use super::properties::{PropertySet, Value};
use super::specs;
use super::status::{self, Status};
use super::strings::name;
use crate::ffi::{self as f, OfxPropertySetHandle, OfxRectD, OfxRectI};

/// Byte the output buffer is filled with before the plugin renders.
const CANARY: u8 = 0xA5;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh identifier for renders and images.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Everything `clipGetImage` needs while a render runs.
pub struct RenderCtx {
    pub id: u64,
    pub time: f64,
    pub scale: (f64, f64),
    pub window: OfxRectI,
    /// Canonical regions of interest per input clip.
    pub rois: HashMap<String, OfxRectD>,
    /// Output RoD in pixels at this scale.
    pub output_rod: OfxRectI,
    /// Bounds of the output image as the plugin sees them.
    pub bounds: OfxRectI,
    /// The output bounds, plus a canary-filled guard band when the host checks
    /// the output (`HostConfig::check_output`).
    target: UnsafeCell<Image>,
}

// SAFETY: the target buffer is written by the plugin through raw pointers only
// while the render action runs; the host touches it before and after.
unsafe impl Sync for RenderCtx {}
unsafe impl Send for RenderCtx {}

/// What the instance hands to a render.
pub struct RenderSetup {
    pub time: f64,
    pub scale: (f64, f64),
    pub window: OfxRectI,
    pub rois: HashMap<String, OfxRectD>,
    pub output_rod: OfxRectI,
    pub bounds: OfxRectI,
    pub depth: BitDepth,
    pub components: Components,
    pub premult: Premult,
    pub pixel_aspect: f64,
}

impl RenderCtx {
    pub fn new(setup: RenderSetup, effect: &Effect) -> Arc<RenderCtx> {
        let config = &effect.config;
        let guard = if config.check_output {
            config.guard_pixels.max(0)
        } else {
            0
        };
        let mut target = Image::with_layout(
            setup.depth,
            setup.components,
            grow(setup.bounds, guard),
            config.row_order,
            config.row_padding,
        );
        if config.check_output {
            target.fill_bytes(CANARY);
        }
        target.premult = setup.premult;
        target.pixel_aspect = setup.pixel_aspect;
        Arc::new(RenderCtx {
            id: next_id(),
            time: setup.time,
            scale: setup.scale,
            window: setup.window,
            rois: setup.rois,
            output_rod: setup.output_rod,
            bounds: setup.bounds,
            target: UnsafeCell::new(target),
        })
    }

    fn target(&self) -> &Image {
        // SAFETY: see the `Sync` impl; only called outside the render action.
        unsafe { &*self.target.get() }
    }

    /// Address of the output pixel (`bounds.x1`, `bounds.y1`).
    fn data_ptr(&self) -> *mut u8 {
        let (x, y) = (self.bounds.x1, self.bounds.y1);
        // SAFETY: computing an address inside the buffer; no reference outlives the call.
        unsafe { (*self.target.get()).pixel_ptr(x, y) }
    }

    /// After the render action: records writes outside the window (or into row
    /// padding) and, unless aborted, window pixels never written; then hands
    /// the window to `output` (moving the buffer when it is exactly the window).
    pub fn finish(&self, effect: &Effect, output: &mut Image, aborted: bool) {
        if effect.config.check_output {
            self.check_writes(effect, aborted);
        }
        // SAFETY: see the `Sync` impl; the render action is over.
        let target = unsafe { &mut *self.target.get() };
        let w = self.window;
        if target.same_layout(output) && same_rect(output.bounds(), w) {
            std::mem::swap(target, output);
        } else {
            output.copy_from(target, w);
        }
    }

    fn check_writes(&self, effect: &Effect, aborted: bool) {
        let target = self.target();
        let w = self.window;
        let report = target.canary_report(w, CANARY);
        if report.written_outside > 0 {
            let (x, y) = report.first_outside.unwrap_or_default();
            let b = self.bounds;
            effect.journal.violation(format!(
                "render wrote {} pixels outside the render window ({}, {})-({}, {}), first at ({x}, {y}); image bounds ({}, {})-({}, {})",
                report.written_outside, w.x1, w.y1, w.x2, w.y2, b.x1, b.y1, b.x2, b.y2
            ));
        }
        if report.padding_bytes > 0 {
            effect.journal.violation(format!(
                "render wrote {} bytes into row padding (ignores rowBytes?)",
                report.padding_bytes
            ));
        }
        let area = (w.x2 - w.x1) as usize * (w.y2 - w.y1) as usize;
        // A byte or 16-bit pixel may legitimately equal the canary; only a window
        // left entirely untouched is suspicious there.
        let float_like = matches!(target.depth(), BitDepth::Float | BitDepth::Half);
        if !aborted && report.untouched > 0 && (float_like || report.untouched == area) {
            let (x, y) = report.first_untouched.unwrap_or_default();
            effect.journal.violation(format!(
                "render left {} of {area} pixels of the render window unwritten, first at ({x}, {y})",
                report.untouched
            ));
        }
    }
}

fn image_props(effect: &Effect, label: String) -> Arc<PropertySet> {
    PropertySet::from_specs(label, &effect.journal, &[specs::IMAGE])
}

/// Describes pixels at `data` laid out like `layout` but with the given bounds.
fn fill_image_props(
    props: &PropertySet,
    layout: &Image,
    bounds: OfxRectI,
    data: *mut u8,
    rod: OfxRectI,
    scale: (f64, f64),
    id: &str,
) {
    let b = bounds;
    props.set_str(
        name(f::kOfxImageEffectPropPixelDepth),
        layout.depth().ofx_name(),
    );
    props.set_str(
        name(f::kOfxImageEffectPropComponents),
        layout.components().ofx_name(),
    );
    props.set_str(
        name(f::kOfxImageEffectPropPreMultiplication),
        layout.premult.ofx_name(),
    );
    props.set(
        name(f::kOfxImageEffectPropRenderScale),
        Value::Double(vec![scale.0, scale.1]),
    );
    props.set_double(name(f::kOfxImagePropPixelAspectRatio), layout.pixel_aspect);
    props.set(
        name(f::kOfxImagePropData),
        Value::Pointer(vec![data as usize]),
    );
    props.set(
        name(f::kOfxImagePropBounds),
        Value::Int(vec![b.x1, b.y1, b.x2, b.y2]),
    );
    props.set(
        name(f::kOfxImagePropRegionOfDefinition),
        Value::Int(vec![rod.x1, rod.y1, rod.x2, rod.y2]),
    );
    props.set_int(name(f::kOfxImagePropRowBytes), layout.row_bytes() as i32);
    props.set_str(name(f::kOfxImagePropField), name(f::kOfxImageFieldNone));
    props.set_str(name(f::kOfxImagePropUniqueIdentifier), id);
}

/// `clipGetImage`: the output image during a render, or a copy of the input
/// region converted to the clip's negotiated format and the render scale.
pub fn fetch_image(
    effect: &Arc<Effect>,
    clip: &Arc<Clip>,
    time: f64,
    region: Option<OfxRectD>,
) -> Result<OfxPropertySetHandle, Status> {
    let render = actions::render_for(effect.handle());
    let id = next_id();
    let uid = format!("{}@{time}#{id}", clip.name);
    let props = image_props(effect, format!("image of clip '{}' at {time}", clip.name));
    let storage = if clip.is_output() {
        let Some(ctx) = &render else {
            effect
                .journal
                .violation("clipGetImage on the output clip outside the render action");
            return Err(status::FAILED);
        };
        if time != ctx.time {
            effect.journal.violation(format!(
                "clipGetImage on the output clip at time {time} while rendering time {}",
                ctx.time
            ));
            return Err(status::FAILED);
        }
        // The plugin sees the output bounds; the guard band around them stays hidden.
        let data = ctx.data_ptr();
        fill_image_props(
            &props,
            ctx.target(),
            ctx.bounds,
            data,
            ctx.output_rod,
            ctx.scale,
            &uid,
        );
        Storage::Output
    } else {
        let scale = render.as_ref().map_or((1.0, 1.0), |r| r.scale);
        match input_image(effect, clip, time, region, render.as_deref())? {
            Input::Shared(frame, bounds) => {
                let data = if is_empty(bounds) {
                    std::ptr::null_mut()
                } else {
                    frame.read_only_pixel_ptr(bounds.x1, bounds.y1)
                };
                let rod = full_frame_bounds(clip, time, scale).unwrap_or(frame.bounds());
                fill_image_props(&props, &frame, bounds, data, rod, scale, &uid);
                Storage::Shared(frame)
            }
            Input::Copied(image) => {
                let checksum = effect.config.verify_inputs.then(|| image.checksum());
                let storage = Storage::Input {
                    image: UnsafeCell::new(image),
                    checksum,
                };
                let Storage::Input { image, .. } = &storage else {
                    unreachable!()
                };
                // SAFETY: the handle is not published yet; nobody else sees the image.
                let image = unsafe { &mut *image.get() };
                let rod = full_frame_bounds(clip, time, scale).unwrap_or(image.bounds());
                let data = image.origin_ptr();
                fill_image_props(&props, image, image.bounds(), data, rod, scale, &uid);
                storage
            }
        }
    };
    let render = render.map(|r| r.id);
    let handle = Arc::new(ImageHandle {
        props,
        storage,
        clip: clip.name.clone(),
        time,
        effect: effect.handle(),
        render,
    });
    let key = effect.scope.add(Object::Image(handle.clone()));
    let live = LiveImage {
        clip: clip.name.clone(),
        time,
        render: handle.render,
    };
    effect
        .live_images
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, live);
    Ok(key as OfxPropertySetHandle)
}

/// Pixel bounds of the whole input frame at `scale`.
fn full_frame_bounds(clip: &Clip, time: f64, scale: (f64, f64)) -> Option<OfxRectI> {
    let frame = clip.frame(time)?;
    Some(to_pixels(
        images::to_canonical(frame.bounds(), (1.0, 1.0), 1.0),
        scale,
        1.0,
    ))
}

/// An input image for the plugin: a copy in the layout the host is set to
/// test with, or part of the clip's frame itself.
enum Input {
    Copied(Image),
    Shared(Arc<Image>, OfxRectI),
}

fn input_image(
    effect: &Effect,
    clip: &Clip,
    time: f64,
    region: Option<OfxRectD>,
    render: Option<&RenderCtx>,
) -> Result<Input, Status> {
    let Some(frame) = clip.frame(time) else {
        return Err(status::FAILED);
    };
    if let Some(ctx) = render {
        let temporal = effect
            .props
            .int(name(f::kOfxImageEffectPropTemporalClipAccess))
            == Some(1)
            && clip
                .props
                .int(name(f::kOfxImageEffectPropTemporalClipAccess))
                == Some(1);
        if time != ctx.time && !temporal {
            effect.journal.violation(format!(
                "clipGetImage('{}') at time {time} while rendering time {} without temporal clip access",
                clip.name, ctx.time
            ));
        }
    }
    let scale = render.map_or((1.0, 1.0), |r| r.scale);
    let par = frame.pixel_aspect;
    let rod = full_frame_bounds(clip, time, scale).unwrap_or_default();
    let wanted = match (region, render) {
        (Some(r), _) => to_pixels(r, scale, par),
        (None, Some(ctx))
            if effect.config.input_region == super::config::InputRegion::RegionOfInterest =>
        {
            ctx.rois
                .get(&clip.name)
                .map_or(rod, |roi| to_pixels(*roi, scale, par))
        }
        _ => rod,
    };
    let bounds = intersect(wanted, rod);
    let pref = clip.pref();
    let depth = pref.depth.unwrap_or(frame.depth());
    let components = pref.components.unwrap_or(frame.components());
    let config = &effect.config;
    let in_place = !config.verify_inputs
        && scale == (1.0, 1.0)
        && config.row_padding == 0
        && (depth, components) == (frame.depth(), frame.components())
        && frame.row_order() == config.row_order
        && frame.is_packed();
    if in_place {
        return Ok(Input::Shared(frame, bounds));
    }
    let mut image = Image::with_layout(
        depth,
        components,
        bounds,
        config.row_order,
        config.row_padding,
    );
    image.premult = frame.premult;
    image.pixel_aspect = par;
    if !is_empty(bounds) {
        // Scale only the source pixels under the wanted bounds.
        let (sx, sy) = scale;
        let fb = frame.bounds();
        let source_area = rect(
            ((bounds.x1 as f64 / sx).floor() as i32).max(fb.x1),
            ((bounds.y1 as f64 / sy).floor() as i32).max(fb.y1),
            ((bounds.x2 as f64 / sx).ceil() as i32).min(fb.x2),
            ((bounds.y2 as f64 / sy).ceil() as i32).min(fb.y2),
        );
        if scale == (1.0, 1.0) {
            image.copy_from(&frame, bounds);
        } else {
            image.copy_from(&frame.cropped(source_area).scaled(scale), bounds);
        }
    }
    Ok(Input::Copied(image))
}

/// `clipReleaseImage`.
pub fn release_image(effect: &Effect, key: usize) -> Result<(), Status> {
    effect
        .live_images
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&key);
    match effect.scope.remove(key) {
        Some(Object::Image(image)) => {
            if !image.input_untouched() {
                effect.journal.violation(format!(
                    "the plugin wrote into the input image of clip '{}' at {}",
                    image.clip, image.time
                ));
            }
            Ok(())
        }
        _ => Err(status::ERR_BAD_HANDLE),
    }
}

/// Releases the images a render left behind, recording each as a violation.
pub fn reclaim_images(effect: &Effect, render: Option<u64>) {
    let leaked: Vec<(usize, LiveImage)> = {
        let mut live = effect.live_images.lock().unwrap_or_else(|e| e.into_inner());
        let keys: Vec<usize> = live
            .iter()
            .filter(|(_, l)| render.is_none() || l.render == render)
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter()
            .filter_map(|k| live.remove(&k).map(|l| (k, l)))
            .collect()
    };
    for (key, image) in leaked {
        effect.journal.violation(format!(
            "image of clip '{}' at time {} was never released",
            image.clip, image.time
        ));
        effect.scope.remove(key);
    }
}
