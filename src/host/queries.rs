//! The questions a host asks an instance before rendering: regions of
//! definition and interest, frames needed, identity, time domain and clip
//! preferences, each with the OFX default when the plugin does not answer.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::clips::{Clip, ClipPref, ClipPreferences};
use super::effect::{arg, Args, Effect};
use super::error::HostError;
use super::images::{BitDepth, Components, Premult};
use super::properties::Value;
use super::specs::{Valid, COMPONENTS, DEPTHS, PREMULTS};
use super::status::{self, Status};
use super::strings::name;
use crate::ffi::{self as f, OfxRectD, OfxRectI};

/// OK and "do the default" are the answers that let the host go on.
pub(super) fn check(action: &'static [u8], status: Status) -> Result<bool, HostError> {
    match status {
        status::OK => Ok(true),
        status::REPLY_DEFAULT => Ok(false),
        s => Err(HostError::Action {
            action: name(action),
            status: s,
        }),
    }
}

fn rect_value(r: OfxRectD) -> Value {
    Value::Double(vec![r.x1, r.y1, r.x2, r.y2])
}

fn rect_from(v: &[f64]) -> OfxRectD {
    OfxRectD {
        x1: v[0],
        y1: v[1],
        x2: v[2],
        y2: v[3],
    }
}

fn union(a: Option<OfxRectD>, b: OfxRectD) -> OfxRectD {
    match a {
        None => b,
        Some(a) => OfxRectD {
            x1: a.x1.min(b.x1),
            y1: a.y1.min(b.y1),
            x2: a.x2.max(b.x2),
            y2: a.y2.max(b.y2),
        },
    }
}

/// Input clips (not the output), in definition order.
pub fn inputs(effect: &Effect) -> Vec<Arc<Clip>> {
    effect
        .clips()
        .into_iter()
        .filter(|c| !c.is_output())
        .collect()
}

/// The OFX default region of definition: the union of the connected inputs
/// (masks excluded), or the project for a generator.
fn default_rod(effect: &Effect, time: f64) -> OfxRectD {
    let mask = name(f::kOfxImageClipPropIsMask);
    let rod = inputs(effect)
        .iter()
        .filter(|c| c.connected() && c.props.int(mask) != Some(1))
        .fold(None, |acc, c| {
            Some(union(acc, c.region_of_definition(time)))
        });
    rod.unwrap_or_else(|| {
        let p = &effect.config.project;
        OfxRectD {
            x1: p.offset.0,
            y1: p.offset.1,
            x2: p.offset.0 + p.extent.0,
            y2: p.offset.1 + p.extent.1,
        }
    })
}

