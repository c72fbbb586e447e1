//! An effect instance: parameters, inputs, the host's queries and renders.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use super::clips::{ClipPreferences, ClipSource};
use super::config::Context;
use super::effect::{arg, Args, Effect};
use super::error::HostError;
use super::images::{self, contains, grow, is_empty, same_rect, to_canonical, to_pixels, Image};
use super::journal::{self, Journal, Message, ProgressEvent};
use super::params::ParamValue;
use super::plugin::PluginCore;
use super::properties::{Props, Value};
use super::queries;
use super::render::{self, RenderCtx, RenderSetup};
use super::status;
use super::strings::name;
use crate::ffi::{self as f, OfxRectD, OfxRectI};

/// A live instance of a plugin in one context. Dropping it destroys it.
pub struct Instance {
    plugin: Arc<PluginCore>,
    effect: Arc<Effect>,
    prefs: RwLock<Option<ClipPreferences>>,
}

impl Instance {
    pub(crate) fn create(
        plugin: Arc<PluginCore>,
        described: &Effect,
        context: Context,
        number: usize,
    ) -> Result<Instance, HostError> {
        let journal = Journal::new(format!("{} instance #{number}", plugin.id));
        let effect = Effect::instance(described, context, plugin.raw_plugin, &journal);
        let status = effect.call(f::kOfxActionCreateInstance, None, None, None);
        if status != status::OK && status != status::REPLY_DEFAULT {
            // The plugin refused: it must not see a destroy for this instance.
            render::reclaim_images(&effect, None);
            effect.scope.revoke();
            return Err(HostError::Action {
                action: name(f::kOfxActionCreateInstance),
                status,
            });
        }
        let instance = Instance {
            plugin,
            effect,
            prefs: RwLock::new(None),
        };
        instance.refresh_preferences()?;
        Ok(instance)
    }

    pub fn context(&self) -> Context {
        self.effect.context().expect("instances have a context")
    }

    pub fn plugin_id(&self) -> &str {
        &self.plugin.id
    }

    /// The instance's effect properties now.
    pub fn props(&self) -> Props {
        self.effect.props.snapshot()
    }

    pub fn clip_names(&self) -> Vec<String> {
        self.effect.clips().iter().map(|c| c.name.clone()).collect()
    }

    pub fn clip_props(&self, clip: &str) -> Option<Props> {
        self.effect.clip(clip).map(|c| c.props.snapshot())
    }

    pub fn param_names(&self) -> Vec<String> {
        self.effect
            .params
            .all()
            .iter()
            .map(|p| p.name.clone())
            .collect()
    }

    /// Current value of a parameter (`None`: unknown or valueless).
    pub fn param(&self, param: &str) -> Option<ParamValue> {
        self.effect.params.get(param).and_then(|p| p.value())
    }

    /// A parameter's instance properties now (enabled, secret, label ...).
    pub fn param_props(&self, param: &str) -> Option<Props> {
        self.effect.params.get(param).map(|p| p.props.snapshot())
    }

    /// Opens the plugin's overlay on a viewer of this instance (`None`: it has
    /// none). The host must not be a background one.
    pub fn overlay(&self) -> Result<Option<super::Overlay>, HostError> {
        super::overlay::Overlay::open(&self.effect)
    }

