//! The image effect object behind an `OfxImageEffectHandle`: the plugin
//! descriptor, a per-context descriptor, or an instance.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::actions::{self, MainEntry};
use super::clips::Clip;
use super::config::{Context, HostConfig};
use super::handles::{Object, Scope};
use super::journal::Journal;
use super::params::{Param, ParamKind, ParamSet};
use super::properties::{PropertySet, Value};
use super::render::RenderCtx;
use super::specs::{self, Access, Valid};
use super::status::{self, Status};
use super::strings::name;
use crate::ffi::{self as f, OfxPropertySetHandle};

/// Which of the three kinds of effect handle this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Passed to `kOfxActionDescribe`.
    Descriptor,
    /// Passed to `kOfxImageEffectActionDescribeInContext`.
    InContext(Context),
    Instance(Context),
}

/// An image fetched by the plugin and not released yet.
pub struct LiveImage {
    pub clip: String,
    pub time: f64,
    pub render: Option<u64>,
}

pub struct Effect {
    pub stage: Stage,
    pub plugin_id: String,
    pub props: Arc<PropertySet>,
    pub params: Arc<ParamSet>,
    clips: RwLock<Vec<Arc<Clip>>>,
    pub journal: Arc<Journal>,
    /// Every handle of this effect's objects.
    pub scope: Scope,
    pub entry: MainEntry,
    pub config: Arc<HostConfig>,
    pub abort: AtomicBool,
    /// When non-zero, `abort()` starts answering yes at this query (the artist
    /// pressing Esc mid-render); see `Instance::abort_at_query`.
    pub abort_at_query: AtomicUsize,
    /// How many times the plugin has called `abort()`.
    pub abort_queries: AtomicUsize,
    pub live_images: Mutex<HashMap<usize, LiveImage>>,
    /// Held by renders of an instance-safe plugin.
    pub render_lock: Mutex<()>,
    /// The timeline suite's current time.
    pub time: Mutex<f64>,
    /// Nesting of plugin-triggered `instanceChanged` calls.
    change_depth: AtomicU32,
}

impl Effect {
    fn new(
        stage: Stage,
        plugin_id: &str,
        props: Arc<PropertySet>,
        journal: &Arc<Journal>,
        entry: MainEntry,
        config: &Arc<HostConfig>,
    ) -> Arc<Effect> {
        let label = match stage {
            Stage::Descriptor => "effect descriptor",
            Stage::InContext(_) => "effect context descriptor",
            Stage::Instance(_) => "effect instance",
        };
        let effect = Arc::new(Effect {
            stage,
            plugin_id: plugin_id.to_owned(),
            props,
            params: ParamSet::new(label, journal),
            clips: RwLock::default(),
            journal: journal.clone(),
            scope: Scope::default(),
            entry,
            config: config.clone(),
            abort: AtomicBool::new(false),
            abort_at_query: AtomicUsize::new(0),
            abort_queries: AtomicUsize::new(0),
            live_images: Mutex::default(),
            render_lock: Mutex::new(()),
            time: Mutex::new(config.project.frame_range.0),
            change_depth: AtomicU32::new(0),
        });
        effect.scope.add(Object::Effect(effect.clone()));
        effect.scope.add(Object::Props(effect.props.clone()));
        effect.scope.add(Object::ParamSet(effect.clone()));
        effect.scope.add(Object::Props(effect.params.props.clone()));
        effect
    }

    /// The descriptor handed to `kOfxActionDescribe`.
    pub fn descriptor(
        plugin_id: &str,
        file_path: &str,
        journal: &Arc<Journal>,
        entry: MainEntry,
        config: &Arc<HostConfig>,
    ) -> Arc<Effect> {
        let props =
            PropertySet::from_specs("effect descriptor", journal, &[specs::EFFECT_DESCRIPTOR]);
        props.set_str(name(f::kOfxPluginPropFilePath), file_path);
        props.set_str(name(f::kOfxPropLabel), plugin_id);
        Effect::new(Stage::Descriptor, plugin_id, props, journal, entry, config)
    }

    /// A fresh descriptor for `describeInContext`, starting from the main one.
    pub fn in_context(main: &Effect, context: Context) -> Arc<Effect> {
        let props = PropertySet::new("effect context descriptor", &main.journal);
        props.copy_from(&main.props);
        Effect::new(
            Stage::InContext(context),
            &main.plugin_id,
            props,
            &main.journal,
            main.entry,
            &main.config,
        )
    }

