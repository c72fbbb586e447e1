//! Parameter definition (describe time) and typed value reads (render time).

use super::error::check;
use super::{c, host_suites, OfxError, OfxResult, PropertySet};
use crate::ffi;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};

/// How a double parameter is interpreted by the host's UI.
#[derive(Clone, Copy, Debug)]
pub enum DoubleKind {
    Plain,
    /// A frame number on the time line.
    AbsoluteTime,
    /// A duration in frames.
    Time,
    /// A canonical position (Double2D), default given in normalised project coordinates.
    XYAbsolute,
    /// A canonical size (Double2D), default given in normalised project coordinates.
    XY,
}

/// A choice parameter's options: (option label, hint).
pub struct ChoiceDef {
    pub options: &'static [&'static str],
    pub default: i32,
}

/// The parameter set of a descriptor, for defining parameters in describeInContext.
pub struct ParamDefs {
    handle: ffi::OfxParamSetHandle,
}

/// Common properties every parameter gets.
pub struct ParamInfo<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub hint: &'a str,
    pub parent: Option<&'a str>,
}

impl ParamDefs {
    pub(crate) fn new(handle: ffi::OfxParamSetHandle) -> Self {
        ParamDefs { handle }
    }

    fn define(&self, kind: &'static [u8], info: &ParamInfo) -> OfxResult<PropertySet> {
        let suites = host_suites()?;
        let define = suites.param.paramDefine.ok_or_else(|| {
            OfxError::host_call("paramDefine", ffi::kOfxStatErrMissingHostFeature)
        })?;
        let name =
            CString::new(info.name).map_err(|_| OfxError::failed("parameter name with NUL"))?;
        let mut props: ffi::OfxPropertySetHandle = std::ptr::null_mut();
        // SAFETY: a descriptor's parameter set handle, a known param type and a C string name.
        let status = unsafe { define(self.handle, c(kind).as_ptr(), name.as_ptr(), &mut props) };
        check("paramDefine", status)?;
        let props = PropertySet(props);
        props.set_string(ffi::kOfxPropLabel, 0, info.label)?;
        if !info.hint.is_empty() {
            props.set_string(ffi::kOfxParamPropHint, 0, info.hint)?;
        }
        if let Some(parent) = info.parent {
            props.set_string(ffi::kOfxParamPropParent, 0, parent)?;
        }
        Ok(props)
    }

    /// A double with a default, a hard range and a slider range.
    pub fn double(
        &self,
        info: &ParamInfo,
        kind: DoubleKind,
        default: f64,
        range: (f64, f64),
        display: (f64, f64),
    ) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypeDouble, info)?;
        p.set_double(ffi::kOfxParamPropDefault, 0, default)?;
        p.set_double(ffi::kOfxParamPropMin, 0, range.0)?;
        p.set_double(ffi::kOfxParamPropMax, 0, range.1)?;
        p.set_double(ffi::kOfxParamPropDisplayMin, 0, display.0)?;
        p.set_double(ffi::kOfxParamPropDisplayMax, 0, display.1)?;
        set_double_kind(&p, kind)?;
        Ok(p)
    }

    /// A 2D double position or size in canonical coordinates.
    pub fn double2d(
        &self,
        info: &ParamInfo,
        kind: DoubleKind,
        default: (f64, f64),
    ) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypeDouble2D, info)?;
        p.set_doubles(ffi::kOfxParamPropDefault, &[default.0, default.1])?;
        set_double_kind(&p, kind)?;
        Ok(p)
    }

    pub fn int(
        &self,
        info: &ParamInfo,
        default: i32,
        range: (i32, i32),
        display: (i32, i32),
    ) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypeInteger, info)?;
        p.set_int(ffi::kOfxParamPropDefault, 0, default)?;
        p.set_int(ffi::kOfxParamPropMin, 0, range.0)?;
        p.set_int(ffi::kOfxParamPropMax, 0, range.1)?;
        p.set_int(ffi::kOfxParamPropDisplayMin, 0, display.0)?;
        p.set_int(ffi::kOfxParamPropDisplayMax, 0, display.1)?;
        Ok(p)
    }

    pub fn boolean(&self, info: &ParamInfo, default: bool) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypeBoolean, info)?;
        p.set_int(ffi::kOfxParamPropDefault, 0, default as i32)?;
        Ok(p)
    }

    pub fn choice(&self, info: &ParamInfo, choice: &ChoiceDef) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypeChoice, info)?;
        for (i, option) in choice.options.iter().enumerate() {
            p.set_string(ffi::kOfxParamPropChoiceOption, i, option)?;
        }
        p.set_int(ffi::kOfxParamPropDefault, 0, choice.default)?;
        // Choices never animate: a saved comp stores one value.
        p.set_int(ffi::kOfxParamPropAnimates, 0, 0)?;
        Ok(p)
    }

    /// A file path string parameter.
    pub fn file_path(&self, info: &ParamInfo, default: &str) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypeString, info)?;
        p.set_string(ffi::kOfxParamPropDefault, 0, default)?;
        p.set_cstr(
            ffi::kOfxParamPropStringMode,
            0,
            c(ffi::kOfxParamStringIsFilePath),
        )?;
        p.set_optional(p.set_int(ffi::kOfxParamPropStringFilePathExists, 0, 1));
        p.set_int(ffi::kOfxParamPropAnimates, 0, 0)?;
        Ok(p)
    }

    pub fn rgb(&self, info: &ParamInfo, default: [f64; 3]) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypeRGB, info)?;
        p.set_doubles(ffi::kOfxParamPropDefault, &default)?;
        Ok(p)
    }

    pub fn group(&self, info: &ParamInfo, open: bool) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypeGroup, info)?;
        p.set_optional(p.set_int(ffi::kOfxParamPropGroupOpen, 0, open as i32));
        Ok(p)
    }

    /// A page listing its children by name (hosts with paged UIs show one tab per page).
    pub fn page(&self, info: &ParamInfo, children: &[&str]) -> OfxResult<PropertySet> {
        let p = self.define(ffi::kOfxParamTypePage, info)?;
        for (i, child) in children.iter().enumerate() {
            p.set_string(ffi::kOfxParamPropPageChild, i, child)?;
        }
        Ok(p)
    }
}

