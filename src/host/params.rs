//! Parameters: their kinds, properties and (static, non-animated) values.

use std::ffi::CString;
use std::sync::{Arc, Mutex, RwLock};

use super::config::Project;
use super::journal::Journal;
use super::properties::{cstring, PropertySet, Props, Value};
use super::specs::{self, Access, Spec, Valid};
use super::strings::name;
use crate::ffi as f;

/// The parameter types of OFX 1.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamKind {
    Integer,
    Double,
    Boolean,
    Choice,
    Rgba,
    Rgb,
    Double2D,
    Integer2D,
    Double3D,
    Integer3D,
    String,
    Custom,
    Group,
    Page,
    PushButton,
    Parametric,
}

/// The C type and count of a parameter's value, as the variadic calls pass it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slots {
    Ints(usize),
    Doubles(usize),
    Str,
}

impl ParamKind {
    const ALL: [(ParamKind, &'static str); 16] = [
        (ParamKind::Integer, name(f::kOfxParamTypeInteger)),
        (ParamKind::Double, name(f::kOfxParamTypeDouble)),
        (ParamKind::Boolean, name(f::kOfxParamTypeBoolean)),
        (ParamKind::Choice, name(f::kOfxParamTypeChoice)),
        (ParamKind::Rgba, name(f::kOfxParamTypeRGBA)),
        (ParamKind::Rgb, name(f::kOfxParamTypeRGB)),
        (ParamKind::Double2D, name(f::kOfxParamTypeDouble2D)),
        (ParamKind::Integer2D, name(f::kOfxParamTypeInteger2D)),
        (ParamKind::Double3D, name(f::kOfxParamTypeDouble3D)),
        (ParamKind::Integer3D, name(f::kOfxParamTypeInteger3D)),
        (ParamKind::String, name(f::kOfxParamTypeString)),
        (ParamKind::Custom, name(f::kOfxParamTypeCustom)),
        (ParamKind::Group, name(f::kOfxParamTypeGroup)),
        (ParamKind::Page, name(f::kOfxParamTypePage)),
        (ParamKind::PushButton, name(f::kOfxParamTypePushButton)),
        (ParamKind::Parametric, name(f::kOfxParamTypeParametric)),
    ];

    pub fn from_ofx(type_name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == type_name)
            .map(|(k, _)| *k)
    }

    pub fn ofx_name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .expect("every kind is listed")
    }

    /// How values travel through `paramGetValue` / `paramSetValue`; `None` for
    /// kinds without a value here (groups, pages, buttons, parametric curves).
    pub fn slots(self) -> Option<Slots> {
        use ParamKind::*;
        Some(match self {
            Integer | Boolean | Choice => Slots::Ints(1),
            Integer2D => Slots::Ints(2),
            Integer3D => Slots::Ints(3),
            Double => Slots::Doubles(1),
            Double2D => Slots::Doubles(2),
            Double3D | Rgb => Slots::Doubles(3),
            Rgba => Slots::Doubles(4),
            String | Custom => Slots::Str,
            Group | Page | PushButton | Parametric => return None,
        })
    }

    /// The property specs of this kind (besides its default/min/max).
    fn specs(self) -> Vec<&'static [Spec]> {
        use ParamKind::*;
        let mut all: Vec<&'static [Spec]> = vec![specs::PARAM_ALL];
        if !matches!(self, Group | Page) {
            all.push(specs::PARAM_INTERACTIVE);
        }
        if self.slots().is_some() || self == Parametric {
            all.push(specs::PARAM_VALUED);
        }
        match self {
            Double | Double2D | Double3D => all.push(specs::PARAM_DOUBLE),
            String => all.push(specs::PARAM_STRING),
            Choice => all.push(specs::PARAM_CHOICE),
            Custom => all.push(specs::PARAM_CUSTOM),
            Page => all.push(specs::PARAM_PAGE),
            Group => all.push(specs::PARAM_GROUP),
            Parametric => all.push(specs::PARAM_PARAMETRIC),
            _ => {}
        }
        match self {
            Double => all.push(specs::PARAM_DOUBLE_1D),
            Double2D => all.push(specs::PARAM_DOUBLE_2D),
            _ => {}
        }
        all
    }
}

/// A parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Int(i32),
    Int2D(i32, i32),
    Int3D(i32, i32, i32),
    Double(f64),
    Double2D(f64, f64),
    Double3D(f64, f64, f64),
    Bool(bool),
    Choice(i32),
    Rgb(f64, f64, f64),
    Rgba(f64, f64, f64, f64),
    /// String and custom parameters.
    String(String),
}

