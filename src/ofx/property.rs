//! Typed access to an OpenFX property set.

use super::error::check;
use super::{c, host_suites, OfxError, OfxResult};
use crate::ffi;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

/// A borrowed property set handle (descriptor, instance, clip, image, param or action arguments).
#[derive(Clone, Copy, Debug)]
pub struct PropertySet(pub(crate) ffi::OfxPropertySetHandle);

fn suite() -> OfxResult<&'static ffi::OfxPropertySuiteV1> {
    Ok(host_suites()?.property)
}

macro_rules! call {
    ($suite:expr, $f:ident ( $($arg:expr),* )) => {{
        let f = $suite.$f.ok_or_else(|| OfxError::new(ffi::kOfxStatErrMissingHostFeature,
            concat!("the host's property suite lacks ", stringify!($f))))?;
        // SAFETY: arguments follow the OpenFX property suite signature; the handle came from the host.
        unsafe { f($($arg),*) }
    }};
}

impl PropertySet {
    pub fn is_null(&self) -> bool {
        self.0.is_null()
    }

    pub fn set_string(&self, name: &'static [u8], index: usize, value: &str) -> OfxResult<()> {
        let value = CString::new(value.replace('\0', " ")).expect("NUL bytes were replaced");
        self.set_cstr(name, index, &value)
    }

    pub fn set_cstr(&self, name: &'static [u8], index: usize, value: &CStr) -> OfxResult<()> {
        let s = suite()?;
        check(
            prop_what(name),
            call!(
                s,
                propSetString(self.0, c(name).as_ptr(), index as c_int, value.as_ptr())
            ),
        )
    }

    pub fn set_int(&self, name: &'static [u8], index: usize, value: i32) -> OfxResult<()> {
        let s = suite()?;
        check(
            prop_what(name),
            call!(
                s,
                propSetInt(self.0, c(name).as_ptr(), index as c_int, value)
            ),
        )
    }

    pub fn set_double(&self, name: &'static [u8], index: usize, value: f64) -> OfxResult<()> {
        let s = suite()?;
        check(
            prop_what(name),
            call!(
                s,
                propSetDouble(self.0, c(name).as_ptr(), index as c_int, value)
            ),
        )
    }

    pub fn set_doubles(&self, name: &'static [u8], values: &[f64]) -> OfxResult<()> {
        values
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| self.set_double(name, i, *v))
    }

    pub fn set_ints(&self, name: &'static [u8], values: &[i32]) -> OfxResult<()> {
        values
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| self.set_int(name, i, *v))
    }

    /// Sets a property whose name is built at run time (e.g. `OfxImageClipPropRoI_Source`).
    pub fn set_doubles_dyn(&self, name: &CStr, values: &[f64]) -> OfxResult<()> {
        let s = suite()?;
        for (i, v) in values.iter().enumerate() {
            check(
                "propSetDouble",
                call!(s, propSetDouble(self.0, name.as_ptr(), i as c_int, *v)),
            )?;
        }
        Ok(())
    }

    pub fn set_cstr_dyn(&self, name: &CStr, value: &CStr) -> OfxResult<()> {
        let s = suite()?;
        check(
            "propSetString",
            call!(s, propSetString(self.0, name.as_ptr(), 0, value.as_ptr())),
        )
    }

    pub fn set_double_dyn(&self, name: &CStr, value: f64) -> OfxResult<()> {
        self.set_doubles_dyn(name, &[value])
    }

    /// Sets every string of a multi-valued property, e.g. supported contexts.
    pub fn set_strings(&self, name: &'static [u8], values: &[&'static [u8]]) -> OfxResult<()> {
        values
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| self.set_cstr(name, i, c(v)))
    }

    pub fn get_string(&self, name: &'static [u8], index: usize) -> OfxResult<String> {
        let s = suite()?;
        let mut out: *mut c_char = std::ptr::null_mut();
        check(
            prop_what(name),
            call!(
                s,
                propGetString(self.0, c(name).as_ptr(), index as c_int, &mut out)
            ),
        )?;
        if out.is_null() {
            return Ok(String::new());
        }
        // SAFETY: the host returns a NUL-terminated string valid for the duration of the action.
        Ok(unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned())
    }

    pub fn get_int(&self, name: &'static [u8], index: usize) -> OfxResult<i32> {
        let s = suite()?;
        let mut out: c_int = 0;
        check(
            prop_what(name),
            call!(
                s,
                propGetInt(self.0, c(name).as_ptr(), index as c_int, &mut out)
            ),
        )?;
        Ok(out)
    }

    pub fn get_double(&self, name: &'static [u8], index: usize) -> OfxResult<f64> {
        let s = suite()?;
        let mut out = 0.0f64;
        check(
            prop_what(name),
            call!(
                s,
                propGetDouble(self.0, c(name).as_ptr(), index as c_int, &mut out)
            ),
        )?;
        Ok(out)
    }

    pub fn get_doubles<const N: usize>(&self, name: &'static [u8]) -> OfxResult<[f64; N]> {
        let mut out = [0.0; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = self.get_double(name, i)?;
        }
        Ok(out)
    }

    pub fn get_ints<const N: usize>(&self, name: &'static [u8]) -> OfxResult<[i32; N]> {
        let mut out = [0; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = self.get_int(name, i)?;
        }
        Ok(out)
    }

    pub fn set_pointer(&self, name: &'static [u8], value: *mut c_void) -> OfxResult<()> {
        let s = suite()?;
        check(
            prop_what(name),
            call!(s, propSetPointer(self.0, c(name).as_ptr(), 0, value)),
        )
    }

    pub fn get_pointer(&self, name: &'static [u8]) -> OfxResult<*mut c_void> {
        let s = suite()?;
        let mut out: *mut c_void = std::ptr::null_mut();
        check(
            prop_what(name),
            call!(s, propGetPointer(self.0, c(name).as_ptr(), 0, &mut out)),
        )?;
        Ok(out)
    }

    pub fn dimension(&self, name: &'static [u8]) -> OfxResult<usize> {
        let s = suite()?;
        let mut out: c_int = 0;
        check(
            prop_what(name),
            call!(s, propGetDimension(self.0, c(name).as_ptr(), &mut out)),
        )?;
        Ok(out.max(0) as usize)
    }

    /// Every string of a multi-valued property.
    pub fn get_strings(&self, name: &'static [u8]) -> OfxResult<Vec<String>> {
        (0..self.dimension(name)?)
            .map(|i| self.get_string(name, i))
            .collect()
    }

    /// Sets an optional property: a host that does not know it is not an error
    /// (HostSupport refuses unknown descriptor properties with kOfxStatErrUnknown).
    pub fn set_optional(&self, result: OfxResult<()>) {
        if let Err(e) = result {
            log::debug!("optional property not taken by the host: {e}");
        }
    }
}

fn prop_what(name: &'static [u8]) -> &'static str {
    c(name).to_str().unwrap_or("property")
}
