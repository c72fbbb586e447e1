//! The "Collapse" effect: what the node declares and how it answers the host.

mod describe;
mod element_cache;
mod geometry;
mod overlay;
mod params;
mod render;

use crate::ffi;
use crate::inference;
use crate::ofx::{
    self, ClipPreferences, Context, Descriptor, ImageEffect, Instance, MessageLevel, OfxResult,
    PluginInfo, RectD, RectI, RenderArgs,
};
use describe::{BACKGROUND, MASK, OUTPUT_CLIP, SOURCE};
use params::{OutputMode, Settings};
use std::os::raw::{c_char, c_int, c_void};

/// The plugin identifier hosts store in saved comps.
pub const PLUGIN_ID: &str = "org.collapseofx.Collapse";
const PLUGIN_ID_C: &[u8] = b"org.collapseofx.Collapse\0";
/// The procedural model (contract 1) shipped in the bundle's Resources folder; the
/// default is the learned package (`params::BUNDLED_MODEL_DEFAULT`).
pub const PROCEDURAL_MODEL_FILE: &str = params::BUNDLED_MODEL_FILES[0];

pub struct Collapse {
    info: PluginInfo,
}

static COLLAPSE: Collapse = Collapse {
    info: PluginInfo {
        identifier: PLUGIN_ID_C,
        version: (1, 1), // 1.1: the learned package is the default
    },
};

impl ImageEffect for Collapse {
    fn info(&self) -> &PluginInfo {
        &self.info
    }

    fn load(&self) -> OfxResult<()> {
        crate::logging::init();
        if let Some(dir) = ofx::binary_dir() {
            inference::set_bundled_library_dir(&dir);
        }
        Ok(())
    }

    fn unload(&self) {
        element_cache::clear();
        inference::purge();
    }

    fn describe(&self, desc: &Descriptor) -> OfxResult<()> {
        describe::describe(desc, overlay_entry)
    }

    fn describe_in_context(&self, desc: &Descriptor, context: Context) -> OfxResult<()> {
        describe::describe_in_context(desc, context)
    }

    fn region_of_definition(
        &self,
        inst: &Instance,
        time: f64,
        _scale: (f64, f64),
    ) -> OfxResult<Option<RectD>> {
        // The output covers what the Source covers, whatever the other inputs.
        Ok(Some(inst.clips().get(SOURCE)?.region_of_definition(time)?))
    }

    fn regions_of_interest(
        &self,
        inst: &Instance,
        time: f64,
        scale: (f64, f64),
        wanted: RectD,
    ) -> OfxResult<Vec<(&'static str, RectD)>> {
        let settings = Settings::read(&inst.params()?, time)?;
        let par = inst.clips().get(SOURCE)?.pixel_aspect_ratio();
        match render::collapse_at(&settings, time, scale, par) {
            Ok(Some((_, geo))) => Ok(vec![
                (SOURCE, geo.source.union(&wanted)),
                (MASK, geo.source),
                (BACKGROUND, geo.source),
            ]),
            // Nothing to compute, or a model failure that render reports: a plain copy.
            _ => Ok(vec![
                (SOURCE, wanted),
                (MASK, RectD::default()),
                (BACKGROUND, RectD::default()),
            ]),
        }
    }

    fn frames_needed(
        &self,
        inst: &Instance,
        time: f64,
    ) -> OfxResult<Vec<(&'static str, Vec<(f64, f64)>)>> {
        let settings = Settings::read(&inst.params()?, time)?;
        let reference = render::reference_frame(&settings, &inst.clips().get(SOURCE)?);
        let mut source = vec![(time, time)];
        if reference != time {
            source.push((reference, reference));
        }
        Ok(vec![
            (SOURCE, source),
            (MASK, vec![(time, time)]),
            (BACKGROUND, vec![(time, time)]),
        ])
    }