impl ParamValue {
    /// Builds the value of a `kind` parameter from its C representation.
    pub fn from_parts(
        kind: ParamKind,
        ints: &[i32],
        doubles: &[f64],
        s: &str,
    ) -> Option<ParamValue> {
        use ParamKind::*;
        let i = |n: usize| ints.get(n).copied().unwrap_or(0);
        let d = |n: usize| doubles.get(n).copied().unwrap_or(0.0);
        Some(match kind {
            Integer => ParamValue::Int(i(0)),
            Integer2D => ParamValue::Int2D(i(0), i(1)),
            Integer3D => ParamValue::Int3D(i(0), i(1), i(2)),
            Boolean => ParamValue::Bool(i(0) != 0),
            Choice => ParamValue::Choice(i(0)),
            Double => ParamValue::Double(d(0)),
            Double2D => ParamValue::Double2D(d(0), d(1)),
            Double3D => ParamValue::Double3D(d(0), d(1), d(2)),
            Rgb => ParamValue::Rgb(d(0), d(1), d(2)),
            Rgba => ParamValue::Rgba(d(0), d(1), d(2), d(3)),
            String | Custom => ParamValue::String(s.to_owned()),
            Group | Page | PushButton | Parametric => return None,
        })
    }

    pub fn ints(&self) -> Vec<i32> {
        match *self {
            ParamValue::Int(a) | ParamValue::Choice(a) => vec![a],
            ParamValue::Bool(b) => vec![b as i32],
            ParamValue::Int2D(a, b) => vec![a, b],
            ParamValue::Int3D(a, b, c) => vec![a, b, c],
            _ => Vec::new(),
        }
    }

    pub fn doubles(&self) -> Vec<f64> {
        match *self {
            ParamValue::Double(a) => vec![a],
            ParamValue::Double2D(a, b) => vec![a, b],
            ParamValue::Double3D(a, b, c) | ParamValue::Rgb(a, b, c) => vec![a, b, c],
            ParamValue::Rgba(a, b, c, d) => vec![a, b, c, d],
            _ => Vec::new(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParamValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this value has the shape of a `kind` parameter's value.
    pub fn fits(&self, kind: ParamKind) -> bool {
        use ParamKind::*;
        matches!(
            (self, kind),
            (ParamValue::Int(_), Integer)
                | (ParamValue::Int2D(..), Integer2D)
                | (ParamValue::Int3D(..), Integer3D)
                | (ParamValue::Bool(_), Boolean)
                | (ParamValue::Choice(_), Choice)
                | (ParamValue::Double(_), Double)
                | (ParamValue::Double2D(..), Double2D)
                | (ParamValue::Double3D(..), Double3D)
                | (ParamValue::Rgb(..), Rgb)
                | (ParamValue::Rgba(..), Rgba)
                | (ParamValue::String(_), String | Custom)
        )
    }

    /// The value read from a property set's `kOfxParamPropDefault`.
    fn from_default(kind: ParamKind, props: &PropertySet) -> Option<ParamValue> {
        let key = name(f::kOfxParamPropDefault);
        let s = props.str(key).unwrap_or_default();
        Self::from_parts(kind, &props.ints(key), &props.doubles(key), &s)
    }
}

struct Current {
    value: Option<ParamValue>,
    /// The string value as handed to the plugin (valid until the next change).
    c_string: CString,
}

/// A parameter descriptor or instance.
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    pub props: Arc<PropertySet>,
    current: RwLock<Current>,
}

/// A default given in normalised project coordinates, in canonical coordinates
/// (sizes scale by the project size; absolute positions also add its offset).
fn normalised_default(value: ParamValue, props: &PropertySet, project: &Project) -> ParamValue {
    if props
        .str(name(f::kOfxParamPropDefaultCoordinateSystem))
        .as_deref()
        != Some(name(f::kOfxParamCoordinatesNormalised))
    {
        return value;
    }
    let ty = props
        .str(name(f::kOfxParamPropDoubleType))
        .unwrap_or_default();
    let absolute = ty.ends_with("Absolute");
    let axis = |v: f64, i: usize| {
        let (size, offset) = if i == 0 {
            (project.size.0, project.offset.0)
        } else {
            (project.size.1, project.offset.1)
        };
        v * size + if absolute { offset } else { 0.0 }
    };
    let is = |k: &'static [u8]| ty == name(k);
    match value {
        ParamValue::Double2D(x, y)
            if is(f::kOfxParamDoubleTypeXY) || is(f::kOfxParamDoubleTypeXYAbsolute) =>
        {
            ParamValue::Double2D(axis(x, 0), axis(y, 1))
        }
        ParamValue::Double(x)
            if is(f::kOfxParamDoubleTypeX) || is(f::kOfxParamDoubleTypeXAbsolute) =>
        {
            ParamValue::Double(axis(x, 0))
        }
        ParamValue::Double(y)
            if is(f::kOfxParamDoubleTypeY) || is(f::kOfxParamDoubleTypeYAbsolute) =>
        {
            ParamValue::Double(axis(y, 1))
        }
        other => other,
    }
}

impl Param {
    /// A descriptor defined by `paramDefine`.
    pub fn descriptor(kind: ParamKind, param_name: &str, journal: &Arc<Journal>) -> Arc<Param> {
        let props = PropertySet::from_specs(
            format!("param '{param_name}' descriptor"),
            journal,
            &kind.specs(),
        );
        for key in [
            f::kOfxPropName.as_slice(),
            f::kOfxPropLabel,
            f::kOfxPropShortLabel,
            f::kOfxPropLongLabel,
            f::kOfxParamPropScriptName,
        ] {
            props.set_str(name(key), param_name);
        }
        props.set_str(name(f::kOfxParamPropType), kind.ofx_name());
        define_valued(kind, &props);
        Arc::new(Param {
            name: param_name.to_owned(),
            kind,
            props,
            current: RwLock::new(Current {
                value: None,
                c_string: CString::default(),
            }),
        })
    }

    /// An instance made from its descriptor, holding the default value.
    /// Spatial defaults declared in normalised coordinates are scaled to the project.
    pub fn instance(descriptor: &Param, journal: &Arc<Journal>, project: &Project) -> Arc<Param> {
        let props = PropertySet::new(format!("param '{}'", descriptor.name), journal);
        props.copy_from(&descriptor.props);
        for p in descriptor.props.snapshot().names() {
            if !specs::PARAM_INSTANCE_WRITABLE.contains(&p) {
                props.set_access(p, Access::Ro);
            }
        }
        let value = ParamValue::from_default(descriptor.kind, &props)
            .map(|v| normalised_default(v, &props, project));
        let c_string = cstring(value.as_ref().and_then(ParamValue::as_str).unwrap_or(""));
        Arc::new(Param {
            name: descriptor.name.clone(),
            kind: descriptor.kind,
            props,
            current: RwLock::new(Current { value, c_string }),
        })
    }

    pub fn value(&self) -> Option<ParamValue> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .value
            .clone()
    }

    /// The string value as a C string pointer (valid until the value changes).
    pub fn c_string(&self) -> *const std::ffi::c_char {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .c_string
            .as_ptr()
    }

    /// Replaces the value; the caller checked that it fits the kind.
    pub fn set_value(&self, value: ParamValue) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        current.c_string = cstring(value.as_str().unwrap_or(""));
        current.value = Some(value);
    }