fn set_double_kind(p: &PropertySet, kind: DoubleKind) -> OfxResult<()> {
    let (ty, normalised): (&'static [u8], bool) = match kind {
        DoubleKind::Plain => (ffi::kOfxParamDoubleTypePlain, false),
        DoubleKind::AbsoluteTime => (ffi::kOfxParamDoubleTypeAbsoluteTime, false),
        DoubleKind::Time => (ffi::kOfxParamDoubleTypeTime, false),
        DoubleKind::XYAbsolute => (ffi::kOfxParamDoubleTypeXYAbsolute, true),
        DoubleKind::XY => (ffi::kOfxParamDoubleTypeXY, true),
    };
    p.set_cstr(ffi::kOfxParamPropDoubleType, 0, c(ty))?;
    if normalised {
        // Defaults are fractions of the project size; values stay canonical.
        p.set_optional(p.set_cstr(
            ffi::kOfxParamPropDefaultCoordinateSystem,
            0,
            c(ffi::kOfxParamCoordinatesNormalised),
        ));
    }
    Ok(())
}

/// The parameter set of an instance, for reading values at a time.
#[derive(Clone, Copy)]
pub struct ParamValues {
    handle: ffi::OfxParamSetHandle,
}

impl ParamValues {
    pub(crate) fn new(handle: ffi::OfxParamSetHandle) -> Self {
        ParamValues { handle }
    }

    fn param(&self, name: &str) -> OfxResult<ffi::OfxParamHandle> {
        let suites = host_suites()?;
        let get = suites.param.paramGetHandle.ok_or_else(|| {
            OfxError::host_call("paramGetHandle", ffi::kOfxStatErrMissingHostFeature)
        })?;
        let cname = CString::new(name).map_err(|_| OfxError::failed("parameter name with NUL"))?;
        let mut handle: ffi::OfxParamHandle = std::ptr::null_mut();
        // SAFETY: an instance's parameter set, a C string, and an out pointer; the property-set out pointer may be null.
        let status = unsafe {
            get(
                self.handle,
                cname.as_ptr(),
                &mut handle,
                std::ptr::null_mut(),
            )
        };
        check(&format!("paramGetHandle({name})"), status)?;
        Ok(handle)
    }

    fn get_at_time(
        &self,
    ) -> OfxResult<unsafe extern "C" fn(ffi::OfxParamHandle, ffi::OfxTime, ...) -> ffi::OfxStatus>
    {
        host_suites()?.param.paramGetValueAtTime.ok_or_else(|| {
            OfxError::host_call("paramGetValueAtTime", ffi::kOfxStatErrMissingHostFeature)
        })
    }

