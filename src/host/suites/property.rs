//! `OfxPropertySuiteV1`.

use std::ffi::{c_char, c_int, c_void, CString};

use super::{props_of, put, status, text};
use crate::ffi::{OfxPropertySetHandle, OfxPropertySuiteV1, OfxStatus};
use crate::host::properties::{cstring, Scalar};
use crate::host::status as st;

static SUITE: OfxPropertySuiteV1 = OfxPropertySuiteV1 {
    propSetPointer: Some(set_pointer),
    propSetString: Some(set_string),
    propSetDouble: Some(set_double),
    propSetInt: Some(set_int),
    propSetPointerN: Some(set_pointer_n),
    propSetStringN: Some(set_string_n),
    propSetDoubleN: Some(set_double_n),
    propSetIntN: Some(set_int_n),
    propGetPointer: Some(get_pointer),
    propGetString: Some(get_string),
    propGetDouble: Some(get_double),
    propGetInt: Some(get_int),
    propGetPointerN: Some(get_pointer_n),
    propGetStringN: Some(get_string_n),
    propGetDoubleN: Some(get_double_n),
    propGetIntN: Some(get_int_n),
    propReset: Some(reset),
    propGetDimension: Some(get_dimension),
};

pub fn suite() -> *const c_void {
    &SUITE as *const OfxPropertySuiteV1 as *const c_void
}

/// Common body of the setters: resolves handle and name, then `set`.
fn set_one<T: Scalar>(
    call: &str,
    h: OfxPropertySetHandle,
    property: *const c_char,
    index: c_int,
    value: impl FnOnce(&crate::host::journal::Journal) -> Result<T, OfxStatus>,
) -> OfxStatus {
    status(|| {
        let props = props_of(call, h)?;
        // SAFETY: the plugin passes a C string for the property name.
        let key = unsafe { text(props.journal(), call, property, "property name")? };
        let v = value(props.journal())?;
        props.plugin_set(call, key, index, v)
    })
}

fn set_many<T: Scalar>(
    call: &str,
    h: OfxPropertySetHandle,
    property: *const c_char,
    count: c_int,
    values: impl FnOnce(&crate::host::journal::Journal, usize) -> Result<Vec<T>, OfxStatus>,
) -> OfxStatus {
    status(|| {
        let props = props_of(call, h)?;
        // SAFETY: the plugin passes a C string for the property name.
        let key = unsafe { text(props.journal(), call, property, "property name")? };
        let Ok(n) = usize::try_from(count) else {
            props
                .journal()
                .violation(format!("{call}(\"{key}\"): negative count {count}"));
            return Err(st::ERR_BAD_INDEX);
        };
        let v = values(props.journal(), n)?;
        props.plugin_set_n(call, key, v)
    })
}

/// Reads `n` values from a plugin array; NULL with n > 0 is a violation.
///
/// # Safety
/// `ptr` is NULL or points to `n` readable values.
unsafe fn array<T: Copy>(
    journal: &crate::host::journal::Journal,
    call: &str,
    ptr: *const T,
    n: usize,
) -> Result<Vec<T>, OfxStatus> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() {
        journal.violation(format!("{call}: NULL value array"));
        return Err(st::ERR_BAD_HANDLE);
    }
    Ok(std::slice::from_raw_parts(ptr, n).to_vec())
}

unsafe extern "C" fn set_pointer(
    h: OfxPropertySetHandle,
    p: *const c_char,
    i: c_int,
    v: *mut c_void,
) -> OfxStatus {
    set_one("propSetPointer", h, p, i, |_| Ok(v as usize))
}

unsafe extern "C" fn set_string(
    h: OfxPropertySetHandle,
    p: *const c_char,
    i: c_int,
    v: *const c_char,
) -> OfxStatus {
    set_one("propSetString", h, p, i, |j| {
        unsafe { text(j, "propSetString", v, "value") }.map(cstring)
    })
}

unsafe extern "C" fn set_double(
    h: OfxPropertySetHandle,
    p: *const c_char,
    i: c_int,
    v: f64,
) -> OfxStatus {
    set_one("propSetDouble", h, p, i, |_| Ok(v))
}

unsafe extern "C" fn set_int(
    h: OfxPropertySetHandle,
    p: *const c_char,
    i: c_int,
    v: c_int,
) -> OfxStatus {
    set_one("propSetInt", h, p, i, |_| Ok(v))
}

unsafe extern "C" fn set_pointer_n(
    h: OfxPropertySetHandle,
    p: *const c_char,
    n: c_int,
    v: *const *mut c_void,
) -> OfxStatus {
    set_many("propSetPointerN", h, p, n, |j, n| {
        unsafe { array(j, "propSetPointerN", v, n) }
            .map(|v| v.into_iter().map(|p| p as usize).collect())
    })
}

unsafe extern "C" fn set_string_n(
    h: OfxPropertySetHandle,
    p: *const c_char,
    n: c_int,
    v: *const *const c_char,
) -> OfxStatus {
    set_many("propSetStringN", h, p, n, |j, n| {
        let ptrs = unsafe { array(j, "propSetStringN", v, n)? };
        ptrs.into_iter()
            .map(|s| unsafe { text(j, "propSetStringN", s, "value") }.map(cstring))
            .collect::<Result<Vec<CString>, _>>()
    })
}