    /// Number of choice options (for range checks).
    pub fn option_count(&self) -> usize {
        self.props.strs(name(f::kOfxParamPropChoiceOption)).len()
    }

    pub fn desc(&self) -> ParamDesc {
        ParamDesc {
            name: self.name.clone(),
            kind: self.kind,
            props: self.props.snapshot(),
        }
    }
}

/// Adds the value-typed properties (default, min, max ...) of `kind`.
fn define_valued(kind: ParamKind, props: &PropertySet) {
    let Some(slots) = kind.slots() else { return };
    let colour = matches!(kind, ParamKind::Rgb | ParamKind::Rgba);
    let numeric = !matches!(
        kind,
        ParamKind::String | ParamKind::Custom | ParamKind::Boolean | ParamKind::Choice
    );
    let (rw, any) = (Access::Rw, Valid::Any);
    match slots {
        Slots::Str => props.define(name(f::kOfxParamPropDefault), Value::string(""), 1, rw, any),
        Slots::Ints(n) => {
            let valid = if kind == ParamKind::Boolean {
                Valid::Bool
            } else {
                any
            };
            props.define(
                name(f::kOfxParamPropDefault),
                Value::Int(vec![0; n]),
                n,
                rw,
                valid,
            );
            if numeric {
                for (key, v) in [
                    (f::kOfxParamPropMin.as_slice(), i32::MIN),
                    (f::kOfxParamPropMax, i32::MAX),
                    (f::kOfxParamPropDisplayMin, i32::MIN),
                    (f::kOfxParamPropDisplayMax, i32::MAX),
                ] {
                    props.define(name(key), Value::Int(vec![v; n]), n, rw, any);
                }
            }
        }
        Slots::Doubles(n) => {
            props.define(
                name(f::kOfxParamPropDefault),
                Value::Double(vec![0.0; n]),
                n,
                rw,
                any,
            );
            let (lo, hi) = if colour {
                (0.0, 1.0)
            } else {
                (-f64::MAX, f64::MAX)
            };
            for (key, v) in [
                (f::kOfxParamPropMin.as_slice(), -f64::MAX),
                (f::kOfxParamPropMax, f64::MAX),
                (f::kOfxParamPropDisplayMin, lo),
                (f::kOfxParamPropDisplayMax, hi),
            ] {
                props.define(name(key), Value::Double(vec![v; n]), n, rw, any);
            }
        }
    }
    if n_dims(kind) > 1 {
        let labels: &[&str] = if colour {
            &["r", "g", "b", "a"]
        } else {
            &["x", "y", "z"]
        };
        let n = n_dims(kind);
        props.define(
            name(f::kOfxParamPropDimensionLabel),
            Value::strings(&labels[..n]),
            n,
            rw,
            any,
        );
    }
}

