//! Clips: their descriptors and instances, what feeds an input clip, and the
//! preferences (depth, components, premultiplication) negotiated with the plugin.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use super::images::{BitDepth, Components, Image, Premult};
use super::journal::Journal;
use super::properties::{PropertySet, Props};
use super::specs::{self, Access};
use super::strings::name;
use crate::ffi::{self as f, OfxRectD};

/// Produces the full-resolution frame of an input at a time (`None`: no frame).
pub type FrameSource = Arc<dyn Fn(f64) -> Option<Image> + Send + Sync>;

/// What an input clip is connected to.
#[derive(Clone)]
pub enum ClipSource {
    /// The same image at every time.
    Still(Arc<Image>),
    /// A sequence over a frame range.
    Frames {
        range: (f64, f64),
        source: FrameSource,
    },
}

impl ClipSource {
    pub fn still(image: Image) -> ClipSource {
        ClipSource::Still(Arc::new(image))
    }

    /// Connected, but with no image at any time: `clipGetImage` fails, as some
    /// hosts do for an optional input they report as connected.
    pub fn unavailable() -> ClipSource {
        ClipSource::frames((f64::MIN, f64::MAX), |_| None)
    }

    pub fn frames(
        range: (f64, f64),
        source: impl Fn(f64) -> Option<Image> + Send + Sync + 'static,
    ) -> ClipSource {
        ClipSource::Frames {
            range,
            source: Arc::new(source),
        }
    }

    fn frame(&self, time: f64) -> Option<Arc<Image>> {
        match self {
            ClipSource::Still(image) => Some(image.clone()),
            ClipSource::Frames { source, .. } => source(time).map(Arc::new),
        }
    }
}

const CACHED_FRAMES: usize = 8;

/// A clip descriptor or instance.
pub struct Clip {
    pub name: String,
    pub props: Arc<PropertySet>,
    source: RwLock<Option<ClipSource>>,
    /// Recently produced frames, by time bits.
    cache: Mutex<Vec<(u64, Option<Arc<Image>>)>>,
}

impl Clip {
    pub fn descriptor(clip_name: &str, journal: &Arc<Journal>) -> Arc<Clip> {
        let props = PropertySet::from_specs(
            format!("clip '{clip_name}' descriptor"),
            journal,
            &[specs::CLIP_DESCRIPTOR],
        );
        for key in [
            f::kOfxPropName.as_slice(),
            f::kOfxPropLabel,
            f::kOfxPropShortLabel,
            f::kOfxPropLongLabel,
        ] {
            props.set_str(name(key), clip_name);
        }
        Arc::new(Clip {
            name: clip_name.to_owned(),
            props,
            source: RwLock::default(),
            cache: Mutex::default(),
        })
    }

    pub fn instance(descriptor: &Clip, journal: &Arc<Journal>) -> Arc<Clip> {
        let props = PropertySet::new(format!("clip '{}'", descriptor.name), journal);
        props.copy_from(&descriptor.props);
        for p in descriptor.props.snapshot().names() {
            props.set_access(p, Access::Ro);
        }
        props.define_specs(specs::CLIP_INSTANCE);
        Arc::new(Clip {
            name: descriptor.name.clone(),
            props,
            source: RwLock::default(),
            cache: Mutex::default(),
        })
    }

    pub fn is_output(&self) -> bool {
        self.name == name(f::kOfxImageEffectOutputClipName)
    }

