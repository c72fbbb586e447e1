//! Property sets: typed, dimensioned values with plugin access rights, checked
//! on every suite call, plus a plain snapshot type for host-side readers.

use std::collections::BTreeMap;
use std::ffi::{c_char, CString};
use std::sync::{Arc, RwLock};

use super::journal::Journal;
use super::specs::{Access, Initial, Spec, Valid};
use super::status::{self, Status};

/// The four OFX property types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropType {
    Int,
    Double,
    String,
    Pointer,
}

impl PropType {
    fn name(self) -> &'static str {
        match self {
            PropType::Int => "int",
            PropType::Double => "double",
            PropType::String => "string",
            PropType::Pointer => "pointer",
        }
    }
}

/// Stored values. Strings are kept as `CString`s so the pointers handed to the
/// plugin stay valid until the value changes.
#[derive(Clone, Debug)]
pub enum Value {
    Int(Vec<i32>),
    Double(Vec<f64>),
    String(Vec<CString>),
    Pointer(Vec<usize>),
}

impl Value {
    fn prop_type(&self) -> PropType {
        match self {
            Value::Int(_) => PropType::Int,
            Value::Double(_) => PropType::Double,
            Value::String(_) => PropType::String,
            Value::Pointer(_) => PropType::Pointer,
        }
    }

    fn len(&self) -> usize {
        match self {
            Value::Int(v) => v.len(),
            Value::Double(v) => v.len(),
            Value::String(v) => v.len(),
            Value::Pointer(v) => v.len(),
        }
    }

    pub fn strings<S: AsRef<str>>(values: &[S]) -> Value {
        Value::String(values.iter().map(|s| cstring(s.as_ref())).collect())
    }

    pub fn string(value: &str) -> Value {
        Value::String(vec![cstring(value)])
    }

    fn from_default(default: &Initial) -> Value {
        match default {
            Initial::I(v) => Value::Int(v.to_vec()),
            Initial::D(v) => Value::Double(v.to_vec()),
            Initial::S(v) => Value::strings(v),
            Initial::P(n) => Value::Pointer(vec![0; *n]),
        }
    }
}

/// A Rust string as a C string; interior NULs (never legitimate here) are dropped.
pub fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

struct Property {
    value: Value,
    default: Value,
    /// Fixed dimension, or 0 for a variable one.
    dim: usize,
    access: Access,
    valid: Valid,
}

/// One scalar exchanged with the plugin.
pub trait Scalar: Sized {
    const TYPE: PropType;
    fn slot(value: &Value) -> Option<&[Self]>;
    fn slot_mut(value: &mut Value) -> Option<&mut Vec<Self>>;
    fn filler() -> Self;
    /// Checks a value the plugin writes against the property's constraint.
    fn validate(&self, valid: Valid) -> Result<(), String>;
}

macro_rules! scalar {
    ($t:ty, $variant:ident, $fill:expr, $validate:expr) => {
        impl Scalar for $t {
            const TYPE: PropType = PropType::$variant;
            fn slot(value: &Value) -> Option<&[Self]> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn slot_mut(value: &mut Value) -> Option<&mut Vec<Self>> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn filler() -> Self {
                $fill
            }
            fn validate(&self, valid: Valid) -> Result<(), String> {
                $validate(self, valid)
            }
        }
    };
}
scalar!(i32, Int, 0, |v: &i32, valid: Valid| valid.check_int(*v));
scalar!(f64, Double, 0.0, |_: &f64, _: Valid| Ok(()));
scalar!(
    CString,
    String,
    CString::default(),
    |v: &CString, valid: Valid| valid.check_str(&v.to_string_lossy())
);
scalar!(usize, Pointer, 0, |_: &usize, _: Valid| Ok(()));

/// A property set: an effect, clip, param, image, the host, or action arguments.
pub struct PropertySet {
    /// What this set belongs to, for violation messages ("clip 'Source' instance").
    label: String,
    journal: Arc<Journal>,
    props: RwLock<BTreeMap<String, Property>>,
}

impl PropertySet {
    pub fn new(label: impl Into<String>, journal: &Arc<Journal>) -> Arc<Self> {
        Arc::new(PropertySet {
            label: label.into(),
            journal: journal.clone(),
            props: Default::default(),
        })
    }

    /// A set holding the given specs at their defaults.
    pub fn from_specs(
        label: impl Into<String>,
        journal: &Arc<Journal>,
        specs: &[&[Spec]],
    ) -> Arc<Self> {
        let set = Self::new(label, journal);
        for specs in specs {
            set.define_specs(specs);
        }
        set
    }