    fn clip_preferences(&self, inst: &Instance, prefs: &ClipPreferences) -> OfxResult<()> {
        let source = inst.clips().get(SOURCE)?;
        // Output in the Source's layout; the optional inputs are read in any layout.
        if let (Ok(depth), Ok(components)) = (source.pixel_depth(), source.components()) {
            prefs.set_depth(OUTPUT_CLIP, depth)?;
            prefs.set_components(OUTPUT_CLIP, components)?;
        }
        prefs.set_premultiplied()
    }

    fn is_identity(
        &self,
        inst: &Instance,
        time: f64,
        scale: (f64, f64),
        window: RectI,
    ) -> OfxResult<Option<(&'static str, f64)>> {
        let settings = Settings::read(&inst.params()?, time)?;
        if settings.output != OutputMode::Composite {
            return Ok(None);
        }
        let par = inst.clips().get(SOURCE)?.pixel_aspect_ratio();
        match render::collapse_at(&settings, time, scale, par) {
            Ok(None) => Ok(Some((SOURCE, time))),
            Ok(Some((_, geo))) if window.intersect(&geo.to_pixels(geo.affected)).is_empty() => {
                Ok(Some((SOURCE, time)))
            }
            // Render it (and report a model failure there).
            _ => Ok(None),
        }
    }

    fn render(&self, inst: &Instance, args: &RenderArgs) -> OfxResult<()> {
        render::render(inst, args)
    }

    fn instance_changed(&self, inst: &Instance, param: &str, time: f64) -> OfxResult<()> {
        if ![
            params::MODEL,
            params::DEVICE,
            params::HALF_PRECISION,
            params::USE_TENSORRT,
        ]
        .contains(&param)
        {
            return Ok(());
        }
        // Load the model now so that a bad file is reported when it is chosen, not at render.
        let settings = Settings::read(&inst.params()?, time)?;
        match render::model_for(&settings) {
            Ok(model) => match &model.warning {
                Some(w) => inst.set_persistent_message(MessageLevel::Warning, w),
                None => {
                    inst.clear_persistent_message();
                    log::info!(
                        "Collapse runs '{}' on {}",
                        model.contract.name,
                        model.device.label()
                    );
                }
            },
            Err(e) => inst
                .set_persistent_message(MessageLevel::Error, &format!("Collapse: {}", e.message)),
        }
        Ok(())
    }

    fn purge_caches(&self) {
        element_cache::clear();
        inference::purge();
    }

    fn destroy_instance(&self, inst: &Instance) {
        element_cache::forget(inst.id());
    }
}

// ---- The exported OpenFX entry points -------------------------------------

static PLUGIN: ofx::PluginExport =
    ofx::PluginExport::new(PLUGIN_ID_C, COLLAPSE.info.version, main_entry);

extern "C" fn main_entry(
    action: *const c_char,
    handle: *const c_void,
    in_args: ffi::OfxPropertySetHandle,
    out_args: ffi::OfxPropertySetHandle,
) -> ffi::OfxStatus {
    ofx::dispatch(&COLLAPSE, action, handle, in_args, out_args)
}

/// The overlay interact's entry (`kOfxImageEffectPluginPropOverlayInteractV1`).
extern "C" fn overlay_entry(
    action: *const c_char,
    handle: *const c_void,
    in_args: ffi::OfxPropertySetHandle,
    _out_args: ffi::OfxPropertySetHandle,
) -> ffi::OfxStatus {
    ofx::dispatch_interact(&overlay::OVERLAY, action, handle, in_args)
}

/// Number of plugins in this binary (OpenFX export).
#[no_mangle]
pub extern "C" fn OfxGetNumberOfPlugins() -> c_int {
    1
}

/// The plugin at `nth` (OpenFX export).
#[no_mangle]
pub extern "C" fn OfxGetPlugin(nth: c_int) -> *mut ffi::OfxPlugin {
    if nth == 0 {
        PLUGIN.as_ptr()
    } else {
        std::ptr::null_mut()
    }
}
