//! The model contract (docs/MODEL_CONTRACT.md, contract 1): what a model file
//! must declare and accept. A model that breaks it is refused on load with a
//! message naming what is wrong.

use super::InferenceError;
use ort::session::Session;
use ort::value::{TensorElementType, ValueType};

pub const CONTRACT_VERSION: &str = "1";
/// Length of the `scene` input.
pub const SCENE_LEN: usize = 16;

/// Slots of the `scene` input.
pub mod scene {
    pub const PROGRESS: usize = 0;
    pub const FRAMES: usize = 1;
    pub const DURATION: usize = 2;
    pub const SEED: usize = 3;
    pub const SCALE_X: usize = 4;
    pub const SCALE_Y: usize = 5;
    pub const SOURCE_LEFT: usize = 6;
    pub const SOURCE_TOP: usize = 7;
    pub const REGION_LEFT: usize = 8;
    pub const REGION_BOTTOM: usize = 9;
    pub const REGION_WIDTH: usize = 10;
    pub const REGION_HEIGHT: usize = 11;
    pub const HAS_BACKGROUND: usize = 12;
    pub const HAS_MASK: usize = 13;
    /// 1 when `background` is the plugin's synthesized clean plate (no Background clip).
    pub const BACKGROUND_SYNTHESIZED: usize = 14;
    /// 1 when `mask` is the plugin's estimate of the building (no Mask clip).
    pub const MASK_ESTIMATED: usize = 15;
}

/// Control names a model may declare; the plugin feeds each from a parameter.
pub const CONTROL_VOCABULARY: &[&str] = &[
    "direction",
    "fragment_size",
    "gravity",
    "dust_amount",
    "dust_r",
    "dust_g",
    "dust_b",
    "dust_tint",
    "dust_spread",
    "debris_amount",
];

/// Element type of the image tensors (plate, background, mask, element).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    Float32,
    Float16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ControlSpec {
    pub name: String,
    pub min: f32,
    pub max: f32,
    pub default: f32,
}

/// Margins as fractions of the region's width (left, right) and height (bottom, top).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Margins {
    pub left: f64,
    pub bottom: f64,
    pub right: f64,
    pub top: f64,
}

/// What a loaded model declares.
#[derive(Clone, Debug)]
pub struct Contract {
    pub name: String,
    pub precision: Precision,
    /// Output pixels a tile needs around it.
    pub halo: u32,
    /// How far outside the region the element may be non-zero.
    pub reach: Margins,
    /// Where the model reads its image inputs (the source window).
    pub context: Margins,
    pub controls: Vec<ControlSpec>,
}

pub const OUTPUT: &str = "element";

/// The contract's metadata keys, parsed and checked: everything a model
/// declares except its input/output signature.
#[derive(Clone, Debug, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub halo: u32,
    pub reach: Margins,
    pub context: Margins,
    pub controls: Vec<ControlSpec>,
}

impl Metadata {
    /// Parses the `collapse.*` keys, looked up with `get`.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Metadata, InferenceError> {
        let require = |key: &str| {
            get(key)
                .ok_or_else(|| InferenceError::contract(format!("metadata key '{key}' is missing")))
        };
        let version = require("collapse.contract")?;
        if version.trim() != CONTRACT_VERSION {
            return Err(InferenceError::contract(format!(
                "collapse.contract is '{version}', this plugin implements contract {CONTRACT_VERSION}"
            )));
        }
        let kind = get("collapse.kind").unwrap_or_else(|| "generator".into());
        if kind.trim() != "generator" {
            return Err(InferenceError::contract(format!(
                "collapse.kind '{kind}' is not supported by this plugin version (only 'generator')"
            )));
        }
        Ok(Metadata {
            halo: parse_halo(&require("collapse.halo")?)?,
            reach: parse_margins("collapse.reach", &require("collapse.reach")?)?,
            context: parse_margins("collapse.context", &require("collapse.context")?)?,
            controls: parse_controls(&get("collapse.controls").unwrap_or_default())?,
            name: get("collapse.name").unwrap_or_else(|| "unnamed model".into()),
        })
    }
}

impl Contract {
    /// Reads and checks a session's metadata and signature.
    pub fn from_session(session: &Session) -> Result<Contract, InferenceError> {
        let meta = session
            .metadata()
            .map_err(|e| InferenceError::contract(format!("cannot read metadata: {e}")))?;
        let m = Metadata::parse(|key| meta.custom(key))?;
        let precision = check_signature(session, m.controls.len())?;
        Ok(Contract {
            name: m.name,
            precision,
            halo: m.halo,
            reach: m.reach,
            context: m.context,
            controls: m.controls,
        })
    }