    /// The parameter edits the plugin made since the last call: undo blocks and writes.
    pub fn take_edits(&self) -> Vec<super::Edit> {
        std::mem::take(
            &mut *self
                .effect
                .params
                .edits
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Sets a parameter as a user would and sends `kOfxActionInstanceChanged`.
    pub fn set_param(&self, param: &str, value: ParamValue) -> Result<(), HostError> {
        let p = self
            .effect
            .params
            .get(param)
            .ok_or_else(|| HostError::Unknown(format!("no parameter '{param}'")))?;
        if !value.fits(p.kind) {
            return Err(HostError::Unknown(format!(
                "{value:?} is not a value of {} parameter '{param}'",
                p.kind.ofx_name()
            )));
        }
        if let ParamValue::Choice(i) = value {
            if i < 0 || i as usize >= p.option_count() {
                return Err(HostError::Invalid(format!(
                    "choice {i} is not an option of '{param}' ({} options)",
                    p.option_count()
                )));
            }
        }
        p.set_value(value);
        let now = *self.effect.time.lock().unwrap_or_else(|e| e.into_inner());
        let status =
            self.effect
                .instance_changed(f::kOfxTypeParameter, param, f::kOfxChangeUserEdited, now);
        Self::changed(status)?;
        let slaves = self
            .effect
            .props
            .strs(name(f::kOfxImageEffectPropClipPreferencesSlaveParam));
        if slaves.iter().any(|s| s == param) {
            self.refresh_preferences()?;
        }
        Ok(())
    }

    fn changed(status: status::Status) -> Result<(), HostError> {
        match status {
            status::OK | status::REPLY_DEFAULT => Ok(()),
            s => Err(HostError::Action {
                action: name(f::kOfxActionInstanceChanged),
                status: s,
            }),
        }
    }

    /// Connects an input clip, renegotiates clip preferences and tells the plugin.
    pub fn connect(&self, clip: &str, source: ClipSource) -> Result<(), HostError> {
        self.attach(clip, Some(source))
    }

    /// Disconnects an input clip (same sequence as `connect`).
    pub fn disconnect(&self, clip: &str) -> Result<(), HostError> {
        self.attach(clip, None)
    }

    fn attach(&self, clip: &str, source: Option<ClipSource>) -> Result<(), HostError> {
        let c = self
            .effect
            .clip(clip)
            .filter(|c| !c.is_output())
            .ok_or_else(|| HostError::Unknown(format!("no input clip '{clip}'")))?;
        c.connect(source);
        c.props
            .set_int(name(f::kOfxImageClipPropConnected), c.connected() as i32);
        let range = c.frame_range(self.effect.config.project.frame_range);
        for key in [
            f::kOfxImageEffectPropFrameRange.as_slice(),
            f::kOfxImageEffectPropUnmappedFrameRange,
        ] {
            c.props
                .set(name(key), Value::Double(vec![range.0, range.1]));
        }
        // The plugin hears of the change with the clip's new format in place.
        self.refresh_preferences()?;
        let now = *self.effect.time.lock().unwrap_or_else(|e| e.into_inner());
        Self::changed(self.effect.instance_changed(
            f::kOfxTypeClip,
            clip,
            f::kOfxChangeUserEdited,
            now,
        ))
    }

    fn refresh_preferences(&self) -> Result<(), HostError> {
        let prefs = queries::clip_preferences(&self.effect)?;
        let output = self.effect.clip(name(f::kOfxImageEffectOutputClipName));
        if let Some(out) = output {
            let range = queries::time_domain(&self.effect)?;
            out.props.set(
                name(f::kOfxImageEffectPropFrameRange),
                Value::Double(vec![range.0, range.1]),
            );
            out.props.set(
                name(f::kOfxImageEffectPropUnmappedFrameRange),
                Value::Double(vec![range.0, range.1]),
            );
            out.props.set_int(name(f::kOfxImageClipPropConnected), 1);
        }
        *self.prefs.write().unwrap_or_else(|e| e.into_inner()) = Some(prefs);
        Ok(())
    }

    /// Runs the clip preferences action again and returns the result.
    pub fn clip_preferences(&self) -> Result<ClipPreferences, HostError> {
        self.refresh_preferences()?;
        Ok(self.current_prefs())
    }

    fn current_prefs(&self) -> ClipPreferences {
        self.prefs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .expect("negotiated at creation")
    }

    /// Region of definition in canonical coordinates.
    pub fn region_of_definition(
        &self,
        time: f64,
        scale: (f64, f64),
    ) -> Result<OfxRectD, HostError> {
        queries::region_of_definition(&self.effect, time, scale)
    }

    /// Canonical region of interest of each input for a canonical output window.
    pub fn regions_of_interest(
        &self,
        time: f64,
        scale: (f64, f64),
        window: OfxRectD,
    ) -> Result<HashMap<String, OfxRectD>, HostError> {
        queries::regions_of_interest(&self.effect, time, scale, window)
    }

    pub fn frames_needed(&self, time: f64) -> Result<HashMap<String, Vec<(f64, f64)>>, HostError> {
        queries::frames_needed(&self.effect, time)
    }

    /// The input clip and time this render would just copy, if any.
    pub fn is_identity(
        &self,
        time: f64,
        scale: (f64, f64),
        window: OfxRectI,
    ) -> Result<Option<(String, f64)>, HostError> {
        queries::is_identity(&self.effect, time, scale, window)
    }

    pub fn time_domain(&self) -> Result<(f64, f64), HostError> {
        queries::time_domain(&self.effect)
    }

    fn sequence_args(&self, label: &str, range: (f64, f64), step: f64, scale: (f64, f64)) -> Args {
        Args::input(
            &self.effect.journal,
            label,
            &[
                arg::doubles(f::kOfxImageEffectPropFrameRange, &[range.0, range.1]),
                arg::doubles(f::kOfxImageEffectPropFrameStep, &[step]),
                arg::ints(f::kOfxPropIsInteractive, &[0]),
                arg::doubles(f::kOfxImageEffectPropRenderScale, &[scale.0, scale.1]),
                arg::ints(f::kOfxImageEffectPropSequentialRenderStatus, &[0]),
                arg::ints(f::kOfxImageEffectPropInteractiveRenderStatus, &[0]),
                arg::ints(f::kOfxImageEffectPropRenderQualityDraft, &[0]),
            ],
        )
    }

    fn sequence(
        &self,
        action: &'static [u8],
        range: (f64, f64),
        step: f64,
        scale: (f64, f64),
    ) -> Result<(), HostError> {
        let args = self.sequence_args(&format!("{} inArgs", name(action)), range, step, scale);
        match self.effect.call(action, Some(&args), None, None) {
            status::OK | status::REPLY_DEFAULT => Ok(()),
            s => Err(HostError::Action {
                action: name(action),
                status: s,
            }),
        }
    }

    pub fn begin_sequence(
        &self,
        range: (f64, f64),
        step: f64,
        scale: (f64, f64),
    ) -> Result<(), HostError> {
        self.sequence(
            f::kOfxImageEffectActionBeginSequenceRender,
            range,
            step,
            scale,
        )
    }

    pub fn end_sequence(
        &self,
        range: (f64, f64),
        step: f64,
        scale: (f64, f64),
    ) -> Result<(), HostError> {
        self.sequence(
            f::kOfxImageEffectActionEndSequenceRender,
            range,
            step,
            scale,
        )
    }

    /// Output pixel aspect ratio.
    fn output_par(&self) -> f64 {
        self.current_prefs().output().pixel_aspect
    }

    /// A transparent image in the negotiated output format.
    pub fn new_output_image(&self, bounds: OfxRectI) -> Image {
        let out = self.current_prefs().output();
        let depth = out.depth.unwrap_or(images::BitDepth::Float);
        let mut image = Image::new(
            depth,
            out.components.unwrap_or(images::Components::Rgba),
            bounds,
        );
        image.premult = out.premult;
        image.pixel_aspect = out.pixel_aspect;
        image
    }

    /// The lock the plugin's render thread safety asks for.
    fn render_guard(&self) -> Option<MutexGuard<'_, ()>> {
        let safety = self
            .effect
            .props
            .str(name(f::kOfxImageEffectPluginRenderThreadSafety))
            .unwrap_or_default();
        if safety == name(f::kOfxImageEffectRenderUnsafe) {
            Some(lock(&self.plugin.render_lock))
        } else if safety == name(f::kOfxImageEffectRenderInstanceSafe) {
            Some(lock(&self.effect.render_lock))
        } else {
            None
        }
    }

    /// Runs `kOfxImageEffectActionRender` for `window` (pixels at `scale`)
    /// into `output`, whose bounds must contain the window and whose format
    /// must be the negotiated output format. Violations found (writes outside
    /// the window, leaked images ...) are recorded.
    pub fn render(
        &self,
        time: f64,
        scale: (f64, f64),
        window: OfxRectI,
        output: &mut Image,
    ) -> Result<(), HostError> {
        let prefs = self.current_prefs().output();
        if Some(output.depth()) != prefs.depth || Some(output.components()) != prefs.components {
            return Err(HostError::Invalid(format!(
                "output image is {:?} {:?}, the negotiated output format is {:?} {:?}",
                output.depth(),
                output.components(),
                prefs.depth,
                prefs.components
            )));
        }
        if is_empty(window) || !contains(output.bounds(), window) {
            return Err(HostError::Invalid(format!(
                "render window {window:?} is empty or outside the output bounds {:?}",
                output.bounds()
            )));
        }
        let props = &self.effect.props;
        if scale != (1.0, 1.0)
            && props.int(name(f::kOfxImageEffectPropSupportsMultiResolution)) == Some(0)
        {
            return Err(HostError::Invalid(
                "the plugin does not support render scales other than 1".into(),
            ));
        }
        let par = prefs.pixel_aspect;
        let rod = queries::region_of_definition(&self.effect, time, scale)?;
        let output_rod = to_pixels(rod, scale, par);
        if props.int(name(f::kOfxImageEffectPropSupportsTiles)) == Some(0)
            && !same_rect(window, output_rod)
        {
            return Err(HostError::Invalid(
                "the plugin does not support tiles: render its whole region of definition".into(),
            ));
        }
        let rois = queries::regions_of_interest(
            &self.effect,
            time,
            scale,
            to_canonical(window, scale, par),
        )?;
        let ctx = RenderCtx::new(
            RenderSetup {
                time,
                scale,
                window,
                rois,
                output_rod,
                bounds: output.bounds(),
                depth: output.depth(),
                components: output.components(),
                premult: prefs.premult,
                pixel_aspect: par,
            },
            &self.effect,
        );
        let args = Args::input(
            &self.effect.journal,
            "render inArgs",
            &[
                arg::doubles(f::kOfxPropTime, &[time]),
                arg::string(
                    f::kOfxImageEffectPropFieldToRender,
                    name(f::kOfxImageFieldNone),
                ),
                arg::ints(
                    f::kOfxImageEffectPropRenderWindow,
                    &[window.x1, window.y1, window.x2, window.y2],
                ),
                arg::doubles(f::kOfxImageEffectPropRenderScale, &[scale.0, scale.1]),
                arg::ints(f::kOfxImageEffectPropSequentialRenderStatus, &[0]),
                arg::ints(f::kOfxImageEffectPropInteractiveRenderStatus, &[0]),
                arg::ints(f::kOfxImageEffectPropRenderQualityDraft, &[0]),
            ],
        );
        let status = {
            let _guard = self.render_guard();
            self.effect.call(
                f::kOfxImageEffectActionRender,
                Some(&args),
                None,
                Some(ctx.clone()),
            )
        };
        render::reclaim_images(&self.effect, Some(ctx.id));
        let aborted = self.effect.abort.load(Ordering::Relaxed);
        ctx.finish(&self.effect, output, aborted || status != status::OK);
        output.premult = prefs.premult;
        output.pixel_aspect = par;
        match status {
            status::OK => Ok(()),
            _ if aborted => Err(HostError::Aborted),
            s => {
                if s == status::REPLY_DEFAULT {
                    self.effect
                        .journal
                        .violation("render returned kOfxStatReplyDefault");
                }
                Err(HostError::Action {
                    action: name(f::kOfxImageEffectActionRender),
                    status: s,
                })
            }
        }
    }

    /// Renders the whole frame at `time` like a host would: region of
    /// definition, identity check (copying the source), else one render
    /// between begin/end sequence.
    pub fn render_frame(&self, time: f64, scale: (f64, f64)) -> Result<Image, HostError> {
        self.render_tiled(time, scale, None, 1)
    }

    /// Like `render_frame`, but renders tiles of `tile` pixels (all of them
    /// when `None`) from `threads` threads at once, then assembles them.
    pub fn render_tiled(
        &self,
        time: f64,
        scale: (f64, f64),
        tile: Option<(i32, i32)>,
        threads: usize,
    ) -> Result<Image, HostError> {
        let window = self.frame_window(time, scale)?;
        let mut frame = self.new_output_image(window);
        if is_empty(window) {
            return Ok(frame);
        }
        if let Some((clip, at)) = self.is_identity(time, scale, window)? {
            self.copy_identity(&clip, at, scale, &mut frame);
            return Ok(frame);
        }
        let tiles = match tile {
            Some((w, h)) => split(window, w.max(1), h.max(1)),
            None => vec![window],
        };
        let margin = self.effect.config.output_margin.max(0);
        self.begin_sequence((time, time), 1.0, scale)?;
        let rendered = if tiles.len() == 1 && margin == 0 {
            // One tile and no guard band: the plugin writes straight into the frame.
            self.render(time, scale, window, &mut frame)
        } else {
            self.render_tiles(time, scale, &tiles, margin, threads, &mut frame)
        };
        let ended = self.end_sequence((time, time), 1.0, scale);
        rendered?;
        ended?;
        Ok(frame)
    }

    /// Renders `tiles` (each grown by `margin`) from `threads` threads, then
    /// copies them into `frame`.
    fn render_tiles(
        &self,
        time: f64,
        scale: (f64, f64),
        tiles: &[OfxRectI],
        margin: i32,
        threads: usize,
        frame: &mut Image,
    ) -> Result<(), HostError> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<(OfxRectI, Result<Image, HostError>)>> = Mutex::default();
        std::thread::scope(|s| {
            for _ in 0..threads.clamp(1, tiles.len()) {
                s.spawn(|| {
                    while let Some(&t) = tiles.get(next.fetch_add(1, Ordering::SeqCst)) {
                        let mut out = self.new_output_image(grow(t, margin));
                        let result = self.render(time, scale, t, &mut out).map(|()| out);
                        lock(&results).push((t, result));
                    }
                });
            }
        });
        for (tile, result) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
            frame.copy_from(&result?, tile);
        }
        Ok(())
    }

    /// The pixels `render_frame` renders: the region of definition, limited to
    /// the project where it is infinite (a generator's, say).
    fn frame_window(&self, time: f64, scale: (f64, f64)) -> Result<OfxRectI, HostError> {
        const HUGE: f64 = 1e9;
        let mut rod = self.region_of_definition(time, scale)?;
        let p = &self.effect.config.project;
        if rod.x1 <= -HUGE || rod.x2 >= HUGE {
            (rod.x1, rod.x2) = (p.offset.0, p.offset.0 + p.extent.0);
        }
        if rod.y1 <= -HUGE || rod.y2 >= HUGE {
            (rod.y1, rod.y2) = (p.offset.1, p.offset.1 + p.extent.1);
        }
        Ok(to_pixels(rod, scale, self.output_par()))
    }

    /// Fills `frame` from the identity clip at `time`.
    fn copy_identity(&self, clip: &str, time: f64, scale: (f64, f64), frame: &mut Image) {
        let Some(c) = self.effect.clip(clip) else {
            return;
        };
        if let Some(source) = c.frame(time) {
            let scaled = source.scaled(scale);
            frame.copy_from(&scaled, frame.bounds());
        }
    }

    /// `kOfxActionPurgeCaches`.
    pub fn purge_caches(&self) -> Result<(), HostError> {
        match self.effect.call(f::kOfxActionPurgeCaches, None, None, None) {
            status::OK | status::REPLY_DEFAULT => Ok(()),
            s => Err(HostError::Action {
                action: name(f::kOfxActionPurgeCaches),
                status: s,
            }),
        }
    }

    /// `kOfxActionSyncPrivateData`.
    pub fn sync_private_data(&self) -> Result<(), HostError> {
        match self
            .effect
            .call(f::kOfxActionSyncPrivateData, None, None, None)
        {
            status::OK | status::REPLY_DEFAULT => Ok(()),
            s => Err(HostError::Action {
                action: name(f::kOfxActionSyncPrivateData),
                status: s,
            }),
        }
    }

    /// What `abort()` answers the plugin from now on.
    pub fn set_abort(&self, abort: bool) {
        self.effect.abort_at_query.store(0, Ordering::Relaxed);
        self.effect.abort.store(abort, Ordering::Relaxed);
    }

    /// Makes `abort()` answer yes from its `n`-th call on (counting from now):
    /// an abort that arrives mid-render.
    pub fn abort_at_query(&self, n: usize) {
        self.effect.abort_queries.store(0, Ordering::Relaxed);
        self.effect.abort_at_query.store(n, Ordering::Relaxed);
    }

    /// How many times the plugin has called `abort()` since `abort_at_query`.
    pub fn abort_queries(&self) -> usize {
        self.effect.abort_queries.load(Ordering::Relaxed)
    }

    /// The timeline's current time.
    pub fn set_time(&self, time: f64) {
        *self.effect.time.lock().unwrap_or_else(|e| e.into_inner()) = time;
    }

    pub fn messages(&self) -> Vec<Message> {
        self.effect.journal.messages()
    }

    pub fn persistent_message(&self) -> Option<Message> {
        self.effect.journal.persistent_message()
    }

    pub fn progress(&self) -> Vec<ProgressEvent> {
        self.effect.journal.progress_events()
    }

    /// Every protocol violation so far: this instance's, the plugin's
    /// (load/describe) and calls with unknown handles.
    pub fn violations(&self) -> Vec<String> {
        let mut all = self.plugin.journal.violations();
        all.extend(self.effect.journal.violations());
        all.extend(journal::stray().violations());
        all
    }
}

/// Locks a mutex, ignoring poisoning (no data it guards can be left half-updated).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Splits `window` into tiles of at most `w` x `h` pixels.
fn split(window: OfxRectI, w: i32, h: i32) -> Vec<OfxRectI> {
    let mut tiles = Vec::new();
    let mut y = window.y1;
    while y < window.y2 {
        let mut x = window.x1;
        while x < window.x2 {
            tiles.push(images::rect(
                x,
                y,
                (x + w).min(window.x2),
                (y + h).min(window.y2),
            ));
            x += w;
        }
        y += h;
    }
    tiles
}

impl Drop for Instance {
    fn drop(&mut self) {
        let status = self
            .effect
            .call(f::kOfxActionDestroyInstance, None, None, None);
        self.effect.expect_ok(f::kOfxActionDestroyInstance, status);
        render::reclaim_images(&self.effect, None);
        self.effect.scope.revoke();
    }
}