    pub fn source(&self) -> Option<ClipSource> {
        self.source
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn connect(&self, source: Option<ClipSource>) {
        *self.source.write().unwrap_or_else(|e| e.into_inner()) = source;
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn connected(&self) -> bool {
        self.source
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// The full-resolution frame at `time` (cached).
    pub fn frame(&self, time: f64) -> Option<Arc<Image>> {
        let key = time.to_bits();
        if let Some((_, hit)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(k, _)| *k == key)
        {
            return hit.clone();
        }
        let frame = self.source()?.frame(time);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() == CACHED_FRAMES {
            cache.remove(0);
        }
        cache.push((key, frame.clone()));
        frame
    }

    /// Frame range of the source (the project's for a still).
    pub fn frame_range(&self, project: (f64, f64)) -> (f64, f64) {
        match self.source() {
            Some(ClipSource::Frames { range, .. }) => range,
            _ => project,
        }
    }

    /// Canonical region of definition of the input at `time`; empty when there
    /// is no frame.
    pub fn region_of_definition(&self, time: f64) -> OfxRectD {
        match self.frame(time) {
            Some(image) => {
                super::images::to_canonical(image.bounds(), (1.0, 1.0), image.pixel_aspect)
            }
            None => OfxRectD::default(),
        }
    }

    /// Components / depth / premultiplication in effect for this clip.
    pub fn pref(&self) -> ClipPref {
        let p = &self.props;
        ClipPref {
            depth: p
                .str(name(f::kOfxImageEffectPropPixelDepth))
                .and_then(|s| BitDepth::from_ofx(&s)),
            components: p
                .str(name(f::kOfxImageEffectPropComponents))
                .and_then(|s| Components::from_ofx(&s)),
            premult: p
                .str(name(f::kOfxImageEffectPropPreMultiplication))
                .and_then(|s| Premult::from_ofx(&s))
                .unwrap_or(Premult::Opaque),
            pixel_aspect: p
                .double(name(f::kOfxImagePropPixelAspectRatio))
                .unwrap_or(1.0),
        }
    }

    pub fn desc(&self) -> ClipDesc {
        ClipDesc {
            name: self.name.clone(),
            props: self.props.snapshot(),
        }
    }
}

/// A described clip, as the plugin defined it.
#[derive(Clone, Debug)]
pub struct ClipDesc {
    pub name: String,
    pub props: Props,
}

impl ClipDesc {
    pub fn supported_components(&self) -> Vec<Components> {
        let key = name(f::kOfxImageEffectPropSupportedComponents);
        self.props
            .strs(key)
            .iter()
            .filter_map(|s| Components::from_ofx(s))
            .collect()
    }

    pub fn optional(&self) -> bool {
        self.props
            .flag(name(f::kOfxImageClipPropOptional))
            .unwrap_or(false)
    }

    pub fn is_mask(&self) -> bool {
        self.props
            .flag(name(f::kOfxImageClipPropIsMask))
            .unwrap_or(false)
    }

    pub fn temporal_access(&self) -> bool {
        self.props
            .flag(name(f::kOfxImageEffectPropTemporalClipAccess))
            .unwrap_or(false)
    }

    pub fn supports_tiles(&self) -> bool {
        self.props
            .flag(name(f::kOfxImageEffectPropSupportsTiles))
            .unwrap_or(true)
    }

    pub fn label(&self) -> &str {
        self.props.str(name(f::kOfxPropLabel)).unwrap_or("")
    }
}

/// The format of one clip after the clip-preferences negotiation. `depth` and
/// `components` are `None` for an unconnected input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipPref {
    pub depth: Option<BitDepth>,
    pub components: Option<Components>,
    pub premult: Premult,
    pub pixel_aspect: f64,
}

/// Result of `kOfxImageEffectActionGetClipPreferences` as applied by the host.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipPreferences {
    pub clips: BTreeMap<String, ClipPref>,
    /// Output frame rate.
    pub frame_rate: f64,
    pub field_order: String,
    pub continuous_samples: bool,
    pub frame_varying: bool,
}

impl ClipPreferences {
    /// The output clip's format (all `None` if the plugin defined no output).
    pub fn output(&self) -> ClipPref {
        self.clips
            .get(name(f::kOfxImageEffectOutputClipName))
            .copied()
            .unwrap_or(ClipPref {
                depth: None,
                components: None,
                premult: Premult::Opaque,
                pixel_aspect: 1.0,
            })
    }
}