    /// An instance built from a context descriptor; `plugin` is the plugin's
    /// `OfxPlugin` address (`kOfxImageEffectPropPluginHandle`).
    pub fn instance(
        described: &Effect,
        context: Context,
        plugin: usize,
        journal: &Arc<Journal>,
    ) -> Arc<Effect> {
        let props = PropertySet::new("effect instance", journal);
        props.copy_from(&described.props);
        for p in described.props.snapshot().names() {
            if !specs::INSTANCE_WRITABLE.contains(&p) {
                props.set_access(p, Access::Ro);
            }
        }
        props.define_specs(specs::EFFECT_INSTANCE);
        let project = &described.config.project;
        props.set_str(name(f::kOfxImageEffectPropContext), context.ofx_name());
        props.set(
            name(f::kOfxImageEffectPropPluginHandle),
            Value::Pointer(vec![plugin]),
        );
        props.set(
            name(f::kOfxImageEffectPropProjectSize),
            Value::Double(vec![project.size.0, project.size.1]),
        );
        props.set(
            name(f::kOfxImageEffectPropProjectOffset),
            Value::Double(vec![project.offset.0, project.offset.1]),
        );
        props.set(
            name(f::kOfxImageEffectPropProjectExtent),
            Value::Double(vec![project.extent.0, project.extent.1]),
        );
        props.set_double(
            name(f::kOfxImageEffectPropProjectPixelAspectRatio),
            project.pixel_aspect,
        );
        props.set_double(name(f::kOfxImageEffectPropFrameRate), project.frame_rate);
        let duration = project.frame_range.1 - project.frame_range.0 + 1.0;
        props.set_double(name(f::kOfxImageEffectInstancePropEffectDuration), duration);
        props.set_int(
            name(f::kOfxPropIsInteractive),
            (!described.config.is_background) as i32,
        );

        let effect = Effect::new(
            Stage::Instance(context),
            &described.plugin_id,
            props,
            journal,
            described.entry,
            &described.config,
        );
        effect.params.props.copy_from(&described.params.props);
        for clip in described.clips() {
            effect.add_clip(Clip::instance(&clip, journal));
        }
        for param in described.params.all() {
            effect.add_param(Param::instance(&param, journal, &described.config.project));
        }
        effect
    }

    /// The handle value of this effect.
    pub fn handle(&self) -> usize {
        self as *const Effect as usize
    }

    pub fn context(&self) -> Option<Context> {
        match self.stage {
            Stage::Descriptor => None,
            Stage::InContext(c) | Stage::Instance(c) => Some(c),
        }
    }

    pub fn is_instance(&self) -> bool {
        matches!(self.stage, Stage::Instance(_))
    }

    pub fn add_clip(self: &Arc<Self>, clip: Arc<Clip>) {
        self.scope.add(Object::Clip(self.clone(), clip.clone()));
        self.scope.add(Object::Props(clip.props.clone()));
        self.clips
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(clip);
    }

    pub fn add_param(self: &Arc<Self>, param: Arc<Param>) {
        self.scope.add(Object::Param(self.clone(), param.clone()));
        self.scope.add(Object::Props(param.props.clone()));
        self.params.push(param);
    }

    /// Defines a clip in a context descriptor.
    pub fn define_clip(self: &Arc<Self>, clip_name: &str) -> Arc<Clip> {
        let clip = Clip::descriptor(clip_name, &self.journal);
        self.add_clip(clip.clone());
        clip
    }

    pub fn define_param(self: &Arc<Self>, kind: ParamKind, param_name: &str) -> Arc<Param> {
        let param = Param::descriptor(kind, param_name, &self.journal);
        self.add_param(param.clone());
        param
    }

