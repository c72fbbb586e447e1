//! `OfxParameterSuiteV1`. The variadic calls are C shims (`variadic.c`) that
//! come back here through `param_shape`, `param_read` and `param_write`.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::sync::Arc;

use super::{param_of, param_set_of, put, status, text};
use crate::ffi::{
    self as f, OfxParamHandle, OfxParamSetHandle, OfxParameterSuiteV1, OfxPropertySetHandle,
    OfxRangeD, OfxStatus, OfxTime,
};
use crate::host::actions;
use crate::host::effect::{Effect, Stage};
use crate::host::params::{Edit, Param, ParamKind, ParamValue, Slots};
use crate::host::status as st;
use crate::host::strings::{self, name};

unsafe extern "C" {
    fn collapse_host_param_get_value(param: OfxParamHandle, ...) -> OfxStatus;
    fn collapse_host_param_get_value_at_time(
        param: OfxParamHandle,
        time: OfxTime,
        ...
    ) -> OfxStatus;
    fn collapse_host_param_get_derivative(param: OfxParamHandle, time: OfxTime, ...) -> OfxStatus;
    fn collapse_host_param_get_integral(
        param: OfxParamHandle,
        time1: OfxTime,
        time2: OfxTime,
        ...
    ) -> OfxStatus;
    fn collapse_host_param_set_value(param: OfxParamHandle, ...) -> OfxStatus;
    fn collapse_host_param_set_value_at_time(
        param: OfxParamHandle,
        time: OfxTime,
        ...
    ) -> OfxStatus;
}

static SUITE: OfxParameterSuiteV1 = OfxParameterSuiteV1 {
    paramDefine: Some(param_define),
    paramGetHandle: Some(param_get_handle),
    paramSetGetPropertySet: Some(param_set_get_property_set),
    paramGetPropertySet: Some(param_get_property_set),
    paramGetValue: Some(collapse_host_param_get_value),
    paramGetValueAtTime: Some(collapse_host_param_get_value_at_time),
    paramGetDerivative: Some(collapse_host_param_get_derivative),
    paramGetIntegral: Some(collapse_host_param_get_integral),
    paramSetValue: Some(collapse_host_param_set_value),
    paramSetValueAtTime: Some(collapse_host_param_set_value_at_time),
    paramGetNumKeys: Some(param_get_num_keys),
    paramGetKeyTime: Some(param_get_key_time),
    paramGetKeyIndex: Some(param_get_key_index),
    paramDeleteKey: Some(param_delete_key),
    paramDeleteAllKeys: Some(param_delete_all_keys),
    paramCopy: Some(param_copy),
    paramEditBegin: Some(param_edit_begin),
    paramEditEnd: Some(param_edit_end),
};

pub fn suite() -> *const c_void {
    &SUITE as *const OfxParameterSuiteV1 as *const c_void
}

unsafe extern "C" fn param_define(
    h: OfxParamSetHandle,
    kind: *const c_char,
    param: *const c_char,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let call = "paramDefine";
        let effect = param_set_of(call, h)?;
        let j = &effect.journal;
        let type_name = text(j, call, kind, "parameter type")?;
        let param_name = text(j, call, param, "parameter name")?;
        if !matches!(effect.stage, Stage::InContext(_)) {
            j.violation(format!(
                "{call}(\"{param_name}\") outside describeInContext"
            ));
            return Err(st::ERR_BAD_HANDLE);
        }
        let Some(kind) = ParamKind::from_ofx(type_name) else {
            j.violation(format!(
                "{call}(\"{param_name}\"): unknown parameter type \"{type_name}\""
            ));
            return Err(st::ERR_UNKNOWN);
        };
        if param_name.is_empty() {
            j.violation(format!("{call}: empty parameter name"));
            return Err(st::ERR_VALUE);
        }
        if effect.params.get(param_name).is_some() {
            j.violation(format!("{call}(\"{param_name}\"): parameter defined twice"));
            return Err(st::ERR_EXISTS);
        }
        let param = effect.define_param(kind, param_name);
        if kind == ParamKind::Double2D && effect.config.position_handles {
            param
                .props
                .set_int(name(f::kOfxParamPropHasHostOverlayHandle), 1);
        }
        if !out.is_null() {
            out.write(Arc::as_ptr(&param.props) as OfxPropertySetHandle);
        }
        Ok(())
    })
}

unsafe extern "C" fn param_get_handle(
    h: OfxParamSetHandle,
    param: *const c_char,
    out: *mut OfxParamHandle,
    props: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let call = "paramGetHandle";
        let effect = param_set_of(call, h)?;
        let param_name = text(&effect.journal, call, param, "parameter name")?;
        let Some(param) = effect.params.get(param_name) else {
            effect
                .journal
                .violation(format!("{call}(\"{param_name}\"): no such parameter"));
            return Err(st::ERR_UNKNOWN);
        };
        put(
            &effect.journal,
            call,
            out,
            Arc::as_ptr(&param) as OfxParamHandle,
        )?;
        if !props.is_null() {
            props.write(Arc::as_ptr(&param.props) as OfxPropertySetHandle);
        }
        Ok(())
    })
}