    /// Adds properties at their defaults.
    pub fn define_specs(&self, specs: &[Spec]) {
        for spec in specs {
            self.define(
                spec.name,
                Value::from_default(&spec.default),
                spec.dim,
                spec.access,
                spec.valid,
            );
        }
    }

    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Property>> {
        self.props.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Property>> {
        self.props.write().unwrap_or_else(|e| e.into_inner())
    }

    // ---- host side: no access checks -------------------------------------

    /// Adds (or replaces) a property; its current value becomes its default.
    pub fn define(&self, name: &str, value: Value, dim: usize, access: Access, valid: Valid) {
        let prop = Property {
            default: value.clone(),
            value,
            dim,
            access,
            valid,
        };
        self.write().insert(name.to_owned(), prop);
    }

    /// Sets a property the host owns. Defines it (read-only, variable dimension)
    /// when missing.
    pub fn set(&self, name: &str, value: Value) {
        let mut props = self.write();
        match props.get_mut(name) {
            Some(p) => p.value = value,
            None => {
                let prop = Property {
                    default: value.clone(),
                    value,
                    dim: 0,
                    access: Access::Ro,
                    valid: Valid::Any,
                };
                props.insert(name.to_owned(), prop);
            }
        }
    }

    pub fn set_int(&self, name: &str, v: i32) {
        self.set(name, Value::Int(vec![v]));
    }

    pub fn set_double(&self, name: &str, v: f64) {
        self.set(name, Value::Double(vec![v]));
    }

    pub fn set_str(&self, name: &str, v: &str) {
        self.set(name, Value::string(v));
    }

    /// Changes who may write a property (descriptor values become read-only on
    /// the instance).
    pub fn set_access(&self, name: &str, access: Access) {
        if let Some(p) = self.write().get_mut(name) {
            p.access = access;
        }
    }

    pub fn ints(&self, name: &str) -> Vec<i32> {
        self.read()
            .get(name)
            .and_then(|p| i32::slot(&p.value))
            .map(<[i32]>::to_vec)
            .unwrap_or_default()
    }

    pub fn int(&self, name: &str) -> Option<i32> {
        self.ints(name).first().copied()
    }

    pub fn doubles(&self, name: &str) -> Vec<f64> {
        self.read()
            .get(name)
            .and_then(|p| f64::slot(&p.value))
            .map(<[f64]>::to_vec)
            .unwrap_or_default()
    }

    pub fn double(&self, name: &str) -> Option<f64> {
        self.doubles(name).first().copied()
    }

    pub fn strs(&self, name: &str) -> Vec<String> {
        let props = self.read();
        let Some(v) = props.get(name).and_then(|p| CString::slot(&p.value)) else {
            return Vec::new();
        };
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    pub fn str(&self, name: &str) -> Option<String> {
        self.strs(name).into_iter().next()
    }

    /// Copies every property of `other` into this set (instance from descriptor).
    pub fn copy_from(&self, other: &PropertySet) {
        let source = other.read();
        let mut props = self.write();
        for (name, p) in source.iter() {
            let copy = Property {
                value: p.value.clone(),
                default: p.default.clone(),
                dim: p.dim,
                access: p.access,
                valid: p.valid,
            };
            props.insert(name.clone(), copy);
        }
    }

    /// A plain copy of all values.
    pub fn snapshot(&self) -> Props {
        let props = self.read();
        Props(
            props
                .iter()
                .map(|(k, p)| (k.clone(), PropValue::from(&p.value)))
                .collect(),
        )
    }

    // ---- plugin side: every call checked ---------------------------------

    fn violation(&self, call: &str, name: &str, problem: impl std::fmt::Display) {
        self.journal
            .violation(format!("{call}({}, \"{name}\"): {problem}", self.label));
    }

    /// Looks `name` up for a plugin call of type `T`; records unknown names and
    /// type mismatches. `miss` is the status for a type mismatch.
    fn check_known(
        &self,
        call: &str,
        name: &str,
        props: &BTreeMap<String, Property>,
        ty: PropType,
        miss: Status,
    ) -> Result<(), Status> {
        match props.get(name) {
            None => {
                // Names outside the OFX namespace are vendor extensions: answering
                // "unknown" is the expected reply, not a plugin mistake.
                if name.starts_with("Ofx") {
                    self.violation(call, name, "unknown property on this object");
                }
                Err(status::ERR_UNKNOWN)
            }
            Some(p) if p.value.prop_type() != ty => {
                self.violation(
                    call,
                    name,
                    format!(
                        "property is {}, not {}",
                        p.value.prop_type().name(),
                        ty.name()
                    ),
                );
                Err(miss)
            }
            Some(_) => Ok(()),
        }
    }

    /// `propGet<T>`: one value.
    pub fn plugin_get<T: Scalar + Clone>(
        &self,
        call: &str,
        name: &str,
        index: i32,
    ) -> Result<T, Status> {
        let props = self.read();
        self.check_known(call, name, &props, T::TYPE, status::ERR_UNKNOWN)?;
        let values = T::slot(&props[name].value).unwrap_or_default();
        match usize::try_from(index).ok().and_then(|i| values.get(i)) {
            Some(v) => Ok(v.clone()),
            None => {
                self.violation(
                    call,
                    name,
                    format!("index {index} out of range (dimension {})", values.len()),
                );
                Err(status::ERR_BAD_INDEX)
            }
        }
    }

    /// `propGetString`: the pointer stays valid until the property changes.
    pub fn plugin_get_str(
        &self,
        call: &str,
        name: &str,
        index: i32,
    ) -> Result<*const c_char, Status> {
        let props = self.read();
        self.check_known(call, name, &props, PropType::String, status::ERR_UNKNOWN)?;
        let values = CString::slot(&props[name].value).unwrap_or_default();
        match usize::try_from(index).ok().and_then(|i| values.get(i)) {
            Some(v) => Ok(v.as_ptr()),
            None => {
                self.violation(
                    call,
                    name,
                    format!("index {index} out of range (dimension {})", values.len()),
                );
                Err(status::ERR_BAD_INDEX)
            }
        }
    }

    /// `propGet<T>N`: `count` values through `out`, which gets at most the
    /// values present.
    pub fn plugin_get_n<T: Scalar, R>(
        &self,
        call: &str,
        name: &str,
        count: i32,
        mut out: impl FnMut(usize, &T) -> R,
    ) -> Result<(), Status> {
        let props = self.read();
        self.check_known(call, name, &props, T::TYPE, status::ERR_UNKNOWN)?;
        let values = T::slot(&props[name].value).unwrap_or_default();
        let Ok(count) = usize::try_from(count) else {
            self.violation(call, name, format!("negative count {count}"));
            return Err(status::ERR_BAD_INDEX);
        };
        for (i, v) in values.iter().take(count).enumerate() {
            out(i, v);
        }
        if count > values.len() {
            self.violation(
                call,
                name,
                format!(
                    "asked for {count} values, the property has {}",
                    values.len()
                ),
            );
            return Err(status::ERR_BAD_INDEX);
        }
        Ok(())
    }

    /// Checks that the plugin may write `name` with type `T`.
    fn check_write(
        &self,
        call: &str,
        name: &str,
        props: &BTreeMap<String, Property>,
        ty: PropType,
    ) -> Result<(), Status> {
        self.check_known(call, name, props, ty, status::ERR_VALUE)?;
        if props[name].access == Access::Ro {
            self.violation(call, name, "property is read-only for the plugin here");
            return Err(status::ERR_VALUE);
        }
        Ok(())
    }

    fn check_valid<T: Scalar>(
        &self,
        call: &str,
        name: &str,
        valid: Valid,
        v: &T,
    ) -> Result<(), Status> {
        if let Err(why) = v.validate(valid) {
            self.violation(call, name, why);
            return Err(status::ERR_VALUE);
        }
        Ok(())
    }

    /// `propSet<T>`: one value. A variable-dimension property grows as needed.
    pub fn plugin_set<T: Scalar>(
        &self,
        call: &str,
        name: &str,
        index: i32,
        v: T,
    ) -> Result<(), Status> {
        let mut props = self.write();
        self.check_write(call, name, &props, T::TYPE)?;
        let prop = props.get_mut(name).expect("checked");
        let Ok(i) = usize::try_from(index) else {
            self.violation(call, name, format!("negative index {index}"));
            return Err(status::ERR_BAD_INDEX);
        };
        if prop.dim != 0 && i >= prop.dim {
            self.violation(
                call,
                name,
                format!("index {index} out of range (dimension {})", prop.dim),
            );
            return Err(status::ERR_BAD_INDEX);
        }
        self.check_valid(call, name, prop.valid, &v)?;
        let values = T::slot_mut(&mut prop.value).expect("checked");
        if values.len() <= i {
            values.resize_with(i + 1, T::filler);
        }
        values[i] = v;
        Ok(())
    }

    /// `propSet<T>N`: the first `values.len()` values; a variable-dimension
    /// property takes exactly that many.
    pub fn plugin_set_n<T: Scalar>(
        &self,
        call: &str,
        name: &str,
        values: Vec<T>,
    ) -> Result<(), Status> {
        let mut props = self.write();
        self.check_write(call, name, &props, T::TYPE)?;
        let prop = props.get_mut(name).expect("checked");
        if prop.dim != 0 && values.len() > prop.dim {
            self.violation(
                call,
                name,
                format!(
                    "{} values for a property of dimension {}",
                    values.len(),
                    prop.dim
                ),
            );
            return Err(status::ERR_BAD_INDEX);
        }
        for v in &values {
            self.check_valid(call, name, prop.valid, v)?;
        }
        let dim = prop.dim;
        let slot = T::slot_mut(&mut prop.value).expect("checked");
        if dim == 0 {
            *slot = values;
        } else {
            for (i, v) in values.into_iter().enumerate() {
                slot[i] = v;
            }
        }
        Ok(())
    }

    /// `propReset`.
    pub fn plugin_reset(&self, call: &str, name: &str) -> Result<(), Status> {
        let mut props = self.write();
        let Some(prop) = props.get_mut(name) else {
            if name.starts_with("Ofx") {
                self.violation(call, name, "unknown property on this object");
            }
            return Err(status::ERR_UNKNOWN);
        };
        if prop.access == Access::Ro {
            drop(props);
            self.violation(call, name, "property is read-only for the plugin here");
            return Err(status::ERR_VALUE);
        }
        prop.value = prop.default.clone();
        Ok(())
    }

    /// `propGetDimension`.
    pub fn plugin_dimension(&self, call: &str, name: &str) -> Result<i32, Status> {
        let props = self.read();
        match props.get(name) {
            Some(p) => Ok(p.value.len() as i32),
            None => {
                if name.starts_with("Ofx") {
                    self.violation(call, name, "unknown property on this object");
                }
                Err(status::ERR_UNKNOWN)
            }
        }
    }
}

/// A snapshot of one property's values.
#[derive(Clone, Debug, PartialEq)]
pub enum PropValue {
    Int(Vec<i32>),
    Double(Vec<f64>),
    String(Vec<String>),
    Pointer(Vec<usize>),
}

impl From<&Value> for PropValue {
    fn from(v: &Value) -> Self {
        match v {
            Value::Int(v) => PropValue::Int(v.clone()),
            Value::Double(v) => PropValue::Double(v.clone()),
            Value::String(v) => {
                PropValue::String(v.iter().map(|s| s.to_string_lossy().into_owned()).collect())
            }
            Value::Pointer(v) => PropValue::Pointer(v.clone()),
        }
    }
}

/// A read-only snapshot of a property set, keyed by property name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Props(pub BTreeMap<String, PropValue>);

impl Props {
    pub fn get(&self, name: &str) -> Option<&PropValue> {
        self.0.get(name)
    }

    pub fn ints(&self, name: &str) -> &[i32] {
        match self.get(name) {
            Some(PropValue::Int(v)) => v,
            _ => &[],
        }
    }

    pub fn int(&self, name: &str) -> Option<i32> {
        self.ints(name).first().copied()
    }

    /// An int property read as a flag.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.int(name).map(|v| v != 0)
    }

    pub fn doubles(&self, name: &str) -> &[f64] {
        match self.get(name) {
            Some(PropValue::Double(v)) => v,
            _ => &[],
        }
    }

    pub fn double(&self, name: &str) -> Option<f64> {
        self.doubles(name).first().copied()
    }

    pub fn strs(&self, name: &str) -> &[String] {
        match self.get(name) {
            Some(PropValue::String(v)) => v,
            _ => &[],
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.strs(name).first().map(String::as_str)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::specs::EFFECT_DESCRIPTOR;

    #[test]
    fn plugin_access_is_checked_and_recorded() {
        let journal = Journal::new("test");
        let set = PropertySet::from_specs("effect descriptor", &journal, &[EFFECT_DESCRIPTOR]);
        let contexts = "OfxImageEffectPropSupportedContexts";
        assert_eq!(
            set.plugin_set(
                "propSetString",
                contexts,
                1,
                cstring("OfxImageEffectContextFilter")
            ),
            Ok(())
        );
        assert_eq!(
            set.plugin_dimension("propGetDimension", contexts),
            Ok(2),
            "variable dimension grows"
        );
        assert_eq!(
            set.plugin_set("propSetString", contexts, 0, cstring("Nonsense")),
            Err(status::ERR_VALUE)
        );
        assert_eq!(
            set.plugin_get::<i32>("propGetInt", contexts, 0),
            Err(status::ERR_UNKNOWN)
        );
        assert_eq!(
            set.plugin_set("propSetInt", "OfxImageEffectPropSupportsTiles", 1, 1),
            Err(status::ERR_BAD_INDEX)
        );
        assert_eq!(
            set.plugin_set("propSetString", "OfxPropType", 0, cstring("x")),
            Err(status::ERR_VALUE)
        );
        assert_eq!(
            set.plugin_get::<i32>("propGetInt", "OfxNoSuchThing", 0),
            Err(status::ERR_UNKNOWN)
        );
        assert_eq!(
            set.plugin_get::<i32>("propGetInt", "VendorExtension", 0),
            Err(status::ERR_UNKNOWN)
        );
        assert_eq!(journal.violations().len(), 5, "{:#?}", journal.violations());
        assert_eq!(set.plugin_reset("propReset", contexts), Ok(()));
        assert_eq!(set.strs(contexts), Vec::<String>::new());
    }
}
