//! The plugin's entry point: turns OpenFX actions into calls on an [`ImageEffect`],
//! and is the one place where panics are caught before they reach the host.

use super::error::{check, status_name};
use super::message::{
    clear_persistent_message, post_message, set_persistent_message, MessageLevel,
};
use super::suites::{fetch_suites, forget_suites, remember_host};
use super::{
    c, host_suites, matches, Clips, OfxError, OfxResult, ParamDefs, ParamValues, PropertySet,
    RectD, RectI, Status,
};
use crate::ffi;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The static identity of the plugin.
pub struct PluginInfo {
    pub identifier: &'static [u8],
    pub version: (u32, u32),
}

/// Contexts the effect can be described in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Filter,
    General,
    Other,
}

/// A descriptor handle during describe / describeInContext.
pub struct Descriptor {
    handle: ffi::OfxImageEffectHandle,
    pub props: PropertySet,
}

impl Descriptor {
    pub fn params(&self) -> OfxResult<ParamDefs> {
        Ok(ParamDefs::new(param_set(self.handle)?))
    }
    pub fn clips(&self) -> Clips {
        Clips::new(self.handle)
    }
}

/// An effect instance during an instance action.
#[derive(Clone, Copy)]
pub struct Instance {
    handle: ffi::OfxImageEffectHandle,
    pub props: PropertySet,
}

impl Instance {
    /// The instance behind an effect handle the host gave (an interact's effect).
    pub(crate) fn from_handle(handle: ffi::OfxImageEffectHandle) -> OfxResult<Instance> {
        if handle.is_null() {
            return Err(OfxError::new(
                ffi::kOfxStatErrBadHandle,
                "null effect instance",
            ));
        }
        Ok(Instance {
            handle,
            props: effect_props(handle)?,
        })
    }
    /// A number that names this instance for as long as it lives (its handle).
    pub fn id(&self) -> usize {
        self.handle as usize
    }
    pub fn clips(&self) -> Clips {
        Clips::new(self.handle)
    }
    pub fn params(&self) -> OfxResult<ParamValues> {
        Ok(ParamValues::new(param_set(self.handle)?))
    }
    /// True when the host wants the current render to stop.
    pub fn aborted(&self) -> bool {
        host_suites()
            .ok()
            .and_then(|s| s.effect.abort)
            // SAFETY: an instance handle the host gave us for this action.
            .map(|f| unsafe { f(self.handle) } != 0)
            .unwrap_or(false)
    }
    /// Shows a message on the node until cleared (a one-off message on hosts
    /// without message suite v2), and logs it.
    pub fn set_persistent_message(&self, level: MessageLevel, text: &str) {
        set_persistent_message(self.handle as *mut c_void, level, text);
    }
    /// Clears the node's persistent message.
    pub fn clear_persistent_message(&self) {
        clear_persistent_message(self.handle as *mut c_void);
    }
}

/// The arguments of a render action.
pub struct RenderArgs {
    pub time: f64,
    pub scale: (f64, f64),
    pub window: RectI,
}

/// Output clip preferences the effect may set in getClipPreferences.
pub struct ClipPreferences {
    out: PropertySet,
}

impl ClipPreferences {
    fn set(&self, prefix: &str, clip: &str, value: &'static [u8]) -> OfxResult<()> {
        let name = CString::new(format!("{prefix}{clip}"))
            .map_err(|_| OfxError::failed("clip name with NUL"))?;
        self.out.set_cstr_dyn(&name, c(value))
    }
    pub fn set_depth(&self, clip: &str, depth: super::BitDepth) -> OfxResult<()> {
        self.set("OfxImageClipPropDepth_", clip, depth.ofx_name())
    }
    pub fn set_components(&self, clip: &str, components: super::Components) -> OfxResult<()> {
        self.set("OfxImageClipPropComponents_", clip, components.ofx_name())
    }
    pub fn set_premultiplied(&self) -> OfxResult<()> {
        self.out.set_cstr(
            ffi::kOfxImageEffectPropPreMultiplication,
            0,
            c(ffi::kOfxImagePreMultiplied),
        )
    }
}