unsafe extern "C" fn set_double_n(
    h: OfxPropertySetHandle,
    p: *const c_char,
    n: c_int,
    v: *const f64,
) -> OfxStatus {
    set_many("propSetDoubleN", h, p, n, |j, n| unsafe {
        array(j, "propSetDoubleN", v, n)
    })
}

unsafe extern "C" fn set_int_n(
    h: OfxPropertySetHandle,
    p: *const c_char,
    n: c_int,
    v: *const c_int,
) -> OfxStatus {
    set_many("propSetIntN", h, p, n, |j, n| unsafe {
        array(j, "propSetIntN", v, n)
    })
}

/// Common body of the single-value getters.
fn get_one<T: Scalar + Clone, R>(
    call: &str,
    h: OfxPropertySetHandle,
    property: *const c_char,
    index: c_int,
    out: *mut R,
    convert: impl FnOnce(T) -> R,
) -> OfxStatus {
    status(|| {
        let props = props_of(call, h)?;
        // SAFETY: the plugin passes a C string for the property name.
        let key = unsafe { text(props.journal(), call, property, "property name")? };
        let v = props.plugin_get::<T>(call, key, index)?;
        // SAFETY: the plugin passes a writable return location.
        unsafe { put(props.journal(), call, out, convert(v)) }
    })
}

fn get_many<T: Scalar, R>(
    call: &str,
    h: OfxPropertySetHandle,
    property: *const c_char,
    count: c_int,
    out: *mut R,
    convert: impl Fn(&T) -> R,
) -> OfxStatus {
    status(|| {
        let props = props_of(call, h)?;
        // SAFETY: the plugin passes a C string for the property name.
        let key = unsafe { text(props.journal(), call, property, "property name")? };
        if out.is_null() && count > 0 {
            props
                .journal()
                .violation(format!("{call}(\"{key}\"): NULL return array"));
            return Err(st::ERR_BAD_HANDLE);
        }
        // SAFETY: the plugin passes room for `count` values.
        props.plugin_get_n::<T, ()>(call, key, count, |i, v| unsafe {
            out.add(i).write(convert(v))
        })
    })
}

unsafe extern "C" fn get_pointer(
    h: OfxPropertySetHandle,
    p: *const c_char,
    i: c_int,
    out: *mut *mut c_void,
) -> OfxStatus {
    get_one::<usize, _>("propGetPointer", h, p, i, out, |v| v as *mut c_void)
}

unsafe extern "C" fn get_string(
    h: OfxPropertySetHandle,
    p: *const c_char,
    i: c_int,
    out: *mut *mut c_char,
) -> OfxStatus {
    status(|| {
        let call = "propGetString";
        let props = props_of(call, h)?;
        let key = unsafe { text(props.journal(), call, p, "property name")? };
        let v = props.plugin_get_str(call, key, i)?;
        unsafe { put(props.journal(), call, out, v as *mut c_char) }
    })
}

unsafe extern "C" fn get_double(
    h: OfxPropertySetHandle,
    p: *const c_char,
    i: c_int,
    out: *mut f64,
) -> OfxStatus {
    get_one::<f64, _>("propGetDouble", h, p, i, out, |v| v)
}

unsafe extern "C" fn get_int(
    h: OfxPropertySetHandle,
    p: *const c_char,
    i: c_int,
    out: *mut c_int,
) -> OfxStatus {
    get_one::<i32, _>("propGetInt", h, p, i, out, |v| v)
}

unsafe extern "C" fn get_pointer_n(
    h: OfxPropertySetHandle,
    p: *const c_char,
    n: c_int,
    out: *mut *mut c_void,
) -> OfxStatus {
    get_many::<usize, _>("propGetPointerN", h, p, n, out, |v| *v as *mut c_void)
}

unsafe extern "C" fn get_string_n(
    h: OfxPropertySetHandle,
    p: *const c_char,
    n: c_int,
    out: *mut *mut c_char,
) -> OfxStatus {
    get_many::<CString, _>("propGetStringN", h, p, n, out, |v| {
        v.as_ptr() as *mut c_char
    })
}

unsafe extern "C" fn get_double_n(
    h: OfxPropertySetHandle,
    p: *const c_char,
    n: c_int,
    out: *mut f64,
) -> OfxStatus {
    get_many::<f64, _>("propGetDoubleN", h, p, n, out, |v| *v)
}

unsafe extern "C" fn get_int_n(
    h: OfxPropertySetHandle,
    p: *const c_char,
    n: c_int,
    out: *mut c_int,
) -> OfxStatus {
    get_many::<i32, _>("propGetIntN", h, p, n, out, |v| *v)
}

unsafe extern "C" fn reset(h: OfxPropertySetHandle, p: *const c_char) -> OfxStatus {
    status(|| {
        let props = props_of("propReset", h)?;
        let key = unsafe { text(props.journal(), "propReset", p, "property name")? };
        props.plugin_reset("propReset", key)
    })
}

unsafe extern "C" fn get_dimension(
    h: OfxPropertySetHandle,
    p: *const c_char,
    out: *mut c_int,
) -> OfxStatus {
    status(|| {
        let props = props_of("propGetDimension", h)?;
        let key = unsafe { text(props.journal(), "propGetDimension", p, "property name")? };
        let n = props.plugin_dimension("propGetDimension", key)?;
        unsafe { put(props.journal(), "propGetDimension", out, n) }
    })
}