unsafe extern "C" fn param_set_get_property_set(
    h: OfxParamSetHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let effect = param_set_of("paramSetGetPropertySet", h)?;
        put(
            &effect.journal,
            "paramSetGetPropertySet",
            out,
            Arc::as_ptr(&effect.params.props) as OfxPropertySetHandle,
        )
    })
}

unsafe extern "C" fn param_get_property_set(
    h: OfxParamHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    status(|| {
        let (effect, param) = param_of("paramGetPropertySet", h)?;
        put(
            &effect.journal,
            "paramGetPropertySet",
            out,
            Arc::as_ptr(&param.props) as OfxPropertySetHandle,
        )
    })
}

/// The parameter of a value call, which must belong to an instance and hold a value.
fn valued(call: &str, h: OfxParamHandle) -> Result<(Arc<Effect>, Arc<Param>, Slots), OfxStatus> {
    let (effect, param) = param_of(call, h)?;
    if !effect.is_instance() {
        effect.journal.violation(format!(
            "{call}('{}') on a parameter descriptor",
            param.name
        ));
        return Err(st::ERR_BAD_HANDLE);
    }
    let Some(slots) = param.kind.slots() else {
        effect.journal.violation(format!(
            "{call}('{}'): a {} parameter has no value",
            param.name,
            param.kind.ofx_name()
        ));
        return Err(st::ERR_BAD_HANDLE);
    };
    Ok((effect, param, slots))
}

// ---- callbacks of the C shims -------------------------------------------

const SHIM_INT: c_int = 0;
const SHIM_DOUBLE: c_int = 1;
const SHIM_STRING: c_int = 2;
const MODE_DERIVATIVE: c_int = 2;
const MODE_INTEGRAL: c_int = 3;

pub unsafe extern "C" fn param_shape(
    h: OfxParamHandle,
    kind: *mut c_int,
    count: *mut c_int,
) -> OfxStatus {
    status(|| {
        let (_, _, slots) = valued("paramGetValue/paramSetValue", h)?;
        let (k, n) = match slots {
            Slots::Ints(n) => (SHIM_INT, n),
            Slots::Doubles(n) => (SHIM_DOUBLE, n),
            Slots::Str => (SHIM_STRING, 1),
        };
        kind.write(k);
        count.write(n as c_int);
        Ok(())
    })
}

pub unsafe extern "C" fn param_read(
    h: OfxParamHandle,
    mode: c_int,
    t1: f64,
    t2: f64,
    outs: *mut *mut c_void,
    count: c_int,
) -> OfxStatus {
    status(|| {
        let call = [
            "paramGetValue",
            "paramGetValueAtTime",
            "paramGetDerivative",
            "paramGetIntegral",
        ][mode.clamp(0, 3) as usize];
        let (effect, param, slots) = valued(call, h)?;
        let outs = std::slice::from_raw_parts(outs, count as usize);
        if let Some(i) = outs.iter().position(|p| p.is_null()) {
            effect.journal.violation(format!(
                "{call}('{}'): return pointer {i} is NULL",
                param.name
            ));
            return Err(st::ERR_BAD_HANDLE);
        }
        let value = param
            .value()
            .expect("valued parameters always hold a value");
        match (slots, mode) {
            (Slots::Doubles(_), MODE_DERIVATIVE | MODE_INTEGRAL) => {
                // Values are constant in time.
                let span = if mode == MODE_INTEGRAL { t2 - t1 } else { 0.0 };
                for (out, v) in outs.iter().zip(value.doubles()) {
                    out.cast::<f64>().write(v * span);
                }
            }
            (_, MODE_DERIVATIVE | MODE_INTEGRAL) => {
                effect.journal.violation(format!(
                    "{call}('{}') on a {} parameter",
                    param.name,
                    param.kind.ofx_name()
                ));
                return Err(st::ERR_BAD_HANDLE);
            }
            (Slots::Ints(_), _) => outs
                .iter()
                .zip(value.ints())
                .for_each(|(out, v)| out.cast::<c_int>().write(v)),
            (Slots::Doubles(_), _) => outs
                .iter()
                .zip(value.doubles())
                .for_each(|(out, v)| out.cast::<f64>().write(v)),
            (Slots::Str, _) => outs[0].cast::<*const c_char>().write(param.c_string()),
        }
        Ok(())
    })
}