/// What an effect implements; every method runs inside the panic guard.
pub trait ImageEffect: Sync {
    fn info(&self) -> &PluginInfo;
    fn load(&self) -> OfxResult<()> {
        Ok(())
    }
    fn unload(&self) {}
    fn describe(&self, desc: &Descriptor) -> OfxResult<()>;
    fn describe_in_context(&self, desc: &Descriptor, context: Context) -> OfxResult<()>;
    fn create_instance(&self, _inst: &Instance) -> OfxResult<()> {
        Ok(())
    }
    fn destroy_instance(&self, _inst: &Instance) {}
    /// `None`: the host's default (the Source's RoD).
    fn region_of_definition(
        &self,
        inst: &Instance,
        time: f64,
        scale: (f64, f64),
    ) -> OfxResult<Option<RectD>>;
    /// Regions of interest per input clip for rendering `region` (canonical).
    fn regions_of_interest(
        &self,
        inst: &Instance,
        time: f64,
        scale: (f64, f64),
        region: RectD,
    ) -> OfxResult<Vec<(&'static str, RectD)>>;
    fn clip_preferences(&self, inst: &Instance, prefs: &ClipPreferences) -> OfxResult<()>;
    /// The frame ranges each input clip is read over to render `time`, for an effect
    /// with temporal clip access; empty: the host's default (`time` for every clip).
    fn frames_needed(
        &self,
        _inst: &Instance,
        _time: f64,
    ) -> OfxResult<Vec<(&'static str, Vec<(f64, f64)>)>> {
        Ok(Vec::new())
    }
    /// `Some((clip, time))` when the output equals that clip at that time.
    fn is_identity(
        &self,
        inst: &Instance,
        time: f64,
        scale: (f64, f64),
        window: RectI,
    ) -> OfxResult<Option<(&'static str, f64)>>;
    fn render(&self, inst: &Instance, args: &RenderArgs) -> OfxResult<()>;
    fn begin_sequence(&self, _inst: &Instance) -> OfxResult<()> {
        Ok(())
    }
    fn end_sequence(&self, _inst: &Instance) -> OfxResult<()> {
        Ok(())
    }
    fn instance_changed(&self, _inst: &Instance, _param: &str, _time: f64) -> OfxResult<()> {
        Ok(())
    }
    fn purge_caches(&self) {}
}

/// Remembers the host (`OfxPlugin::setHost`).
fn set_host(host: *mut ffi::OfxHost) {
    let _ = catch_unwind(|| remember_host(host));
}

/// The `OfxPlugin` record a binary exports through `OfxGetPlugin`.
pub struct PluginExport(ffi::OfxPlugin);

// SAFETY: the record holds pointers to static strings and to functions only.
unsafe impl Sync for PluginExport {}

/// The signature of `OfxPlugin::mainEntry`.
pub type MainEntry = extern "C" fn(
    *const c_char,
    *const c_void,
    ffi::OfxPropertySetHandle,
    ffi::OfxPropertySetHandle,
) -> Status;

impl PluginExport {
    /// `identifier` is NUL-terminated; `main_entry` should call [`dispatch`].
    pub const fn new(
        identifier: &'static [u8],
        version: (u32, u32),
        main_entry: MainEntry,
    ) -> Self {
        PluginExport(ffi::OfxPlugin {
            pluginApi: ffi::kOfxImageEffectPluginApi.as_ptr() as *const c_char,
            apiVersion: 1,
            pluginIdentifier: identifier.as_ptr() as *const c_char,
            pluginVersionMajor: version.0,
            pluginVersionMinor: version.1,
            setHost: Some(set_host_entry),
            mainEntry: Some(main_entry),
        })
    }

    /// The pointer `OfxGetPlugin` returns; hosts only read through it.
    pub fn as_ptr(&'static self) -> *mut ffi::OfxPlugin {
        &self.0 as *const ffi::OfxPlugin as *mut ffi::OfxPlugin
    }
}

extern "C" fn set_host_entry(host: *mut ffi::OfxHost) {
    set_host(host);
}

/// The main entry: dispatches `action` to `effect`, catching every panic.
/// The pointers are the ones an OpenFX host passes to `mainEntry`; this is the
/// only function that receives them.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn dispatch(
    effect: &dyn ImageEffect,
    action: *const c_char,
    handle: *const c_void,
    in_args: ffi::OfxPropertySetHandle,
    out_args: ffi::OfxPropertySetHandle,
) -> Status {
    if action.is_null() {
        return ffi::kOfxStatErrBadHandle;
    }
    // SAFETY: the host passes a NUL-terminated action name (checked non-null above).
    let action = unsafe { CStr::from_ptr(action) };
    let handle = handle as ffi::OfxImageEffectHandle;
    let result = catch_unwind(AssertUnwindSafe(|| {
        run_action(
            effect,
            action,
            handle,
            PropertySet(in_args),
            PropertySet(out_args),
        )
    }));
    match result {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            let is_render = action == c(ffi::kOfxImageEffectActionRender);
            let what = if is_render {
                "render".into()
            } else {
                action.to_string_lossy()
            };
            let text = format!("Collapse: {what} failed: {}", e.message);
            if e.is_abort() {
                log::info!("render aborted by the host");
            } else if is_render {
                post_message(handle as *mut c_void, MessageLevel::Error, &text);
            } else {
                log::error!("{text} ({})", status_name(e.status));
            }
            e.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let text = format!(
                "Collapse: internal error during {}: {what}",
                action.to_string_lossy()
            );
            // Posting may itself fail if the host state is odd; never let that escape either.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                post_message(handle as *mut c_void, MessageLevel::Error, &text)
            }));
            ffi::kOfxStatFailed
        }
    }
}