    /// The control vector in declared order, each clamped to its declared range;
    /// a control the caller does not provide takes the model's default.
    pub fn control_values(&self, provided: &[(&str, f64)]) -> Vec<f32> {
        self.controls
            .iter()
            .map(|spec| {
                let v = provided
                    .iter()
                    .find(|(n, _)| *n == spec.name)
                    .map(|(_, v)| *v as f32)
                    .filter(|v| v.is_finite())
                    .unwrap_or(spec.default);
                v.clamp(spec.min, spec.max)
            })
            .collect()
    }
}

fn parse_halo(text: &str) -> Result<u32, InferenceError> {
    match text.trim().parse::<u32>() {
        Ok(h) if h <= 512 => Ok(h),
        _ => Err(InferenceError::contract(format!(
            "collapse.halo '{text}' is not a whole number of pixels from 0 to 512"
        ))),
    }
}

pub(crate) fn parse_margins(key: &str, text: &str) -> Result<Margins, InferenceError> {
    let v: Vec<f64> = text
        .split_whitespace()
        .filter_map(|t| t.parse::<f64>().ok())
        .collect();
    if text.split_whitespace().count() != v.len() {
        return Err(margins_error(key, text));
    }
    margins(key, &v).map_err(|_| margins_error(key, text))
}

fn margins_error(key: &str, text: &str) -> InferenceError {
    InferenceError::contract(format!(
        "{key} '{text}' must be four numbers from 0 to 16 (left bottom right top)"
    ))
}

/// Margins from four numbers (left bottom right top), each from 0 to 16.
pub(crate) fn margins(key: &str, v: &[f64]) -> Result<Margins, InferenceError> {
    if v.len() != 4 || v.iter().any(|x| !x.is_finite() || *x < 0.0 || *x > 16.0) {
        return Err(margins_error(key, &format!("{v:?}")));
    }
    Ok(Margins {
        left: v[0],
        bottom: v[1],
        right: v[2],
        top: v[3],
    })
}

/// `name min max default; name min max default; ...`
pub(crate) fn parse_controls(text: &str) -> Result<Vec<ControlSpec>, InferenceError> {
    let mut out: Vec<ControlSpec> = Vec::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let parts: Vec<&str> = entry.split_whitespace().collect();
        let nums: Vec<f32> = parts
            .iter()
            .skip(1)
            .filter_map(|p| p.parse::<f32>().ok())
            .collect();
        if parts.len() != 4 || nums.len() != 3 || nums.iter().any(|x| !x.is_finite()) {
            return Err(InferenceError::contract(format!(
                "collapse.controls entry '{entry}' must be 'name min max default'"
            )));
        }
        push_control(
            &mut out,
            "collapse.controls",
            parts[0],
            [nums[0], nums[1], nums[2]],
        )?;
    }
    Ok(out)
}

/// Appends a control after checking it: a name of the vocabulary, declared once,
/// finite `min <= default <= max`. `key` names where it was declared.
pub(crate) fn push_control(
    out: &mut Vec<ControlSpec>,
    key: &str,
    name: &str,
    [min, max, default]: [f32; 3],
) -> Result<(), InferenceError> {
    if !CONTROL_VOCABULARY.contains(&name) {
        return Err(InferenceError::contract(format!(
            "{key} names '{name}', which the plugin cannot feed (known: {})",
            CONTROL_VOCABULARY.join(", ")
        )));
    }
    if !(min.is_finite() && max.is_finite() && min <= default && default <= max) {
        return Err(InferenceError::contract(format!(
            "control '{name}': need min <= default <= max, got {min} {default} {max}"
        )));
    }
    if out.iter().any(|c| c.name == name) {
        return Err(InferenceError::contract(format!(
            "control '{name}' is declared twice"
        )));
    }
    out.push(ControlSpec {
        name: name.to_string(),
        min,
        max,
        default,
    });
    Ok(())
}