fn n_dims(kind: ParamKind) -> usize {
    match kind.slots() {
        Some(Slots::Ints(n) | Slots::Doubles(n)) => n,
        _ => 1,
    }
}

/// What the plugin did to parameter values, in order: its undo blocks and writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// `paramEditBegin` with its label.
    Begin(String),
    /// `paramSetValue` / `paramSetValueAtTime`.
    Set { param: String, value: ParamValue },
    /// `paramEditEnd`.
    End,
}

/// The parameters of an effect (descriptor or instance), in definition order.
pub struct ParamSet {
    pub props: Arc<PropertySet>,
    params: RwLock<Vec<Arc<Param>>>,
    /// Open `paramEditBegin` blocks.
    pub edit_depth: Mutex<u32>,
    /// Every edit the plugin made, for tests to read (`Instance::take_edits`).
    pub edits: Mutex<Vec<Edit>>,
}

impl ParamSet {
    pub fn new(label: &str, journal: &Arc<Journal>) -> Arc<ParamSet> {
        Arc::new(ParamSet {
            props: PropertySet::from_specs(
                format!("{label} param set"),
                journal,
                &[specs::PARAM_SET],
            ),
            params: RwLock::default(),
            edit_depth: Mutex::new(0),
            edits: Mutex::default(),
        })
    }

    pub fn get(&self, param_name: &str) -> Option<Arc<Param>> {
        self.params
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|p| p.name == param_name)
            .cloned()
    }

    pub fn all(&self) -> Vec<Arc<Param>> {
        self.params
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn record(&self, edit: Edit) {
        self.edits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(edit);
    }

    pub fn push(&self, param: Arc<Param>) {
        self.params
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(param);
    }
}

/// A described parameter, as the plugin defined it.
#[derive(Clone, Debug)]
pub struct ParamDesc {
    pub name: String,
    pub kind: ParamKind,
    pub props: Props,
}

impl ParamDesc {
    /// The `kOfxParamTypeXxx` name.
    pub fn type_name(&self) -> &'static str {
        self.kind.ofx_name()
    }

    pub fn default_value(&self) -> Option<ParamValue> {
        let key = name(f::kOfxParamPropDefault);
        ParamValue::from_parts(
            self.kind,
            self.props.ints(key),
            self.props.doubles(key),
            self.props.str(key).unwrap_or(""),
        )
    }

    pub fn label(&self) -> &str {
        self.props.str(name(f::kOfxPropLabel)).unwrap_or("")
    }

    pub fn hint(&self) -> &str {
        self.props.str(name(f::kOfxParamPropHint)).unwrap_or("")
    }

    /// Name of the enclosing group ("" at the top level).
    pub fn parent(&self) -> &str {
        self.props.str(name(f::kOfxParamPropParent)).unwrap_or("")
    }

    pub fn options(&self) -> &[String] {
        self.props.strs(name(f::kOfxParamPropChoiceOption))
    }

    pub fn page_children(&self) -> &[String] {
        self.props.strs(name(f::kOfxParamPropPageChild))
    }

    pub fn secret(&self) -> bool {
        self.props
            .flag(name(f::kOfxParamPropSecret))
            .unwrap_or(false)
    }

    pub fn animates(&self) -> bool {
        self.props
            .flag(name(f::kOfxParamPropAnimates))
            .unwrap_or(false)
    }

    /// `kOfxParamPropMin` / `Max` as doubles (int kinds converted).
    pub fn min(&self) -> Vec<f64> {
        self.numeric(name(f::kOfxParamPropMin))
    }

    pub fn max(&self) -> Vec<f64> {
        self.numeric(name(f::kOfxParamPropMax))
    }

    pub fn display_min(&self) -> Vec<f64> {
        self.numeric(name(f::kOfxParamPropDisplayMin))
    }

    pub fn display_max(&self) -> Vec<f64> {
        self.numeric(name(f::kOfxParamPropDisplayMax))
    }

    fn numeric(&self, key: &str) -> Vec<f64> {
        let d = self.props.doubles(key);
        if d.is_empty() {
            self.props.ints(key).iter().map(|&v| v as f64).collect()
        } else {
            d.to_vec()
        }
    }
}