fn is(action: &CStr, name: &'static [u8]) -> bool {
    action.to_bytes_with_nul() == name
}

fn run_action(
    effect: &dyn ImageEffect,
    action: &CStr,
    handle: ffi::OfxImageEffectHandle,
    in_args: PropertySet,
    out_args: PropertySet,
) -> OfxResult<Status> {
    const OK: OfxResult<Status> = Ok(ffi::kOfxStatOK);
    if is(action, ffi::kOfxActionLoad) {
        fetch_suites()?;
        effect.load()?;
        return OK;
    }
    if is(action, ffi::kOfxActionUnload) {
        effect.unload();
        forget_suites();
        return OK;
    }
    if is(action, ffi::kOfxActionPurgeCaches) {
        effect.purge_caches();
        return OK;
    }
    if handle.is_null() {
        return Err(OfxError::new(
            ffi::kOfxStatErrBadHandle,
            "null effect handle",
        ));
    }
    let props = effect_props(handle)?;
    if is(action, ffi::kOfxActionDescribe) {
        effect.describe(&Descriptor { handle, props })?;
        return OK;
    }
    if is(action, ffi::kOfxImageEffectActionDescribeInContext) {
        let context = context_from(&in_args.get_string(ffi::kOfxImageEffectPropContext, 0)?);
        effect.describe_in_context(&Descriptor { handle, props }, context)?;
        return OK;
    }
    let inst = Instance { handle, props };
    if is(action, ffi::kOfxActionCreateInstance) {
        effect.create_instance(&inst)?;
        return OK;
    }
    if is(action, ffi::kOfxActionDestroyInstance) {
        effect.destroy_instance(&inst);
        return OK;
    }
    if is(action, ffi::kOfxImageEffectActionGetRegionOfDefinition) {
        let time = in_args.get_double(ffi::kOfxPropTime, 0)?;
        let scale = render_scale(in_args);
        return match effect.region_of_definition(&inst, time, scale)? {
            Some(rod) => {
                out_args.set_doubles(
                    ffi::kOfxImageEffectPropRegionOfDefinition,
                    &[rod.x1, rod.y1, rod.x2, rod.y2],
                )?;
                OK
            }
            None => Ok(ffi::kOfxStatReplyDefault),
        };
    }
    if is(action, ffi::kOfxImageEffectActionGetRegionsOfInterest) {
        let time = in_args.get_double(ffi::kOfxPropTime, 0)?;
        let scale = render_scale(in_args);
        let r = in_args.get_doubles::<4>(ffi::kOfxImageEffectPropRegionOfInterest)?;
        let region = RectD {
            x1: r[0],
            y1: r[1],
            x2: r[2],
            y2: r[3],
        };
        for (clip, roi) in effect.regions_of_interest(&inst, time, scale, region)? {
            let name = CString::new(format!("OfxImageClipPropRoI_{clip}"))
                .map_err(|_| OfxError::failed("clip name with NUL"))?;
            out_args.set_doubles_dyn(&name, &[roi.x1, roi.y1, roi.x2, roi.y2])?;
        }
        return OK;
    }
    if is(action, ffi::kOfxImageEffectActionGetFramesNeeded) {
        let time = in_args.get_double(ffi::kOfxPropTime, 0)?;
        let needed = effect.frames_needed(&inst, time)?;
        if needed.is_empty() {
            return Ok(ffi::kOfxStatReplyDefault);
        }
        for (clip, ranges) in needed {
            let name = CString::new(format!("OfxImageClipPropFrameRange_{clip}"))
                .map_err(|_| OfxError::failed("clip name with NUL"))?;
            let flat: Vec<f64> = ranges.iter().flat_map(|&(a, b)| [a, b]).collect();
            out_args.set_doubles_dyn(&name, &flat)?;
        }
        return OK;
    }
    if is(action, ffi::kOfxImageEffectActionGetClipPreferences) {
        effect.clip_preferences(&inst, &ClipPreferences { out: out_args })?;
        return OK;
    }
    if is(action, ffi::kOfxImageEffectActionIsIdentity) {
        let RenderArgs {
            time,
            scale,
            window,
        } = render_args(in_args)?;
        return match effect.is_identity(&inst, time, scale, window)? {
            Some((clip, at)) => {
                out_args.set_string(ffi::kOfxPropName, 0, clip)?;
                out_args.set_double(ffi::kOfxPropTime, 0, at)?;
                OK
            }
            None => Ok(ffi::kOfxStatReplyDefault),
        };
    }
    if is(action, ffi::kOfxImageEffectActionRender) {
        effect.render(&inst, &render_args(in_args)?)?;
        return OK;
    }
    if is(action, ffi::kOfxImageEffectActionBeginSequenceRender) {
        effect.begin_sequence(&inst)?;
        return OK;
    }
    if is(action, ffi::kOfxImageEffectActionEndSequenceRender) {
        effect.end_sequence(&inst)?;
        return OK;
    }
    if is(action, ffi::kOfxActionInstanceChanged) {
        let name = in_args.get_string(ffi::kOfxPropName, 0)?;
        let time = in_args.get_double(ffi::kOfxPropTime, 0).unwrap_or(0.0);
        effect.instance_changed(&inst, &name, time)?;
        return OK;
    }
    Ok(ffi::kOfxStatReplyDefault)
}