/// Checks input/output names, ranks, fixed dimensions and element types.
fn check_signature(session: &Session, control_count: usize) -> Result<Precision, InferenceError> {
    let tensor = |outlets: &[ort::value::Outlet],
                  name: &str,
                  what: &str|
     -> Result<(TensorElementType, Vec<i64>), InferenceError> {
        let outlet = outlets.iter().find(|o| o.name() == name).ok_or_else(|| {
            InferenceError::contract(format!("the model has no {what} named '{name}'"))
        })?;
        match outlet.dtype() {
            ValueType::Tensor { ty, shape, .. } => Ok((*ty, shape.iter().copied().collect())),
            other => Err(InferenceError::contract(format!(
                "{what} '{name}' is not a tensor ({other:?})"
            ))),
        }
    };
    let expect_shape = |name: &str, shape: &[i64], want: &[i64]| -> Result<(), InferenceError> {
        let ok = shape.len() == want.len()
            && shape
                .iter()
                .zip(want)
                .all(|(d, w)| *w < 0 || *d < 0 || d == w);
        if ok {
            Ok(())
        } else {
            Err(InferenceError::contract(format!(
                "'{name}' has shape {shape:?}, the contract wants {want:?} (-1: any)"
            )))
        }
    };
    let inputs = session.inputs();
    let outputs = session.outputs();
    let (plate_ty, plate_shape) = tensor(inputs, "plate", "input")?;
    let precision = match plate_ty {
        TensorElementType::Float32 => Precision::Float32,
        TensorElementType::Float16 => Precision::Float16,
        other => {
            return Err(InferenceError::contract(format!(
                "input 'plate' is {other:?}; it must be float32 or float16"
            )))
        }
    };
    expect_shape("plate", &plate_shape, &[1, 4, -1, -1])?;
    for (name, want) in [("background", [1i64, 4, -1, -1]), ("mask", [1, 1, -1, -1])] {
        let (ty, shape) = tensor(inputs, name, "input")?;
        if ty != plate_ty {
            return Err(InferenceError::contract(format!("input '{name}' is {ty:?} but 'plate' is {plate_ty:?}; image tensors share one type")));
        }
        expect_shape(name, &shape, &want)?;
    }
    for (name, want) in [
        ("out_x", vec![-1i64]),
        ("out_y", vec![-1]),
        ("scene", vec![SCENE_LEN as i64]),
        ("controls", vec![control_count as i64]),
    ] {
        let (ty, shape) = tensor(inputs, name, "input")?;
        if ty != TensorElementType::Float32 {
            return Err(InferenceError::contract(format!(
                "input '{name}' is {ty:?}; it must be float32"
            )));
        }
        expect_shape(name, &shape, &want)?;
    }
    if inputs.len() != 7 {
        let names: Vec<&str> = inputs.iter().map(|o| o.name()).collect();
        return Err(InferenceError::contract(format!("the model has inputs {names:?}; the contract has exactly plate, background, mask, out_x, out_y, scene, controls")));
    }
    let (out_ty, out_shape) = tensor(outputs, OUTPUT, "output")?;
    if out_ty != plate_ty {
        return Err(InferenceError::contract(format!(
            "output 'element' is {out_ty:?} but 'plate' is {plate_ty:?}"
        )));
    }
    expect_shape(OUTPUT, &out_shape, &[1, 4, -1, -1])?;
    Ok(precision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_parse_and_refuse() {
        let c = parse_controls("direction -1 1 0; dust_amount 0 2 1").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].name, "dust_amount");
        assert!(parse_controls("warp 0 1 0")
            .unwrap_err()
            .to_string()
            .contains("warp"));
        assert!(parse_controls("direction 1 0 0").is_err());
        assert!(parse_controls("direction 0 1").is_err());
        assert!(parse_controls("direction 0 1 0; direction 0 1 0").is_err());
        assert!(parse_controls("").unwrap().is_empty());
    }

    /// A deterministic fuzz: mutated metadata texts never panic, and whatever
    /// parses keeps the invariants the plugin relies on.
    #[test]
    fn metadata_parsers_never_panic_and_keep_their_invariants() {
        let seeds = [
            "direction -1 1 0; dust_amount 0 2 1",
            "0.5 0.1 0.5 0.4",
            "8",
            "gravity 0.25 4 1;;",
            "1e30 -0 nan inf",
        ];
        let alphabet: Vec<char> = " ;.-+0123456789eEinfa_dustrowgvy\t\n".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000 {
            let mut text: Vec<char> = seeds[round % seeds.len()].chars().collect();
            for _ in 0..(next() % 6) {
                let at = (next() as usize) % (text.len() + 1);
                match next() % 3 {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 => text.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                    _ if at < text.len() => text[at] = alphabet[(next() as usize) % alphabet.len()],
                    _ => {}
                }
            }
            let text: String = text.into_iter().collect();
            if let Ok(controls) = parse_controls(&text) {
                for c in &controls {
                    assert!(CONTROL_VOCABULARY.contains(&c.name.as_str()), "{text:?}");
                    assert!(c.min <= c.default && c.default <= c.max, "{text:?}");
                }
            }
            if let Ok(m) = parse_margins("k", &text) {
                assert!(
                    [m.left, m.bottom, m.right, m.top]
                        .iter()
                        .all(|v| v.is_finite() && (0.0..=16.0).contains(v)),
                    "{text:?}"
                );
            }
            if let Ok(h) = parse_halo(&text) {
                assert!(h <= 512);
            }
        }
    }

    #[test]
    fn margins_parse_and_refuse() {
        let m = parse_margins("k", "0.5 0.1 0.5 0.4").unwrap();
        assert_eq!(m.top, 0.4);
        assert!(parse_margins("k", "0.5 0.1 0.5").is_err());
        assert!(parse_margins("k", "0.5 0.1 0.5 nan").is_err());
        assert!(parse_margins("k", "-1 0 0 0").is_err());
        assert!(parse_halo("600").is_err());
        assert_eq!(parse_halo(" 8 ").unwrap(), 8);
    }
}