    /// A parameter's instance properties (enabled, secret, host overlay handle ...).
    pub fn props(&self, name: &str) -> OfxResult<PropertySet> {
        let h = self.param(name)?;
        let get = host_suites()?.param.paramGetPropertySet.ok_or_else(|| {
            OfxError::host_call("paramGetPropertySet", ffi::kOfxStatErrMissingHostFeature)
        })?;
        let mut props: ffi::OfxPropertySetHandle = std::ptr::null_mut();
        // SAFETY: a parameter handle from the host and an out pointer.
        check(&format!("paramGetPropertySet({name})"), unsafe {
            get(h, &mut props)
        })?;
        Ok(PropertySet(props))
    }

    /// Sets a Double2D parameter (at the host's current time when it animates).
    pub fn set_double2d(&self, name: &str, value: (f64, f64)) -> OfxResult<()> {
        let h = self.param(name)?;
        let set = host_suites()?.param.paramSetValue.ok_or_else(|| {
            OfxError::host_call("paramSetValue", ffi::kOfxStatErrMissingHostFeature)
        })?;
        // SAFETY: a Double2D parameter takes two doubles after the handle.
        check(name, unsafe { set(h, value.0, value.1) })
    }

    /// Opens an undo block: the host groups every change until `end_edit` as one step.
    pub fn begin_edit(&self, label: &str) -> OfxResult<()> {
        let f = host_suites()?.param.paramEditBegin.ok_or_else(|| {
            OfxError::host_call("paramEditBegin", ffi::kOfxStatErrMissingHostFeature)
        })?;
        let label = CString::new(label).map_err(|_| OfxError::failed("edit label with NUL"))?;
        // SAFETY: an instance's parameter set and a C string.
        check("paramEditBegin", unsafe { f(self.handle, label.as_ptr()) })
    }

    pub fn end_edit(&self) -> OfxResult<()> {
        let f = host_suites()?.param.paramEditEnd.ok_or_else(|| {
            OfxError::host_call("paramEditEnd", ffi::kOfxStatErrMissingHostFeature)
        })?;
        // SAFETY: an instance's parameter set.
        check("paramEditEnd", unsafe { f(self.handle) })
    }

    pub fn double(&self, name: &str, time: f64) -> OfxResult<f64> {
        let (h, f) = (self.param(name)?, self.get_at_time()?);
        let mut v = 0.0f64;
        // SAFETY: a Double parameter takes one double* after the time.
        check(name, unsafe { f(h, time, &mut v as *mut f64) })?;
        Ok(v)
    }

    pub fn double2d(&self, name: &str, time: f64) -> OfxResult<(f64, f64)> {
        let (h, f) = (self.param(name)?, self.get_at_time()?);
        let (mut x, mut y) = (0.0f64, 0.0f64);
        // SAFETY: a Double2D parameter takes two double* after the time.
        check(name, unsafe {
            f(h, time, &mut x as *mut f64, &mut y as *mut f64)
        })?;
        Ok((x, y))
    }

    pub fn rgb(&self, name: &str, time: f64) -> OfxResult<[f64; 3]> {
        let (h, f) = (self.param(name)?, self.get_at_time()?);
        let mut v = [0.0f64; 3];
        let [r, g, b] = &mut v;
        // SAFETY: an RGB parameter takes three double* after the time.
        check(name, unsafe {
            f(h, time, r as *mut f64, g as *mut f64, b as *mut f64)
        })?;
        Ok(v)
    }

    /// Integer, Boolean and Choice parameters all answer one int.
    pub fn int(&self, name: &str, time: f64) -> OfxResult<i32> {
        let (h, f) = (self.param(name)?, self.get_at_time()?);
        let mut v: c_int = 0;
        // SAFETY: Integer/Boolean/Choice parameters take one int* after the time.
        check(name, unsafe { f(h, time, &mut v as *mut c_int) })?;
        Ok(v)
    }

    pub fn string(&self, name: &str, time: f64) -> OfxResult<String> {
        let (h, f) = (self.param(name)?, self.get_at_time()?);
        let mut v: *mut c_char = std::ptr::null_mut();
        // SAFETY: a String parameter takes one char** after the time; the host owns the string.
        check(name, unsafe { f(h, time, &mut v as *mut *mut c_char) })?;
        if v.is_null() {
            return Ok(String::new());
        }
        // SAFETY: the host returned a NUL-terminated string valid during this action.
        Ok(unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned())
    }
}