fn effect_props(handle: ffi::OfxImageEffectHandle) -> OfxResult<PropertySet> {
    let suites = host_suites()?;
    let f = suites
        .effect
        .getPropertySet
        .ok_or_else(|| OfxError::host_call("getPropertySet", ffi::kOfxStatErrMissingHostFeature))?;
    let mut props: ffi::OfxPropertySetHandle = std::ptr::null_mut();
    // SAFETY: an effect handle from the host and an out pointer.
    check("getPropertySet", unsafe { f(handle, &mut props) })?;
    Ok(PropertySet(props))
}

fn param_set(handle: ffi::OfxImageEffectHandle) -> OfxResult<ffi::OfxParamSetHandle> {
    let suites = host_suites()?;
    let f = suites
        .effect
        .getParamSet
        .ok_or_else(|| OfxError::host_call("getParamSet", ffi::kOfxStatErrMissingHostFeature))?;
    let mut params: ffi::OfxParamSetHandle = std::ptr::null_mut();
    // SAFETY: an effect handle from the host and an out pointer.
    check("getParamSet", unsafe { f(handle, &mut params) })?;
    Ok(params)
}

/// Time, render scale and render window of isIdentity and render.
fn render_args(args: PropertySet) -> OfxResult<RenderArgs> {
    let w = args.get_ints::<4>(ffi::kOfxImageEffectPropRenderWindow)?;
    Ok(RenderArgs {
        time: args.get_double(ffi::kOfxPropTime, 0)?,
        scale: render_scale(args),
        window: RectI {
            x1: w[0],
            y1: w[1],
            x2: w[2],
            y2: w[3],
        },
    })
}