    pub fn clip(&self, clip_name: &str) -> Option<Arc<Clip>> {
        self.clips
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|c| c.name == clip_name)
            .cloned()
    }

    pub fn clips(&self) -> Vec<Arc<Clip>> {
        self.clips.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs an action on this effect.
    pub fn call(
        &self,
        action: &'static [u8],
        in_args: Option<&Args>,
        out_args: Option<&Args>,
        render: Option<Arc<RenderCtx>>,
    ) -> Status {
        let handle = |a: Option<&Args>| a.map_or(std::ptr::null_mut(), |a| a.handle);
        actions::call(
            self.entry,
            action,
            self.handle() as *const c_void,
            handle(in_args),
            handle(out_args),
            render,
        )
    }

    /// Sends the begin / instanceChanged / end sequence for a change of a
    /// parameter (`kOfxTypeParameter`) or clip (`kOfxTypeClip`). Returns the
    /// status of `kOfxActionInstanceChanged`.
    pub fn instance_changed(
        &self,
        what: &'static [u8],
        object: &str,
        reason: &'static [u8],
        time: f64,
    ) -> Status {
        let why = Args::input(
            &self.journal,
            "instance changed inArgs",
            &[arg::string(f::kOfxPropChangeReason, name(reason))],
        );
        let args = Args::input(
            &self.journal,
            "instance changed inArgs",
            &[
                arg::string(f::kOfxPropType, name(what)),
                arg::string(f::kOfxPropName, object),
                arg::string(f::kOfxPropChangeReason, name(reason)),
                arg::doubles(f::kOfxPropTime, &[time]),
                arg::doubles(f::kOfxImageEffectPropRenderScale, &[1.0, 1.0]),
            ],
        );
        self.expect_ok(
            f::kOfxActionBeginInstanceChanged,
            self.call(f::kOfxActionBeginInstanceChanged, Some(&why), None, None),
        );
        let status = self.call(f::kOfxActionInstanceChanged, Some(&args), None, None);
        self.expect_ok(
            f::kOfxActionEndInstanceChanged,
            self.call(f::kOfxActionEndInstanceChanged, Some(&why), None, None),
        );
        status
    }

    /// A parameter changed by the plugin itself: tell it, as OFX hosts do,
    /// without letting a plugin that reacts by changing it again loop forever.
    pub fn plugin_changed_param(&self, param: &str, time: f64) {
        const MAX_DEPTH: u32 = 8;
        if self.change_depth.fetch_add(1, Ordering::SeqCst) >= MAX_DEPTH {
            self.journal.violation(format!(
                "parameter '{param}' set from instanceChanged more than {MAX_DEPTH} levels deep"
            ));
        } else {
            let status =
                self.instance_changed(f::kOfxTypeParameter, param, f::kOfxChangePluginEdited, time);
            self.expect_ok(f::kOfxActionInstanceChanged, status);
        }
        self.change_depth.fetch_sub(1, Ordering::SeqCst);
    }

    /// Records a violation when an action that cannot meaningfully fail did.
    pub fn expect_ok(&self, action: &'static [u8], status: Status) {
        if status != status::OK && status != status::REPLY_DEFAULT {
            self.journal.violation(format!(
                "{} returned {}",
                name(action),
                status::describe(status)
            ));
        }
    }
}

/// Entries of action argument sets.
pub mod arg {
    use crate::host::properties::Value;
    use crate::host::strings::name;

    /// A property name and its value.
    pub type Entry = (&'static str, Value);

    pub fn doubles(key: &'static [u8], v: &[f64]) -> Entry {
        (name(key), Value::Double(v.to_vec()))
    }

    pub fn ints(key: &'static [u8], v: &[i32]) -> Entry {
        (name(key), Value::Int(v.to_vec()))
    }

    pub fn string(key: &'static [u8], v: &str) -> Entry {
        (name(key), Value::string(v))
    }
}

/// Action arguments: a property set registered for the duration of one call.
pub struct Args {
    pub props: Arc<PropertySet>,
    pub handle: OfxPropertySetHandle,
    _scope: Scope,
}

impl Args {
    fn build(
        journal: &Arc<Journal>,
        label: &str,
        entries: &[(&str, Value)],
        access: Access,
    ) -> Args {
        let props = PropertySet::new(label, journal);
        for (key, value) in entries {
            let dim = match value {
                Value::Int(v) => v.len(),
                Value::Double(v) => v.len(),
                Value::String(v) => v.len(),
                Value::Pointer(v) => v.len(),
            };
            props.define(key, value.clone(), dim, access, Valid::Any);
        }
        let scope = Scope::default();
        let handle = scope.add_props(&props);
        Args {
            props,
            handle,
            _scope: scope,
        }
    }

    /// Read-only `inArgs`.
    pub fn input(journal: &Arc<Journal>, label: &str, entries: &[(&str, Value)]) -> Args {
        Args::build(journal, label, entries, Access::Ro)
    }

    /// Writable `outArgs` holding their defaults.
    pub fn output(journal: &Arc<Journal>, label: &str, entries: &[(&str, Value)]) -> Args {
        Args::build(journal, label, entries, Access::Rw)
    }

    /// Adds one writable entry with its own dimension (0: variable) and constraint.
    pub fn define(&self, key: &str, value: Value, dim: usize, valid: Valid) {
        self.props.define(key, value, dim, Access::Rw, valid);
    }
}
