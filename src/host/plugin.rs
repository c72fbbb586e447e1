//! A loaded plugin: `setHost`, load, describe, describe in context, and the
//! instances made from it. Unloaded when the last user is gone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use super::actions::MainEntry;
use super::clips::ClipDesc;
use super::config::{Context, HostConfig};
use super::effect::{arg, Args, Effect};
use super::error::HostError;
use super::handles::{Object, Scope};
use super::images::BitDepth;
use super::instance::Instance;
use super::journal::{self, Journal, Message};
use super::params::{ParamDesc, ParamKind, ParamValue};
use super::properties::Props;
use super::status;
use super::strings::name;
use super::suites::{self, HostRecord};
use crate::ffi::{self as f, OfxHost, OfxPropertySetHandle};

/// What a loaded plugin shares with its instances.
pub(crate) struct PluginCore {
    pub id: String,
    pub version: (u32, u32),
    /// Address of the plugin's `OfxPlugin` (`kOfxImageEffectPropPluginHandle`).
    pub raw_plugin: usize,
    pub entry: MainEntry,
    pub config: Arc<HostConfig>,
    pub journal: Arc<Journal>,
    pub descriptor: Arc<Effect>,
    descriptor_props: Props,
    contexts: Mutex<HashMap<Context, Arc<Effect>>>,
    /// Serialises renders of a plugin that is not thread safe.
    pub render_lock: Mutex<()>,
    instances: AtomicUsize,
    /// Keeps the binary loaded.
    _library: Arc<dyn Send + Sync>,
    /// Dropped after kOfxActionUnload: lets the next load of this plugin go on.
    _claim: Claim,
}

impl Drop for PluginCore {
    fn drop(&mut self) {
        for effect in self
            .contexts
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            effect.scope.revoke();
        }
        let status = super::actions::call(
            self.entry,
            f::kOfxActionUnload,
            std::ptr::null(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            None,
        );
        self.descriptor.expect_ok(f::kOfxActionUnload, status);
        self.descriptor.scope.revoke();
    }
}

/// A plugin that has been loaded and described.
pub struct Plugin {
    core: Arc<PluginCore>,
}

/// Everything needed to bring up one plugin of a binary.
pub(crate) struct Loadable {
    pub id: String,
    pub version: (u32, u32),
    pub raw_plugin: usize,
    pub set_host: unsafe extern "C" fn(*mut OfxHost),
    pub entry: MainEntry,
    pub file_path: String,
    pub library: Arc<dyn Send + Sync>,
}

/// The plugins of one binary loaded in this process, and the configuration
/// they were loaded with. A binary's globals (its `OfxHost` pointer, its
/// suites) exist once per process and are often shared by all its plugins, so
/// a binary serves one host configuration at a time: a load with the same
/// configuration shares or joins it, one with another configuration waits
/// until all its plugins are unloaded.
struct Binary {
    config: HostConfig,
    /// Per plugin identifier; a dead `Weak` while that plugin is loading.
    plugins: HashMap<String, Weak<PluginCore>>,
}

struct Loaded {
    binaries: Mutex<HashMap<PathBuf, Binary>>,
    changed: Condvar,
}

static LOADED: LazyLock<Loaded> = LazyLock::new(|| Loaded {
    binaries: Mutex::default(),
    changed: Condvar::new(),
});

fn loaded() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Binary>> {
    LOADED.binaries.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long a load waits for loads with another configuration to end.
const LOAD_WAIT: Duration = Duration::from_secs(600);

/// A plugin's entry in `LOADED`, held from the start of its load to the end of
/// its unload.
pub(crate) struct Claim {
    binary: PathBuf,
    id: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut loaded = loaded();
        if let Some(b) = loaded.get_mut(&self.binary) {
            b.plugins.remove(&self.id);
            if b.plugins.is_empty() {
                loaded.remove(&self.binary);
            }
        }
        LOADED.changed.notify_all();
    }
}