pub unsafe extern "C" fn param_write(
    h: OfxParamHandle,
    at_time: c_int,
    time: f64,
    ints: *const c_int,
    doubles: *const f64,
    s: *const c_char,
) -> OfxStatus {
    status(|| {
        let call = if at_time != 0 {
            "paramSetValueAtTime"
        } else {
            "paramSetValue"
        };
        let (effect, param, slots) = valued(call, h)?;
        let j = &effect.journal;
        let action = actions::current_name();
        if actions::forbids_param_writes(action) {
            j.violation(format!(
                "{call}('{}') during {action}, where parameters are read-only",
                param.name
            ));
            return Err(st::ERR_UNSUPPORTED);
        }
        let string = match slots {
            Slots::Str => text(j, call, s, "string value")?,
            _ => "",
        };
        let ints = std::slice::from_raw_parts(ints, 4);
        let doubles = std::slice::from_raw_parts(doubles, 4);
        let value =
            ParamValue::from_parts(param.kind, ints, doubles, string).ok_or(st::ERR_BAD_HANDLE)?;
        if let ParamValue::Choice(i) = value {
            if i < 0 || i as usize >= param.option_count() {
                j.violation(format!(
                    "{call}('{}', {i}): choice index out of range ({} options)",
                    param.name,
                    param.option_count()
                ));
                return Err(st::ERR_VALUE);
            }
        }
        effect.params.record(Edit::Set {
            param: param.name.clone(),
            value: value.clone(),
        });
        param.set_value(value);
        if !actions::in_action_on(effect.handle(), name(f::kOfxActionCreateInstance)) {
            effect.plugin_changed_param(
                &param.name,
                if at_time != 0 {
                    time
                } else {
                    *effect.time.lock().unwrap_or_else(|e| e.into_inner())
                },
            );
        }
        Ok(())
    })
}

// ---- keys: values are static, so there are none ---------------------------

unsafe extern "C" fn param_get_num_keys(h: OfxParamHandle, out: *mut c_uint) -> OfxStatus {
    status(|| {
        let (effect, _) = param_of("paramGetNumKeys", h)?;
        put(&effect.journal, "paramGetNumKeys", out, 0)
    })
}

unsafe extern "C" fn param_get_key_time(
    h: OfxParamHandle,
    nth: c_uint,
    out: *mut OfxTime,
) -> OfxStatus {
    status(|| {
        let (effect, param) = param_of("paramGetKeyTime", h)?;
        effect.journal.violation(format!(
            "paramGetKeyTime('{}', {nth}): the parameter has no keys",
            param.name
        ));
        put(&effect.journal, "paramGetKeyTime", out, 0.0)?;
        Err(st::ERR_BAD_INDEX)
    })
}

unsafe extern "C" fn param_get_key_index(
    h: OfxParamHandle,
    _time: OfxTime,
    _direction: c_int,
    out: *mut c_int,
) -> OfxStatus {
    status(|| {
        let (effect, _) = param_of("paramGetKeyIndex", h)?;
        put(&effect.journal, "paramGetKeyIndex", out, -1)?;
        Err(st::FAILED)
    })
}

unsafe extern "C" fn param_delete_key(h: OfxParamHandle, _time: OfxTime) -> OfxStatus {
    status(|| {
        param_of("paramDeleteKey", h)?;
        Err(st::ERR_BAD_INDEX)
    })
}

unsafe extern "C" fn param_delete_all_keys(h: OfxParamHandle) -> OfxStatus {
    status(|| param_of("paramDeleteAllKeys", h).map(|_| ()))
}

unsafe extern "C" fn param_copy(
    to: OfxParamHandle,
    from: OfxParamHandle,
    _offset: OfxTime,
    _range: *const OfxRangeD,
) -> OfxStatus {
    status(|| {
        let (effect, target, _) = valued("paramCopy", to)?;
        let (_, source, _) = valued("paramCopy", from)?;
        if target.kind != source.kind {
            effect.journal.violation(format!(
                "paramCopy from '{}' to '{}' of another type",
                source.name, target.name
            ));
            return Err(st::ERR_VALUE);
        }
        target.set_value(source.value().expect("valued"));
        Ok(())
    })
}

unsafe extern "C" fn param_edit_begin(h: OfxParamSetHandle, label: *const c_char) -> OfxStatus {
    status(|| {
        let effect = param_set_of("paramEditBegin", h)?;
        match strings::from_c(label) {
            Some(label) => effect.params.record(Edit::Begin(label.to_owned())),
            None => effect
                .journal
                .violation("paramEditBegin with a NULL or non-UTF-8 name"),
        }
        *effect
            .params
            .edit_depth
            .lock()
            .unwrap_or_else(|e| e.into_inner()) += 1;
        Ok(())
    })
}

unsafe extern "C" fn param_edit_end(h: OfxParamSetHandle) -> OfxStatus {
    status(|| {
        let effect = param_set_of("paramEditEnd", h)?;
        let mut depth = effect
            .params
            .edit_depth
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *depth == 0 {
            effect
                .journal
                .violation("paramEditEnd without paramEditBegin");
            return Err(st::FAILED);
        }
        *depth -= 1;
        effect.params.record(Edit::End);
        Ok(())
    })
}