fn time_scale(time: f64, scale: (f64, f64)) -> [(&'static str, Value); 2] {
    [
        arg::doubles(f::kOfxPropTime, &[time]),
        arg::doubles(f::kOfxImageEffectPropRenderScale, &[scale.0, scale.1]),
    ]
}

/// `kOfxImageEffectActionGetRegionOfDefinition` (canonical coordinates).
pub fn region_of_definition(
    effect: &Effect,
    time: f64,
    scale: (f64, f64),
) -> Result<OfxRectD, HostError> {
    let j = &effect.journal;
    let default = default_rod(effect, time);
    let input = Args::input(j, "getRegionOfDefinition inArgs", &time_scale(time, scale));
    let key = name(f::kOfxImageEffectPropRegionOfDefinition);
    let output = Args::output(
        j,
        "getRegionOfDefinition outArgs",
        &[(key, rect_value(default))],
    );
    let action = f::kOfxImageEffectActionGetRegionOfDefinition;
    if !check(
        action,
        effect.call(action, Some(&input), Some(&output), None),
    )? {
        return Ok(default);
    }
    let rod = rect_from(&output.props.doubles(key));
    if ![rod.x1, rod.y1, rod.x2, rod.y2]
        .iter()
        .all(|v| v.is_finite())
        || rod.x2 < rod.x1
        || rod.y2 < rod.y1
    {
        j.violation(format!(
            "getRegionOfDefinition returned an invalid rectangle {rod:?}"
        ));
    }
    Ok(rod)
}

/// `kOfxImageEffectActionGetRegionsOfInterest`: canonical RoI per input clip.
pub fn regions_of_interest(
    effect: &Effect,
    time: f64,
    scale: (f64, f64),
    window: OfxRectD,
) -> Result<HashMap<String, OfxRectD>, HostError> {
    let j = &effect.journal;
    let [t, s] = time_scale(time, scale);
    let input = Args::input(
        j,
        "getRegionsOfInterest inArgs",
        &[
            t,
            s,
            (
                name(f::kOfxImageEffectPropRegionOfInterest),
                rect_value(window),
            ),
        ],
    );
    let output = Args::output(j, "getRegionsOfInterest outArgs", &[]);
    let clips = inputs(effect);
    for clip in &clips {
        output.define(
            &format!("OfxImageClipPropRoI_{}", clip.name),
            rect_value(window),
            4,
            Valid::Any,
        );
    }
    let action = f::kOfxImageEffectActionGetRegionsOfInterest;
    let answered = check(
        action,
        effect.call(action, Some(&input), Some(&output), None),
    )?;
    Ok(clips
        .iter()
        .map(|c| {
            let roi = if answered {
                rect_from(
                    &output
                        .props
                        .doubles(&format!("OfxImageClipPropRoI_{}", c.name)),
                )
            } else {
                window
            };
            (c.name.clone(), roi)
        })
        .collect())
}

/// `kOfxImageEffectActionGetFramesNeeded`: frame ranges per input clip. Only
/// asked of effects with temporal clip access; otherwise each input needs `time`.
pub fn frames_needed(
    effect: &Effect,
    time: f64,
) -> Result<HashMap<String, Vec<(f64, f64)>>, HostError> {
    let clips = inputs(effect);
    let default = || {
        clips
            .iter()
            .map(|c| (c.name.clone(), vec![(time, time)]))
            .collect()
    };
    if effect
        .props
        .int(name(f::kOfxImageEffectPropTemporalClipAccess))
        != Some(1)
    {
        return Ok(default());
    }
    let j = &effect.journal;
    let input = Args::input(
        j,
        "getFramesNeeded inArgs",
        &[arg::doubles(f::kOfxPropTime, &[time])],
    );
    let output = Args::output(j, "getFramesNeeded outArgs", &[]);
    for clip in &clips {
        output.define(
            &format!("OfxImageClipPropFrameRange_{}", clip.name),
            Value::Double(vec![time, time]),
            0,
            Valid::Any,
        );
    }
    let action = f::kOfxImageEffectActionGetFramesNeeded;
    if !check(
        action,
        effect.call(action, Some(&input), Some(&output), None),
    )? {
        return Ok(default());
    }
    let mut needed = HashMap::new();
    for clip in &clips {
        let v = output
            .props
            .doubles(&format!("OfxImageClipPropFrameRange_{}", clip.name));
        if !v.len().is_multiple_of(2) {
            j.violation(format!(
                "getFramesNeeded: odd number of values for clip '{}'",
                clip.name
            ));
        }
        needed.insert(
            clip.name.clone(),
            v.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
        );
    }
    Ok(needed)
}

/// `kOfxImageEffectActionIsIdentity`: the clip and time to pass through, if any.
pub fn is_identity(
    effect: &Effect,
    time: f64,
    scale: (f64, f64),
    window: OfxRectI,
) -> Result<Option<(String, f64)>, HostError> {
    let j = &effect.journal;
    let [t, s] = time_scale(time, scale);
    let input = Args::input(
        j,
        "isIdentity inArgs",
        &[
            t,
            s,
            arg::string(
                f::kOfxImageEffectPropFieldToRender,
                name(f::kOfxImageFieldNone),
            ),
            arg::ints(
                f::kOfxImageEffectPropRenderWindow,
                &[window.x1, window.y1, window.x2, window.y2],
            ),
        ],
    );
    let output = Args::output(
        j,
        "isIdentity outArgs",
        &[
            arg::string(f::kOfxPropName, ""),
            arg::doubles(f::kOfxPropTime, &[time]),
        ],
    );
    let action = f::kOfxImageEffectActionIsIdentity;
    if !check(
        action,
        effect.call(action, Some(&input), Some(&output), None),
    )? {
        return Ok(None);
    }
    let clip = output.props.str(name(f::kOfxPropName)).unwrap_or_default();
    let when = output.props.double(name(f::kOfxPropTime)).unwrap_or(time);
    match effect.clip(&clip) {
        Some(c) if !c.is_output() => Ok(Some((clip, when))),
        _ => {
            j.violation(format!(
                "isIdentity answered OK with \"{clip}\", which is not an input clip"
            ));
            Err(HostError::Invalid(format!(
                "isIdentity named unknown clip \"{clip}\""
            )))
        }
    }
}

/// `kOfxImageEffectActionGetTimeDomain` (general context only; elsewhere the
/// default: the union of the inputs' frame ranges, or the project's).
pub fn time_domain(effect: &Effect) -> Result<(f64, f64), HostError> {
    let project = effect.config.project.frame_range;
    let connected: Vec<_> = inputs(effect)
        .into_iter()
        .filter(|c| c.connected())
        .collect();
    let default = connected
        .iter()
        .map(|c| c.frame_range(project))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
        .unwrap_or(project);
    if effect.context() != Some(super::config::Context::General) {
        return Ok(default);
    }
    let key = name(f::kOfxImageEffectPropFrameRange);
    let output = Args::output(
        &effect.journal,
        "getTimeDomain outArgs",
        &[(key, Value::Double(vec![default.0, default.1]))],
    );
    let action = f::kOfxImageEffectActionGetTimeDomain;
    if !check(action, effect.call(action, None, Some(&output), None))? {
        return Ok(default);
    }
    let v = output.props.doubles(key);
    Ok((v[0], v[1]))
}

/// The depths both the plugin and the host support.
fn usable_depths(effect: &Effect) -> Vec<BitDepth> {
    let declared = effect
        .props
        .strs(name(f::kOfxImageEffectPropSupportedPixelDepths));
    BitDepth::ALL
        .into_iter()
        .filter(|d| declared.iter().any(|s| s == d.ofx_name()) && effect.config.depths.contains(d))
        .collect()
}

fn supported_components(clip: &Clip) -> Vec<Components> {
    let declared = clip
        .props
        .strs(name(f::kOfxImageEffectPropSupportedComponents));
    Components::ALL
        .into_iter()
        .filter(|c| declared.iter().any(|s| s == c.ofx_name()))
        .collect()
}

/// What the host would pick for `clip` given what feeds it.
fn closest_components(clip: &Clip, wanted: Option<Components>) -> Components {
    let supported = supported_components(clip);
    match wanted {
        Some(c) if supported.contains(&c) => c,
        _ if supported.contains(&Components::Rgba) => Components::Rgba,
        _ => supported.first().copied().unwrap_or(Components::Rgba),
    }
}

fn deepest(depths: &[BitDepth]) -> BitDepth {
    depths
        .iter()
        .copied()
        .max_by_key(|d| d.rank())
        .unwrap_or(BitDepth::Float)
}

/// `kOfxImageEffectActionGetClipPreferences`, validated and applied to the
/// clip property sets.
pub fn clip_preferences(effect: &Effect) -> Result<ClipPreferences, HostError> {
    let j = &effect.journal;
    let config = &effect.config;
    let depths = usable_depths(effect);
    let multi_depth = config.multiple_clip_depths
        && effect
            .props
            .int(name(f::kOfxImageEffectPropSupportsMultipleClipDepths))
            == Some(1);
    let clips = effect.clips();
    let frame = |c: &Clip| {
        c.frame(*effect.time.lock().unwrap_or_else(|e| e.into_inner()))
            .or_else(|| c.frame(config.project.frame_range.0))
    };
    let sources: HashMap<String, _> = clips
        .iter()
        .filter(|c| !c.is_output())
        .map(|c| (c.name.clone(), frame(c)))
        .collect();

    // The host's defaults.
    let source_depths: Vec<BitDepth> = sources.values().flatten().map(|i| i.depth()).collect();
    let common = source_depths
        .iter()
        .copied()
        .max_by_key(|d| d.rank())
        .filter(|d| depths.contains(d))
        .unwrap_or_else(|| deepest(&depths));
    let main_input = clips
        .iter()
        .find(|c| c.name == name(f::kOfxImageEffectSimpleSourceClipName))
        .or_else(|| {
            clips
                .iter()
                .find(|c| !c.is_output() && sources.get(&c.name).is_some_and(Option::is_some))
        })
        .and_then(|c| sources.get(&c.name).cloned().flatten());
    let mut defaults = BTreeMap::new();
    for clip in &clips {
        let source = if clip.is_output() {
            main_input.clone()
        } else {
            sources.get(&clip.name).cloned().flatten()
        };
        let components = closest_components(clip, source.as_ref().map(|i| i.components()));
        let depth = match (&source, multi_depth) {
            (Some(s), true) if depths.contains(&s.depth()) => s.depth(),
            _ => common,
        };
        let premult = match (&source, components) {
            (Some(s), _) => s.premult,
            (None, Components::Rgba) => Premult::PreMultiplied,
            _ => Premult::Opaque,
        };
        let par = source
            .as_ref()
            .map_or(config.project.pixel_aspect, |s| s.pixel_aspect);
        defaults.insert(
            clip.name.clone(),
            ClipPref {
                depth: Some(depth),
                components: Some(components),
                premult,
                pixel_aspect: par,
            },
        );
    }
    let output_default = defaults
        .get(name(f::kOfxImageEffectOutputClipName))
        .copied()
        .unwrap_or(ClipPref {
            depth: Some(common),
            components: Some(Components::Rgba),
            premult: Premult::PreMultiplied,
            pixel_aspect: config.project.pixel_aspect,
        });

    let output = Args::output(j, "getClipPreferences outArgs", &[]);
    for (clip, pref) in &defaults {
        let (d, c) = (
            pref.depth.expect("set above"),
            pref.components.expect("set above"),
        );
        output.define(
            &format!("OfxImageClipPropComponents_{clip}"),
            Value::string(c.ofx_name()),
            1,
            Valid::OneOf(COMPONENTS),
        );
        output.define(
            &format!("OfxImageClipPropDepth_{clip}"),
            Value::string(d.ofx_name()),
            1,
            Valid::OneOf(DEPTHS),
        );
        output.define(
            &format!("OfxImageClipPropPAR_{clip}"),
            Value::Double(vec![pref.pixel_aspect]),
            1,
            Valid::Any,
        );
    }
    let frame_rate = config.project.frame_rate;
    output.define(
        name(f::kOfxImageEffectPropFrameRate),
        Value::Double(vec![frame_rate]),
        1,
        Valid::Any,
    );
    output.define(
        name(f::kOfxImagePropPixelAspectRatio),
        Value::Double(vec![output_default.pixel_aspect]),
        1,
        Valid::Any,
    );
    output.define(
        name(f::kOfxImageEffectPropPreMultiplication),
        Value::string(output_default.premult.ofx_name()),
        1,
        Valid::OneOf(PREMULTS),
    );
    output.define(
        name(f::kOfxImageClipPropFieldOrder),
        Value::string(name(f::kOfxImageFieldNone)),
        1,
        Valid::Any,
    );
    output.define(
        name(f::kOfxImageClipPropContinuousSamples),
        Value::Int(vec![0]),
        1,
        Valid::Bool,
    );
    output.define(
        name(f::kOfxImageEffectFrameVarying),
        Value::Int(vec![0]),
        1,
        Valid::Bool,
    );

    let action = f::kOfxImageEffectActionGetClipPreferences;
    let answered = check(action, effect.call(action, None, Some(&output), None))?;

    let mut prefs = BTreeMap::new();
    for clip in &clips {
        let default = defaults[&clip.name];
        let mut pref = default;
        if answered {
            let o = &output.props;
            let comps = o
                .str(&format!("OfxImageClipPropComponents_{}", clip.name))
                .and_then(|s| Components::from_ofx(&s));
            match comps {
                Some(c) if supported_components(clip).contains(&c) => pref.components = Some(c),
                Some(c) => j.violation(format!(
                    "getClipPreferences: clip '{}' does not support {}",
                    clip.name,
                    c.ofx_name()
                )),
                None => {}
            }
            let depth = o
                .str(&format!("OfxImageClipPropDepth_{}", clip.name))
                .and_then(|s| BitDepth::from_ofx(&s));
            match depth {
                Some(d) if d == default.depth.expect("set") => {}
                Some(d) if !multi_depth => j.violation(format!(
                    "getClipPreferences: depth {} for clip '{}' without multiple clip depths support",
                    d.ofx_name(),
                    clip.name
                )),
                Some(d) if !depths.contains(&d) => {
                    j.violation(format!("getClipPreferences: clip '{}' set to unsupported depth {}", clip.name, d.ofx_name()))
                }
                Some(d) => pref.depth = Some(d),
                None => {}
            }
            let par = o
                .double(&format!("OfxImageClipPropPAR_{}", clip.name))
                .unwrap_or(default.pixel_aspect);
            if par != default.pixel_aspect && !clip.is_output() && !config.multiple_clip_pars {
                j.violation(format!("getClipPreferences: pixel aspect ratio of clip '{}' changed without host support", clip.name));
            }
        }
        if clip.is_output() {
            if let Some(p) = output
                .props
                .str(name(f::kOfxImageEffectPropPreMultiplication))
                .and_then(|s| Premult::from_ofx(&s))
            {
                pref.premult = p;
            }
        } else if !clip.connected() {
            pref.depth = None;
            pref.components = None;
        }
        apply(
            clip,
            &pref,
            sources.get(&clip.name).cloned().flatten().as_deref(),
            frame_rate,
        );
        prefs.insert(clip.name.clone(), pref);
    }
    let o = &output.props;
    Ok(ClipPreferences {
        clips: prefs,
        frame_rate: o
            .double(name(f::kOfxImageEffectPropFrameRate))
            .unwrap_or(frame_rate),
        field_order: o
            .str(name(f::kOfxImageClipPropFieldOrder))
            .unwrap_or_default(),
        continuous_samples: o.int(name(f::kOfxImageClipPropContinuousSamples)) == Some(1),
        frame_varying: o.int(name(f::kOfxImageEffectFrameVarying)) == Some(1),
    })
}

/// Writes the negotiated format into a clip's properties.
fn apply(clip: &Clip, pref: &ClipPref, source: Option<&super::images::Image>, frame_rate: f64) {
    let p = &clip.props;
    let none_depth = name(f::kOfxBitDepthNone);
    let none_comps = name(f::kOfxImageComponentNone);
    p.set_str(
        name(f::kOfxImageEffectPropPixelDepth),
        pref.depth.map_or(none_depth, BitDepth::ofx_name),
    );
    p.set_str(
        name(f::kOfxImageEffectPropComponents),
        pref.components.map_or(none_comps, Components::ofx_name),
    );
    p.set_str(
        name(f::kOfxImageClipPropUnmappedPixelDepth),
        source.map_or(pref.depth.map_or(none_depth, BitDepth::ofx_name), |s| {
            s.depth().ofx_name()
        }),
    );
    p.set_str(
        name(f::kOfxImageClipPropUnmappedComponents),
        source.map_or(
            pref.components.map_or(none_comps, Components::ofx_name),
            |s| s.components().ofx_name(),
        ),
    );
    p.set_str(
        name(f::kOfxImageEffectPropPreMultiplication),
        pref.premult.ofx_name(),
    );
    p.set_double(name(f::kOfxImagePropPixelAspectRatio), pref.pixel_aspect);
    p.set_double(name(f::kOfxImageEffectPropFrameRate), frame_rate);
    p.set_double(name(f::kOfxImageEffectPropUnmappedFrameRate), frame_rate);
}