/// Loads `plugin` of `binary` with `config`, or shares a live load of it with
/// the same configuration.
pub(crate) fn load_shared(
    binary: &Path,
    plugin: Loadable,
    config: HostConfig,
) -> Result<Plugin, HostError> {
    let binary = std::fs::canonicalize(binary).unwrap_or_else(|_| binary.to_path_buf());
    let deadline = Instant::now() + LOAD_WAIT;
    let mut guard = loaded();
    loop {
        match guard.get_mut(&binary) {
            None => {
                let plugins = HashMap::from([(plugin.id.clone(), Weak::new())]);
                guard.insert(
                    binary.clone(),
                    Binary {
                        config: config.clone(),
                        plugins,
                    },
                );
                break;
            }
            Some(b) if b.config == config => match b.plugins.get(&plugin.id) {
                None => {
                    b.plugins.insert(plugin.id.clone(), Weak::new());
                    break;
                }
                Some(entry) => {
                    if let Some(core) = entry.upgrade() {
                        return Ok(Plugin { core });
                    }
                }
            },
            Some(_) => {}
        }
        // Being loaded or unloaded, or loaded with another configuration.
        if Instant::now() >= deadline {
            return Err(HostError::Invalid(format!(
                "{} is loaded with another HostConfig; drop its Plugins and Instances first",
                binary.display()
            )));
        }
        guard = LOADED
            .changed
            .wait_timeout(guard, Duration::from_millis(50))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    drop(guard);
    let claim = Claim {
        binary: binary.clone(),
        id: plugin.id.clone(),
    };
    let plugin = Plugin::load(plugin, config, claim)?;
    if let Some(b) = loaded().get_mut(&binary) {
        b.plugins
            .insert(plugin.core.id.clone(), Arc::downgrade(&plugin.core));
    }
    LOADED.changed.notify_all();
    Ok(plugin)
}

/// Host handles live for the whole process: a plugin may keep the `OfxHost`
/// pointer in a global after it is unloaded, or share it between the plugins of
/// one binary.
static HOSTS: LazyLock<Scope> = LazyLock::new(Scope::default);

impl Plugin {
    /// setHost, kOfxActionLoad, kOfxActionDescribe.
    fn load(plugin: Loadable, config: HostConfig, claim: Claim) -> Result<Plugin, HostError> {
        suites::install_shims();
        let config = Arc::new(config);
        let journal = Journal::new(plugin.id.clone());
        let record = HostRecord::new(&config, &journal);
        let handle = HOSTS.add(Object::Host(record)) as OfxPropertySetHandle;
        let host: &'static mut OfxHost = Box::leak(Box::new(HostRecord::ofx_host(handle)));
        // SAFETY: the plugin's own setHost with a host struct that is never freed.
        unsafe { (plugin.set_host)(host) };

        let status = super::actions::call(
            plugin.entry,
            f::kOfxActionLoad,
            std::ptr::null(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            None,
        );
        if status != status::OK && status != status::REPLY_DEFAULT {
            return Err(HostError::Action {
                action: name(f::kOfxActionLoad),
                status,
            });
        }
        let descriptor = Effect::descriptor(
            &plugin.id,
            &plugin.file_path,
            &journal,
            plugin.entry,
            &config,
        );
        let mut core = PluginCore {
            id: plugin.id,
            version: plugin.version,
            raw_plugin: plugin.raw_plugin,
            entry: plugin.entry,
            config,
            journal,
            descriptor: descriptor.clone(),
            descriptor_props: Props::default(),
            contexts: Mutex::default(),
            render_lock: Mutex::new(()),
            instances: AtomicUsize::new(0),
            _library: plugin.library,
            _claim: claim,
        };
        // From here on, dropping `core` sends kOfxActionUnload.
        let status = descriptor.call(f::kOfxActionDescribe, None, None, None);
        if status != status::OK && status != status::REPLY_DEFAULT {
            return Err(HostError::Action {
                action: name(f::kOfxActionDescribe),
                status,
            });
        }
        core.descriptor_props = descriptor.props.snapshot();
        let plugin = Plugin {
            core: Arc::new(core),
        };
        plugin.check_descriptor();
        Ok(plugin)
    }

    fn check_descriptor(&self) {
        let j = &self.core.journal;
        if self.supported_contexts().is_empty() {
            j.violation("describe: no supported context (kOfxImageEffectPropSupportedContexts)");
        }
        if self.supported_depths().is_empty() {
            j.violation(
                "describe: no supported pixel depth (kOfxImageEffectPropSupportedPixelDepths)",
            );
        }
    }

    pub fn id(&self) -> &str {
        &self.core.id
    }

    pub fn version(&self) -> (u32, u32) {
        self.core.version
    }

    pub fn config(&self) -> &HostConfig {
        &self.core.config
    }

    /// The plugin descriptor as `kOfxActionDescribe` left it.
    pub fn descriptor(&self) -> &Props {
        &self.core.descriptor_props
    }

    pub fn label(&self) -> &str {
        self.descriptor().str(name(f::kOfxPropLabel)).unwrap_or("")
    }

    pub fn grouping(&self) -> &str {
        self.descriptor()
            .str(name(f::kOfxImageEffectPluginPropGrouping))
            .unwrap_or("")
    }

    pub fn supported_contexts(&self) -> Vec<Context> {
        let key = name(f::kOfxImageEffectPropSupportedContexts);
        self.descriptor()
            .strs(key)
            .iter()
            .filter_map(|s| Context::from_ofx(s))
            .collect()
    }

    pub fn supported_depths(&self) -> Vec<BitDepth> {
        let key = name(f::kOfxImageEffectPropSupportedPixelDepths);
        self.descriptor()
            .strs(key)
            .iter()
            .filter_map(|s| BitDepth::from_ofx(s))
            .collect()
    }

    pub fn render_thread_safety(&self) -> &str {
        self.descriptor()
            .str(name(f::kOfxImageEffectPluginRenderThreadSafety))
            .unwrap_or("")
    }

    pub fn supports_tiles(&self) -> bool {
        self.descriptor()
            .flag(name(f::kOfxImageEffectPropSupportsTiles))
            .unwrap_or(true)
    }

    pub fn supports_multi_resolution(&self) -> bool {
        self.descriptor()
            .flag(name(f::kOfxImageEffectPropSupportsMultiResolution))
            .unwrap_or(true)
    }

    pub fn temporal_clip_access(&self) -> bool {
        self.descriptor()
            .flag(name(f::kOfxImageEffectPropTemporalClipAccess))
            .unwrap_or(false)
    }

    /// The context descriptor, running `describeInContext` the first time.
    fn described(&self, context: Context) -> Result<Arc<Effect>, HostError> {
        let mut contexts = self.core.contexts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(effect) = contexts.get(&context) {
            return Ok(effect.clone());
        }
        if !self.supported_contexts().contains(&context)
            || !self.core.config.contexts.contains(&context)
        {
            return Err(HostError::UnsupportedContext(context.ofx_name().into()));
        }
        let effect = Effect::in_context(&self.core.descriptor, context);
        let args = Args::input(
            &self.core.journal,
            "describeInContext inArgs",
            &[arg::string(
                f::kOfxImageEffectPropContext,
                context.ofx_name(),
            )],
        );
        let action = f::kOfxImageEffectActionDescribeInContext;
        let status = effect.call(action, Some(&args), None, None);
        if status != status::OK && status != status::REPLY_DEFAULT {
            effect.scope.revoke();
            return Err(HostError::Action {
                action: name(action),
                status,
            });
        }
        check_context(&effect, context);
        contexts.insert(context, effect.clone());
        Ok(effect)
    }

    /// Runs `describeInContext` (once per context) and returns what it defined.
    pub fn describe_in_context(&self, context: Context) -> Result<ContextDescription, HostError> {
        let effect = self.described(context)?;
        Ok(ContextDescription {
            context,
            props: effect.props.snapshot(),
            clips: effect.clips().iter().map(|c| c.desc()).collect(),
            params: effect.params.all().iter().map(|p| p.desc()).collect(),
        })
    }

    /// Creates an instance (`kOfxActionCreateInstance`) in `context`.
    pub fn create_instance(&self, context: Context) -> Result<Instance, HostError> {
        let described = self.described(context)?;
        let number = self.core.instances.fetch_add(1, Ordering::SeqCst) + 1;
        Instance::create(self.core.clone(), &described, context, number)
    }

    /// Violations of load / describe time, and of unknown handles.
    pub fn violations(&self) -> Vec<String> {
        let mut all = self.core.journal.violations();
        all.extend(journal::stray().violations());
        all
    }

    /// Messages sent outside any instance.
    pub fn messages(&self) -> Vec<Message> {
        self.core.journal.messages()
    }
}

/// Checks what OFX requires of each context's clips and parameters.
fn check_context(effect: &Effect, context: Context) {
    let j = &effect.journal;
    let what = format!("describeInContext({})", context.ofx_name());
    let clip_names: Vec<String> = effect.clips().iter().map(|c| c.name.clone()).collect();
    let required: &[&[u8]] = match context {
        Context::Filter | Context::Paint | Context::Retimer => {
            &[f::kOfxImageEffectSimpleSourceClipName]
        }
        Context::Transition => &[
            f::kOfxImageEffectTransitionSourceFromClipName,
            f::kOfxImageEffectTransitionSourceToClipName,
        ],
        Context::General | Context::Generator => &[],
    };
    for clip in
        std::iter::once(f::kOfxImageEffectOutputClipName.as_slice()).chain(required.iter().copied())
    {
        if !clip_names.iter().any(|c| c == name(clip)) {
            j.violation(format!(
                "{what}: mandatory clip '{}' not defined",
                name(clip)
            ));
        }
    }
    for clip in effect.clips() {
        let d = clip.desc();
        if d.supported_components().is_empty() {
            j.violation(format!(
                "{what}: clip '{}' supports no components",
                clip.name
            ));
        }
        if clip.is_output() && d.optional() {
            j.violation(format!("{what}: the output clip cannot be optional"));
        }
    }
    let params = effect.params.all();
    let kind_of = |n: &str| params.iter().find(|p| p.name == n).map(|p| p.kind);
    let mandatory_param = match context {
        Context::Transition => Some(name(f::kOfxImageEffectTransitionParamName)),
        Context::Retimer => Some(name(f::kOfxImageEffectRetimerParamName)),
        _ => None,
    };
    if let Some(p) = mandatory_param {
        if kind_of(p) != Some(ParamKind::Double) {
            j.violation(format!(
                "{what}: mandatory double parameter '{p}' not defined"
            ));
        }
    }
    for param in &params {
        let d = param.desc();
        let parent = d.parent();
        if !parent.is_empty() && kind_of(parent) != Some(ParamKind::Group) {
            j.violation(format!(
                "{what}: parameter '{}' has parent '{parent}', which is not a group",
                d.name
            ));
        }
        for child in d.page_children() {
            if kind_of(child).is_none() && !child.starts_with("OfxParamPage") {
                j.violation(format!(
                    "{what}: page '{}' lists unknown parameter '{child}'",
                    d.name
                ));
            }
        }
        match d.default_value() {
            Some(ParamValue::Choice(i)) if i < 0 || i as usize >= d.options().len() => {
                j.violation(format!(
                    "{what}: choice '{}' default {i} outside its {} options",
                    d.name,
                    d.options().len()
                ));
            }
            Some(v) => {
                let (lo, hi) = (d.min(), d.max());
                let values: Vec<f64> = if v.doubles().is_empty() {
                    v.ints().iter().map(|&i| i as f64).collect()
                } else {
                    v.doubles()
                };
                for (i, x) in values.iter().enumerate() {
                    if lo.get(i).is_some_and(|l| x < l) || hi.get(i).is_some_and(|h| x > h) {
                        j.violation(format!(
                            "{what}: default of '{}' outside [min, max]",
                            d.name
                        ));
                    }
                }
            }
            None => {}
        }
    }
}

/// What `describeInContext` defined.
#[derive(Clone, Debug)]
pub struct ContextDescription {
    pub context: Context,
    /// The effect descriptor's properties for this context.
    pub props: Props,
    pub clips: Vec<ClipDesc>,
    pub params: Vec<ParamDesc>,
}

impl ContextDescription {
    pub fn clip(&self, clip: &str) -> Option<&ClipDesc> {
        self.clips.iter().find(|c| c.name == clip)
    }

    pub fn param(&self, param: &str) -> Option<&ParamDesc> {
        self.params.iter().find(|p| p.name == param)
    }
}