fn render_scale(args: PropertySet) -> (f64, f64) {
    args.get_doubles::<2>(ffi::kOfxImageEffectPropRenderScale)
        .map(|s| (s[0], s[1]))
        .ok()
        .filter(|s| s.0 > 0.0 && s.1 > 0.0 && s.0.is_finite() && s.1.is_finite())
        .unwrap_or((1.0, 1.0))
}

fn context_from(name: &str) -> Context {
    if matches(name, ffi::kOfxImageEffectContextFilter) {
        Context::Filter
    } else if matches(name, ffi::kOfxImageEffectContextGeneral) {
        Context::General
    } else {
        Context::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An effect that panics in every action it implements.
    struct Panicky(PluginInfo);

    impl ImageEffect for Panicky {
        fn info(&self) -> &PluginInfo {
            &self.0
        }
        fn purge_caches(&self) {
            panic!("purge exploded");
        }
        fn unload(&self) {
            panic!("{}", String::from("unload exploded"));
        }
        fn describe(&self, _: &Descriptor) -> OfxResult<()> {
            unreachable!()
        }
        fn describe_in_context(&self, _: &Descriptor, _: Context) -> OfxResult<()> {
            unreachable!()
        }
        fn region_of_definition(
            &self,
            _: &Instance,
            _: f64,
            _: (f64, f64),
        ) -> OfxResult<Option<RectD>> {
            unreachable!()
        }
        fn regions_of_interest(
            &self,
            _: &Instance,
            _: f64,
            _: (f64, f64),
            _: RectD,
        ) -> OfxResult<Vec<(&'static str, RectD)>> {
            unreachable!()
        }
        fn clip_preferences(&self, _: &Instance, _: &ClipPreferences) -> OfxResult<()> {
            unreachable!()
        }
        fn is_identity(
            &self,
            _: &Instance,
            _: f64,
            _: (f64, f64),
            _: RectI,
        ) -> OfxResult<Option<(&'static str, f64)>> {
            unreachable!()
        }
        fn render(&self, _: &Instance, _: &RenderArgs) -> OfxResult<()> {
            unreachable!()
        }
    }

    #[test]
    fn a_panic_in_an_action_becomes_a_failed_status() {
        let effect = Panicky(PluginInfo {
            identifier: b"test.panicky\0",
            version: (1, 0),
        });
        let (handle, args) = (std::ptr::null(), std::ptr::null_mut());
        for action in [&ffi::kOfxActionPurgeCaches[..], &ffi::kOfxActionUnload[..]] {
            let status = dispatch(&effect, c(action).as_ptr(), handle, args, args);
            assert_eq!(status, ffi::kOfxStatFailed);
        }
        let status = dispatch(&effect, std::ptr::null(), handle, args, args);
        assert_eq!(status, ffi::kOfxStatErrBadHandle);
    }
}
