//! ABI test: our own OpenFX headers (`ofx-headers/`, bound by build.rs as
//! `collapse_ofx::ffi`) against the official OpenFX headers as bound by the
//! `openfx-sys` 0.1.0 crate (a dev-dependency).
//!
//! - `struct_layouts_match`: size, alignment and every field's offset of every struct
//!   and suite.
//! - `constants_match`: every constant's value; strings byte for byte, integers
//!   numerically (our bindgen makes integer macros `i32`, openfx-sys makes them `u32`),
//!   floats exactly.
//! - `types_and_signatures_match`: size and alignment of every type alias, plus the
//!   text bindgen wrote for every struct, type alias and function on both sides
//!   (parameter names ignored), so a wrong parameter type inside a suite is caught
//!   even where it does not change the layout.
//! - `every_declaration_is_checked`: every `pub struct`, `pub const`, `pub type` and
//!   `pub fn` in our generated bindings is in the lists below, every listed struct
//!   names all its fields, and every OpenFX declaration openfx-sys has is in ours.
//!
//! A few declarations cannot be compared with openfx-sys and are checked against
//! values pinned here instead (see `pinned_constants`):
//! - the status codes, `kOfxFlagInfiniteMax` and `kOfxFlagInfiniteMin`: the official
//!   headers spell them `((int) 3)` / `INT_MAX`, which openfx-sys's bindgen does not
//!   evaluate, so openfx-sys has no constant for them (our headers use plain literals);
//! - OpenFX 1.5 GPU render names that the 0.1.0 headers do not have (`ofxGPURender.h`).

#![allow(non_snake_case, non_upper_case_globals)]

use collapse_ofx::ffi;
use openfx_sys as sys;
use std::collections::{BTreeMap, BTreeSet};
use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// Collecting results

#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    /// struct name -> fields named in its `check_struct!`
    structs: BTreeMap<&'static str, Vec<&'static str>>,
    consts: BTreeSet<&'static str>,
    types: BTreeSet<&'static str>,
    fns: BTreeSet<&'static str>,
    /// checked against pinned values only, not against openfx-sys
    not_in_sys: BTreeSet<&'static str>,
}

impl Checker {
    fn fail(&mut self, msg: String) {
        self.failures.push(msg);
    }

    fn finish(self, what: &str) {
        if !self.failures.is_empty() {
            panic!(
                "{} {what} mismatch(es):\n  {}",
                self.failures.len(),
                self.failures.join("\n  ")
            );
        }
    }
}

/// A constant's value, whatever Rust type bindgen gave it.
#[derive(PartialEq)]
enum Value {
    Bytes(Vec<u8>),
    Int(i128),
    Float(f64),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bytes(b) => write!(f, "b\"{}\"", b.escape_ascii()),
            Value::Int(i) => write!(f, "{i} (integer)"),
            Value::Float(x) => write!(f, "{x:?} (float)"),
        }
    }
}

trait ConstValue {
    fn value(&self) -> Value;
}

impl<const N: usize> ConstValue for &[u8; N] {
    fn value(&self) -> Value {
        Value::Bytes(self.to_vec())
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl ConstValue for $t {
            fn value(&self) -> Value {
                Value::Int(*self as i128)
            }
        }
    )*};
}
int_value!(i8, i16, i32, i64, u8, u16, u32, u64);

impl ConstValue for f32 {
    fn value(&self) -> Value {
        Value::Float(*self as f64)
    }
}

impl ConstValue for f64 {
    fn value(&self) -> Value {
        Value::Float(*self)
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // exact, bit for bit (also tells 0.0 from -0.0)
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------
// Checking macros

/// Size, alignment and the offset of each named field, ours against openfx-sys.
macro_rules! check_struct {
    ($c:expr; $name:ident { $($field:ident),* $(,)? }) => {{
        let name = stringify!($name);
        let ours = (size_of::<ffi::$name>(), align_of::<ffi::$name>());
        let theirs = (size_of::<sys::$name>(), align_of::<sys::$name>());
        if ours != theirs {
            $c.fail(format!(
                "struct {name}: (size, align) is {ours:?} in ours, {theirs:?} in openfx-sys"
            ));
        }
        $(
            let ours = offset_of!(ffi::$name, $field);
            let theirs = offset_of!(sys::$name, $field);
            if ours != theirs {
                $c.fail(format!(
                    "struct {name}: field {} at offset {ours} in ours, {theirs} in openfx-sys",
                    stringify!($field)
                ));
            }
        )*
        $c.structs.insert(name, vec![$(stringify!($field)),*]);
    }};
}

/// Values of constants, ours against openfx-sys.
macro_rules! check_consts {
    ($c:expr; $($name:ident),* $(,)?) => {$(
        let ours = ConstValue::value(&ffi::$name);
        let theirs = ConstValue::value(&sys::$name);
        if !same(&ours, &theirs) {
            $c.fail(format!(
                "const {}: {ours:?} in ours, {theirs:?} in openfx-sys",
                stringify!($name)
            ));
        }
        $c.consts.insert(stringify!($name));
    )*};
}

/// Values of constants openfx-sys lacks, against values pinned from the headers.
macro_rules! check_pinned {
    ($c:expr; $($name:ident = $value:expr),* $(,)?) => {$(
        let ours = ConstValue::value(&ffi::$name);
        let pinned = ConstValue::value(&$value);
        if !same(&ours, &pinned) {
            $c.fail(format!(
                "const {}: {ours:?} in ours, {pinned:?} pinned from the headers",
                stringify!($name)
            ));
        }
        $c.consts.insert(stringify!($name));
    )*};
}

/// Size and alignment of type aliases, ours against openfx-sys.
macro_rules! check_types {
    ($c:expr; $($name:ident),* $(,)?) => {$(
        let ours = (size_of::<ffi::$name>(), align_of::<ffi::$name>());
        let theirs = (size_of::<sys::$name>(), align_of::<sys::$name>());
        if ours != theirs {
            $c.fail(format!(
                "type {}: (size, align) is {ours:?} in ours, {theirs:?} in openfx-sys",
                stringify!($name)
            ));
        }
        $c.types.insert(stringify!($name));
    )*};
}

// ---------------------------------------------------------------------------
// What is checked

fn struct_layouts(c: &mut Checker) {
    // ofxCore.h
    check_struct!(c; OfxPropertySetStruct {});
    check_struct!(c; OfxHost { host, fetchSuite });
    check_struct!(c; OfxPlugin {
        pluginApi, apiVersion, pluginIdentifier, pluginVersionMajor, pluginVersionMinor, setHost,
        mainEntry,
    });
    check_struct!(c; OfxRangeI { min, max });
    check_struct!(c; OfxRangeD { min, max });
    check_struct!(c; OfxPointI { x, y });
    check_struct!(c; OfxPointD { x, y });
    check_struct!(c; OfxRectI { x1, y1, x2, y2 });
    check_struct!(c; OfxRectD { x1, y1, x2, y2 });
    // ofxProperty.h
    check_struct!(c; OfxPropertySuiteV1 {
        propSetPointer, propSetString, propSetDouble, propSetInt, propSetPointerN, propSetStringN,
        propSetDoubleN, propSetIntN, propGetPointer, propGetString, propGetDouble, propGetInt,
        propGetPointerN, propGetStringN, propGetDoubleN, propGetIntN, propReset, propGetDimension,
    });
    // ofxMemory.h
    check_struct!(c; OfxMemorySuiteV1 { memoryAlloc, memoryFree });
    // ofxMultiThread.h
    check_struct!(c; OfxMutex {});
    check_struct!(c; OfxMultiThreadSuiteV1 {
        multiThread, multiThreadNumCPUs, multiThreadIndex, multiThreadIsSpawnedThread, mutexCreate,
        mutexDestroy, mutexLock, mutexUnLock, mutexTryLock,
    });
    // ofxMessage.h
    check_struct!(c; OfxMessageSuiteV1 { message });
    check_struct!(c; OfxMessageSuiteV2 { message, setPersistentMessage, clearPersistentMessage });
    // ofxProgress.h
    check_struct!(c; OfxProgressSuiteV1 { progressStart, progressUpdate, progressEnd });
    check_struct!(c; OfxProgressSuiteV2 { progressStart, progressUpdate, progressEnd });
    // ofxTimeLine.h
    check_struct!(c; OfxTimeLineSuiteV1 { getTime, gotoTime, getTimeBounds });
    // ofxParam.h
    check_struct!(c; OfxParamStruct {});
    check_struct!(c; OfxParamSetStruct {});
    check_struct!(c; OfxParameterSuiteV1 {
        paramDefine, paramGetHandle, paramSetGetPropertySet, paramGetPropertySet, paramGetValue,
        paramGetValueAtTime, paramGetDerivative, paramGetIntegral, paramSetValue,
        paramSetValueAtTime, paramGetNumKeys, paramGetKeyTime, paramGetKeyIndex, paramDeleteKey,
        paramDeleteAllKeys, paramCopy, paramEditBegin, paramEditEnd,
    });
    // ofxParametricParam.h
    check_struct!(c; OfxParametricParameterSuiteV1 {
        parametricParamGetValue, parametricParamGetNControlPoints,
        parametricParamGetNthControlPoint, parametricParamSetNthControlPoint,
        parametricParamAddControlPoint, parametricParamDeleteControlPoint,
        parametricParamDeleteAllControlPoints,
    });
    // ofxInteract.h
    check_struct!(c; OfxInteract {});
    check_struct!(c; OfxInteractSuiteV1 {
        interactSwapBuffers, interactRedraw, interactGetPropertySet,
    });
    // ofxPixels.h
    check_struct!(c; OfxRGBAColourB { r, g, b, a });
    check_struct!(c; OfxRGBAColourS { r, g, b, a });
    check_struct!(c; OfxRGBAColourF { r, g, b, a });
    check_struct!(c; OfxRGBAColourD { r, g, b, a });
    check_struct!(c; OfxRGBColourB { r, g, b });
    check_struct!(c; OfxRGBColourS { r, g, b });
    check_struct!(c; OfxRGBColourF { r, g, b });
    check_struct!(c; OfxRGBColourD { r, g, b });
    // ofxDrawSuite.h
    check_struct!(c; OfxDrawContext {});
    check_struct!(c; OfxDrawSuiteV1 {
        getColour, setColour, setLineWidth, setLineStipple, draw, drawText,
    });
    // ofxDialog.h
    check_struct!(c; OfxDialogSuiteV1 { RequestDialog, NotifyRedrawPending });
    // ofxImageEffect.h
    check_struct!(c; OfxImageEffectStruct {});
    check_struct!(c; OfxImageClipStruct {});
    check_struct!(c; OfxImageMemoryStruct {});
    check_struct!(c; OfxImageEffectSuiteV1 {
        getPropertySet, getParamSet, clipDefine, clipGetHandle, clipGetPropertySet, clipGetImage,
        clipReleaseImage, clipGetRegionOfDefinition, abort, imageMemoryAlloc, imageMemoryFree,
        imageMemoryLock, imageMemoryUnlock,
    });
    // ofxOpenGLRender.h
    check_struct!(c; OfxImageEffectOpenGLRenderSuiteV1 {
        clipLoadTexture, clipFreeTexture, flushResources,
    });
    // ofxOld.h
    check_struct!(c; OfxYUVAColourB { y, u, v, a });
    check_struct!(c; OfxYUVAColourS { y, u, v, a });
    check_struct!(c; OfxYUVAColourF { y, u, v, a });

    // ofxGPURender.h, OpenFX 1.5: openfx-sys 0.1.0 has no such suite. Its 1.5 declaration
    // is one function pointer; the assignment below checks its exact Rust type.
    {
        use std::os::raw::{c_char, c_int, c_void};
        type CompileProgram =
            Option<unsafe extern "C" fn(*const c_char, c_int, *mut c_void) -> ffi::OfxStatus>;
        let suite = ffi::OfxOpenCLProgramSuiteV1::default();
        let _typed: CompileProgram = suite.compileProgram;
        let name = "OfxOpenCLProgramSuiteV1";
        let layout = (
            size_of::<ffi::OfxOpenCLProgramSuiteV1>(),
            align_of::<ffi::OfxOpenCLProgramSuiteV1>(),
        );
        let want = (size_of::<CompileProgram>(), align_of::<CompileProgram>());
        if layout != want || offset_of!(ffi::OfxOpenCLProgramSuiteV1, compileProgram) != 0 {
            c.fail(format!(
                "struct {name}: (size, align) {layout:?}, want {want:?} (one function pointer)"
            ));
        }
        c.structs.insert(name, vec!["compileProgram"]);
        c.not_in_sys.insert(name);
    }
}

fn constants(c: &mut Checker) {
    // ofxCore.h (38)
    check_consts!(c;
        kOfxActionLoad, kOfxActionDescribe, kOfxActionUnload, kOfxActionPurgeCaches,
        kOfxActionSyncPrivateData, kOfxActionCreateInstance, kOfxActionDestroyInstance,
        kOfxActionInstanceChanged, kOfxActionBeginInstanceChanged, kOfxActionEndInstanceChanged,
        kOfxActionBeginInstanceEdit, kOfxActionEndInstanceEdit, kOfxPropAPIVersion, kOfxPropTime,
        kOfxPropIsInteractive, kOfxPluginPropFilePath, kOfxPropInstanceData, kOfxPropType,
        kOfxPropName, kOfxPropVersion, kOfxPropVersionLabel, kOfxPropPluginDescription,
        kOfxPropLabel, kOfxPropIcon, kOfxPropShortLabel, kOfxPropLongLabel, kOfxPropChangeReason,
        kOfxPropEffectInstance, kOfxPropHostOSHandle, kOfxChangeUserEdited, kOfxChangePluginEdited,
        kOfxChangeTime, kOfxBitDepthNone, kOfxBitDepthByte, kOfxBitDepthShort, kOfxBitDepthHalf,
        kOfxBitDepthFloat, kOfxStatOK,
    );
    // ofxProperty.h (1)
    check_consts!(c; kOfxPropertySuite);
    // ofxMemory.h (1)
    check_consts!(c; kOfxMemorySuite);
    // ofxMultiThread.h (1)
    check_consts!(c; kOfxMultiThreadSuite);
    // ofxMessage.h (7)
    check_consts!(c;
        kOfxMessageSuite, kOfxMessageFatal, kOfxMessageError, kOfxMessageWarning,
        kOfxMessageMessage, kOfxMessageLog, kOfxMessageQuestion,
    );
    // ofxProgress.h (1)
    check_consts!(c; kOfxProgressSuite);
    // ofxTimeLine.h (1)
    check_consts!(c; kOfxTimeLineSuite);
    // ofxParam.h (94)
    check_consts!(c;
        kOfxParameterSuite, kOfxTypeParameter, kOfxTypeParameterInstance, kOfxParamTypeInteger,
        kOfxParamTypeDouble, kOfxParamTypeBoolean, kOfxParamTypeChoice, kOfxParamTypeRGBA,
        kOfxParamTypeRGB, kOfxParamTypeDouble2D, kOfxParamTypeInteger2D, kOfxParamTypeDouble3D,
        kOfxParamTypeInteger3D, kOfxParamTypeString, kOfxParamTypeCustom, kOfxParamTypeGroup,
        kOfxParamTypePage, kOfxParamTypePushButton, kOfxParamHostPropSupportsCustomAnimation,
        kOfxParamHostPropSupportsStringAnimation, kOfxParamHostPropSupportsBooleanAnimation,
        kOfxParamHostPropSupportsChoiceAnimation, kOfxParamHostPropSupportsCustomInteract,
        kOfxParamHostPropMaxParameters, kOfxParamHostPropMaxPages,
        kOfxParamHostPropPageRowColumnCount, kOfxParamPageSkipRow, kOfxParamPageSkipColumn,
        kOfxParamPropInteractV1, kOfxParamPropInteractSize, kOfxParamPropInteractSizeAspect,
        kOfxParamPropInteractMinimumSize, kOfxParamPropInteractPreferedSize, kOfxParamPropType,
        kOfxParamPropAnimates, kOfxParamPropCanUndo, kOfxPropParamSetNeedsSyncing,
        kOfxParamPropIsAnimating, kOfxParamPropPluginMayWrite, kOfxParamPropPersistant,
        kOfxParamPropEvaluateOnChange, kOfxParamPropSecret, kOfxParamPropScriptName,
        kOfxParamPropCacheInvalidation, kOfxParamInvalidateValueChange,
        kOfxParamInvalidateValueChangeToEnd, kOfxParamInvalidateAll, kOfxParamPropHint,
        kOfxParamPropDefault, kOfxParamPropDoubleType, kOfxParamDoubleTypePlain,
        kOfxParamDoubleTypeScale, kOfxParamDoubleTypeAngle, kOfxParamDoubleTypeTime,
        kOfxParamDoubleTypeAbsoluteTime, kOfxParamDoubleTypeX, kOfxParamDoubleTypeY,
        kOfxParamDoubleTypeXAbsolute, kOfxParamDoubleTypeYAbsolute, kOfxParamDoubleTypeXY,
        kOfxParamDoubleTypeXYAbsolute, kOfxParamPropDefaultCoordinateSystem,
        kOfxParamCoordinatesCanonical, kOfxParamCoordinatesNormalised,
        kOfxParamPropHasHostOverlayHandle, kOfxParamPropUseHostOverlayHandle,
        kOfxParamPropShowTimeMarker, kOfxPluginPropParamPageOrder, kOfxParamPropPageChild,
        kOfxParamPropParent, kOfxParamPropGroupOpen, kOfxParamPropEnabled, kOfxParamPropDataPtr,
        kOfxParamPropChoiceOption, kOfxParamPropMin, kOfxParamPropMax, kOfxParamPropDisplayMin,
        kOfxParamPropDisplayMax, kOfxParamPropIncrement, kOfxParamPropDigits,
        kOfxParamPropDimensionLabel, kOfxParamPropIsAutoKeying,
        kOfxParamPropCustomInterpCallbackV1, kOfxParamPropStringMode,
        kOfxParamPropStringFilePathExists, kOfxParamStringIsSingleLine, kOfxParamStringIsMultiLine,
        kOfxParamStringIsFilePath, kOfxParamStringIsDirectoryPath, kOfxParamStringIsLabel,
        kOfxParamStringIsRichTextFormat, kOfxParamPropCustomValue, kOfxParamPropInterpolationTime,
        kOfxParamPropInterpolationAmount,
    );
    // ofxParametricParam.h (7)
    check_consts!(c;
        kOfxParametricParameterSuite, kOfxParamTypeParametric, kOfxParamPropParametricDimension,
        kOfxParamPropParametricUIColour, kOfxParamPropParametricInteractBackground,
        kOfxParamHostPropSupportsParametricAnimation, kOfxParamPropParametricRange,
    );
    // ofxInteract.h (22)
    check_consts!(c;
        kOfxInteractSuite, kOfxInteractPropSlaveToParam, kOfxInteractPropPixelScale,
        kOfxInteractPropBackgroundColour, kOfxInteractPropSuggestedColour,
        kOfxInteractPropPenPosition, kOfxInteractPropPenViewportPosition,
        kOfxInteractPropPenPressure, kOfxInteractPropBitDepth, kOfxInteractPropHasAlpha,
        kOfxActionDescribeInteract, kOfxActionCreateInstanceInteract,
        kOfxActionDestroyInstanceInteract, kOfxInteractActionDraw, kOfxInteractActionPenMotion,
        kOfxInteractActionPenDown, kOfxInteractActionPenUp, kOfxInteractActionKeyDown,
        kOfxInteractActionKeyUp, kOfxInteractActionKeyRepeat, kOfxInteractActionGainFocus,
        kOfxInteractActionLoseFocus,
    );
    // ofxKeySyms.h (366)
    check_consts!(c;
        kOfxPropKeySym, kOfxPropKeyString, kOfxKey_Unknown, kOfxKey_BackSpace, kOfxKey_Tab,
        kOfxKey_Linefeed, kOfxKey_Clear, kOfxKey_Return, kOfxKey_Pause, kOfxKey_Scroll_Lock,
        kOfxKey_Sys_Req, kOfxKey_Escape, kOfxKey_Delete, kOfxKey_Multi_key,
        kOfxKey_SingleCandidate, kOfxKey_MultipleCandidate, kOfxKey_PreviousCandidate,
        kOfxKey_Kanji, kOfxKey_Muhenkan, kOfxKey_Henkan_Mode, kOfxKey_Henkan, kOfxKey_Romaji,
        kOfxKey_Hiragana, kOfxKey_Katakana, kOfxKey_Hiragana_Katakana, kOfxKey_Zenkaku,
        kOfxKey_Hankaku, kOfxKey_Zenkaku_Hankaku, kOfxKey_Touroku, kOfxKey_Massyo,
        kOfxKey_Kana_Lock, kOfxKey_Kana_Shift, kOfxKey_Eisu_Shift, kOfxKey_Eisu_toggle,
        kOfxKey_Zen_Koho, kOfxKey_Mae_Koho, kOfxKey_Home, kOfxKey_Left, kOfxKey_Up, kOfxKey_Right,
        kOfxKey_Down, kOfxKey_Prior, kOfxKey_Page_Up, kOfxKey_Next, kOfxKey_Page_Down, kOfxKey_End,
        kOfxKey_Begin, kOfxKey_Select, kOfxKey_Print, kOfxKey_Execute, kOfxKey_Insert,
        kOfxKey_Undo, kOfxKey_Redo, kOfxKey_Menu, kOfxKey_Find, kOfxKey_Cancel, kOfxKey_Help,
        kOfxKey_Break, kOfxKey_Mode_switch, kOfxKey_script_switch, kOfxKey_Num_Lock,
        kOfxKey_KP_Space, kOfxKey_KP_Tab, kOfxKey_KP_Enter, kOfxKey_KP_F1, kOfxKey_KP_F2,
        kOfxKey_KP_F3, kOfxKey_KP_F4, kOfxKey_KP_Home, kOfxKey_KP_Left, kOfxKey_KP_Up,
        kOfxKey_KP_Right, kOfxKey_KP_Down, kOfxKey_KP_Prior, kOfxKey_KP_Page_Up, kOfxKey_KP_Next,
        kOfxKey_KP_Page_Down, kOfxKey_KP_End, kOfxKey_KP_Begin, kOfxKey_KP_Insert,
        kOfxKey_KP_Delete, kOfxKey_KP_Equal, kOfxKey_KP_Multiply, kOfxKey_KP_Add,
        kOfxKey_KP_Separator, kOfxKey_KP_Subtract, kOfxKey_KP_Decimal, kOfxKey_KP_Divide,
        kOfxKey_KP_0, kOfxKey_KP_1, kOfxKey_KP_2, kOfxKey_KP_3, kOfxKey_KP_4, kOfxKey_KP_5,
        kOfxKey_KP_6, kOfxKey_KP_7, kOfxKey_KP_8, kOfxKey_KP_9, kOfxKey_F1, kOfxKey_F2, kOfxKey_F3,
        kOfxKey_F4, kOfxKey_F5, kOfxKey_F6, kOfxKey_F7, kOfxKey_F8, kOfxKey_F9, kOfxKey_F10,
        kOfxKey_F11, kOfxKey_L1, kOfxKey_F12, kOfxKey_L2, kOfxKey_F13, kOfxKey_L3, kOfxKey_F14,
        kOfxKey_L4, kOfxKey_F15, kOfxKey_L5, kOfxKey_F16, kOfxKey_L6, kOfxKey_F17, kOfxKey_L7,
        kOfxKey_F18, kOfxKey_L8, kOfxKey_F19, kOfxKey_L9, kOfxKey_F20, kOfxKey_L10, kOfxKey_F21,
        kOfxKey_R1, kOfxKey_F22, kOfxKey_R2, kOfxKey_F23, kOfxKey_R3, kOfxKey_F24, kOfxKey_R4,
        kOfxKey_F25, kOfxKey_R5, kOfxKey_F26, kOfxKey_R6, kOfxKey_F27, kOfxKey_R7, kOfxKey_F28,
        kOfxKey_R8, kOfxKey_F29, kOfxKey_R9, kOfxKey_F30, kOfxKey_R10, kOfxKey_F31, kOfxKey_R11,
        kOfxKey_F32, kOfxKey_R12, kOfxKey_F33, kOfxKey_R13, kOfxKey_F34, kOfxKey_R14, kOfxKey_F35,
        kOfxKey_R15, kOfxKey_Shift_L, kOfxKey_Shift_R, kOfxKey_Control_L, kOfxKey_Control_R,
        kOfxKey_Caps_Lock, kOfxKey_Shift_Lock, kOfxKey_Meta_L, kOfxKey_Meta_R, kOfxKey_Alt_L,
        kOfxKey_Alt_R, kOfxKey_Super_L, kOfxKey_Super_R, kOfxKey_Hyper_L, kOfxKey_Hyper_R,
        kOfxKey_space, kOfxKey_exclam, kOfxKey_quotedbl, kOfxKey_numbersign, kOfxKey_dollar,
        kOfxKey_percent, kOfxKey_ampersand, kOfxKey_apostrophe, kOfxKey_quoteright,
        kOfxKey_parenleft, kOfxKey_parenright, kOfxKey_asterisk, kOfxKey_plus, kOfxKey_comma,
        kOfxKey_minus, kOfxKey_period, kOfxKey_slash, kOfxKey_0, kOfxKey_1, kOfxKey_2, kOfxKey_3,
        kOfxKey_4, kOfxKey_5, kOfxKey_6, kOfxKey_7, kOfxKey_8, kOfxKey_9, kOfxKey_colon,
        kOfxKey_semicolon, kOfxKey_less, kOfxKey_equal, kOfxKey_greater, kOfxKey_question,
        kOfxKey_at, kOfxKey_A, kOfxKey_B, kOfxKey_C, kOfxKey_D, kOfxKey_E, kOfxKey_F, kOfxKey_G,
        kOfxKey_H, kOfxKey_I, kOfxKey_J, kOfxKey_K, kOfxKey_L, kOfxKey_M, kOfxKey_N, kOfxKey_O,
        kOfxKey_P, kOfxKey_Q, kOfxKey_R, kOfxKey_S, kOfxKey_T, kOfxKey_U, kOfxKey_V, kOfxKey_W,
        kOfxKey_X, kOfxKey_Y, kOfxKey_Z, kOfxKey_bracketleft, kOfxKey_backslash,
        kOfxKey_bracketright, kOfxKey_asciicircum, kOfxKey_underscore, kOfxKey_grave,
        kOfxKey_quoteleft, kOfxKey_a, kOfxKey_b, kOfxKey_c, kOfxKey_d, kOfxKey_e, kOfxKey_f,
        kOfxKey_g, kOfxKey_h, kOfxKey_i, kOfxKey_j, kOfxKey_k, kOfxKey_l, kOfxKey_m, kOfxKey_n,
        kOfxKey_o, kOfxKey_p, kOfxKey_q, kOfxKey_r, kOfxKey_s, kOfxKey_t, kOfxKey_u, kOfxKey_v,
        kOfxKey_w, kOfxKey_x, kOfxKey_y, kOfxKey_z, kOfxKey_braceleft, kOfxKey_bar,
        kOfxKey_braceright, kOfxKey_asciitilde, kOfxKey_nobreakspace, kOfxKey_exclamdown,
        kOfxKey_cent, kOfxKey_sterling, kOfxKey_currency, kOfxKey_yen, kOfxKey_brokenbar,
        kOfxKey_section, kOfxKey_diaeresis, kOfxKey_copyright, kOfxKey_ordfeminine,
        kOfxKey_guillemotleft, kOfxKey_notsign, kOfxKey_hyphen, kOfxKey_registered, kOfxKey_macron,
        kOfxKey_degree, kOfxKey_plusminus, kOfxKey_twosuperior, kOfxKey_threesuperior,
        kOfxKey_acute, kOfxKey_mu, kOfxKey_paragraph, kOfxKey_periodcentered, kOfxKey_cedilla,
        kOfxKey_onesuperior, kOfxKey_masculine, kOfxKey_guillemotright, kOfxKey_onequarter,
        kOfxKey_onehalf, kOfxKey_threequarters, kOfxKey_questiondown, kOfxKey_Agrave,
        kOfxKey_Aacute, kOfxKey_Acircumflex, kOfxKey_Atilde, kOfxKey_Adiaeresis, kOfxKey_Aring,
        kOfxKey_AE, kOfxKey_Ccedilla, kOfxKey_Egrave, kOfxKey_Eacute, kOfxKey_Ecircumflex,
        kOfxKey_Ediaeresis, kOfxKey_Igrave, kOfxKey_Iacute, kOfxKey_Icircumflex,
        kOfxKey_Idiaeresis, kOfxKey_ETH, kOfxKey_Eth, kOfxKey_Ntilde, kOfxKey_Ograve,
        kOfxKey_Oacute, kOfxKey_Ocircumflex, kOfxKey_Otilde, kOfxKey_Odiaeresis, kOfxKey_multiply,
        kOfxKey_Ooblique, kOfxKey_Ugrave, kOfxKey_Uacute, kOfxKey_Ucircumflex, kOfxKey_Udiaeresis,
        kOfxKey_Yacute, kOfxKey_THORN, kOfxKey_ssharp, kOfxKey_agrave, kOfxKey_aacute,
        kOfxKey_acircumflex, kOfxKey_atilde, kOfxKey_adiaeresis, kOfxKey_aring, kOfxKey_ae,
        kOfxKey_ccedilla, kOfxKey_egrave, kOfxKey_eacute, kOfxKey_ecircumflex, kOfxKey_ediaeresis,
        kOfxKey_igrave, kOfxKey_iacute, kOfxKey_icircumflex, kOfxKey_idiaeresis, kOfxKey_eth,
        kOfxKey_ntilde, kOfxKey_ograve, kOfxKey_oacute, kOfxKey_ocircumflex, kOfxKey_otilde,
        kOfxKey_odiaeresis, kOfxKey_division, kOfxKey_oslash, kOfxKey_ugrave, kOfxKey_uacute,
        kOfxKey_ucircumflex, kOfxKey_udiaeresis, kOfxKey_yacute, kOfxKey_thorn, kOfxKey_ydiaeresis,
    );
    // ofxDrawSuite.h (27)
    check_consts!(c;
        kOfxDrawSuite, kOfxInteractPropDrawContext,
        OfxStandardColour_kOfxStandardColourOverlayBackground,
        OfxStandardColour_kOfxStandardColourOverlayActive,
        OfxStandardColour_kOfxStandardColourOverlaySelected,
        OfxStandardColour_kOfxStandardColourOverlayDeselected,
        OfxStandardColour_kOfxStandardColourOverlayMarqueeFG,
        OfxStandardColour_kOfxStandardColourOverlayMarqueeBG,
        OfxStandardColour_kOfxStandardColourOverlayText,
        OfxDrawLineStipplePattern_kOfxDrawLineStipplePatternSolid,
        OfxDrawLineStipplePattern_kOfxDrawLineStipplePatternDot,
        OfxDrawLineStipplePattern_kOfxDrawLineStipplePatternDash,
        OfxDrawLineStipplePattern_kOfxDrawLineStipplePatternAltDash,
        OfxDrawLineStipplePattern_kOfxDrawLineStipplePatternDotDash,
        OfxDrawPrimitive_kOfxDrawPrimitiveLines, OfxDrawPrimitive_kOfxDrawPrimitiveLineStrip,
        OfxDrawPrimitive_kOfxDrawPrimitiveLineLoop, OfxDrawPrimitive_kOfxDrawPrimitiveRectangle,
        OfxDrawPrimitive_kOfxDrawPrimitivePolygon, OfxDrawPrimitive_kOfxDrawPrimitiveEllipse,
        OfxDrawTextAlignment_kOfxDrawTextAlignmentLeft,
        OfxDrawTextAlignment_kOfxDrawTextAlignmentRight,
        OfxDrawTextAlignment_kOfxDrawTextAlignmentTop,
        OfxDrawTextAlignment_kOfxDrawTextAlignmentBottom,
        OfxDrawTextAlignment_kOfxDrawTextAlignmentBaseline,
        OfxDrawTextAlignment_kOfxDrawTextAlignmentCenterH,
        OfxDrawTextAlignment_kOfxDrawTextAlignmentCenterV,
    );
    // ofxDialog.h (2)
    check_consts!(c; kOfxDialogSuite, kOfxActionDialog);
    // ofxImageEffect.h (120)
    check_consts!(c;
        kOfxImageEffectPluginApi, kOfxImageEffectPluginApiVersion, kOfxImageComponentNone,
        kOfxImageComponentRGBA, kOfxImageComponentRGB, kOfxImageComponentAlpha,
        kOfxImageEffectContextGenerator, kOfxImageEffectContextFilter,
        kOfxImageEffectContextTransition, kOfxImageEffectContextPaint,
        kOfxImageEffectContextGeneral, kOfxImageEffectContextRetimer, kOfxTypeImageEffectHost,
        kOfxTypeImageEffect, kOfxTypeImageEffectInstance, kOfxTypeClip, kOfxTypeImage,
        kOfxImageEffectActionGetRegionOfDefinition, kOfxImageEffectActionGetRegionsOfInterest,
        kOfxImageEffectActionGetTimeDomain, kOfxImageEffectActionGetFramesNeeded,
        kOfxImageEffectActionGetClipPreferences, kOfxImageEffectActionIsIdentity,
        kOfxImageEffectActionRender, kOfxImageEffectActionBeginSequenceRender,
        kOfxImageEffectActionEndSequenceRender, kOfxImageEffectActionDescribeInContext,
        kOfxImageEffectPropSupportedContexts, kOfxImageEffectPropPluginHandle,
        kOfxImageEffectHostPropIsBackground, kOfxImageEffectPluginPropSingleInstance,
        kOfxImageEffectPluginRenderThreadSafety, kOfxImageEffectRenderUnsafe,
        kOfxImageEffectRenderInstanceSafe, kOfxImageEffectRenderFullySafe,
        kOfxImageEffectPluginPropHostFrameThreading, kOfxImageEffectPropSupportsMultipleClipDepths,
        kOfxImageEffectPropSupportsMultipleClipPARs, kOfxImageEffectPropClipPreferencesSlaveParam,
        kOfxImageEffectPropSetableFrameRate, kOfxImageEffectPropSetableFielding,
        kOfxImageEffectInstancePropSequentialRender, kOfxImageEffectPropSequentialRenderStatus,
        kOfxHostNativeOriginBottomLeft, kOfxHostNativeOriginTopLeft, kOfxHostNativeOriginCenter,
        kOfxImageEffectHostPropNativeOrigin, kOfxImageEffectPropInteractiveRenderStatus,
        kOfxImageEffectPluginPropGrouping, kOfxImageEffectPropSupportsOverlays,
        kOfxImageEffectPluginPropOverlayInteractV1, kOfxImageEffectPluginPropOverlayInteractV2,
        kOfxImageEffectPropSupportsMultiResolution, kOfxImageEffectPropSupportsTiles,
        kOfxImageEffectPropTemporalClipAccess, kOfxImageEffectPropContext,
        kOfxImageEffectPropPixelDepth, kOfxImageEffectPropComponents,
        kOfxImagePropUniqueIdentifier, kOfxImageClipPropContinuousSamples,
        kOfxImageClipPropUnmappedPixelDepth, kOfxImageClipPropUnmappedComponents,
        kOfxImageEffectPropPreMultiplication, kOfxImageOpaque, kOfxImagePreMultiplied,
        kOfxImageUnPreMultiplied, kOfxImageEffectPropSupportedPixelDepths,
        kOfxImageEffectPropSupportedComponents, kOfxImageClipPropOptional, kOfxImageClipPropIsMask,
        kOfxImagePropPixelAspectRatio, kOfxImageEffectPropFrameRate,
        kOfxImageEffectPropUnmappedFrameRate, kOfxImageEffectPropFrameStep,
        kOfxImageEffectPropFrameRange, kOfxImageEffectPropUnmappedFrameRange,
        kOfxImageClipPropConnected, kOfxImageEffectFrameVarying, kOfxImageEffectPropRenderScale,
        kOfxImageEffectPropRenderQualityDraft, kOfxImageEffectPropProjectExtent,
        kOfxImageEffectPropProjectSize, kOfxImageEffectPropProjectOffset,
        kOfxImageEffectPropProjectPixelAspectRatio, kOfxImageEffectInstancePropEffectDuration,
        kOfxImageClipPropFieldOrder, kOfxImagePropData, kOfxImagePropBounds,
        kOfxImagePropRegionOfDefinition, kOfxImagePropRowBytes, kOfxImagePropField,
        kOfxImageEffectPluginPropFieldRenderTwiceAlways, kOfxImageClipPropFieldExtraction,
        kOfxImageEffectPropFieldToRender, kOfxImageEffectPropRegionOfDefinition,
        kOfxImageEffectPropRegionOfInterest, kOfxImageEffectPropRenderWindow,
        kOfxImageEffectPropCudaRenderSupported, kOfxImageEffectPropCudaEnabled,
        kOfxImageEffectPropCudaStreamSupported, kOfxImageEffectPropCudaStream,
        kOfxImageEffectPropMetalRenderSupported, kOfxImageEffectPropMetalEnabled,
        kOfxImageEffectPropMetalCommandQueue, kOfxImageEffectPropOpenCLRenderSupported,
        kOfxImageEffectPropOpenCLEnabled, kOfxImageEffectPropOpenCLCommandQueue,
        kOfxImageFieldNone, kOfxImageFieldLower, kOfxImageFieldUpper, kOfxImageFieldBoth,
        kOfxImageFieldSingle, kOfxImageFieldDoubled, kOfxImageEffectOutputClipName,
        kOfxImageEffectSimpleSourceClipName, kOfxImageEffectTransitionSourceFromClipName,
        kOfxImageEffectTransitionSourceToClipName, kOfxImageEffectTransitionParamName,
        kOfxImageEffectRetimerParamName, kOfxImageEffectSuite,
    );
    // ofxOpenGLRender.h (8)
    check_consts!(c;
        kOfxOpenGLRenderSuite, kOfxImageEffectPropOpenGLRenderSupported, kOfxOpenGLPropPixelDepth,
        kOfxImageEffectPropOpenGLEnabled, kOfxImageEffectPropOpenGLTextureIndex,
        kOfxImageEffectPropOpenGLTextureTarget, kOfxActionOpenGLContextAttached,
        kOfxActionOpenGLContextDetached,
    );
    // ofxOld.h (9)
    check_consts!(c;
        kOfxImageComponentYUVA, kOfxImageEffectPropInAnalysis, kOfxInteractPropViewportSize,
        kOfxParamDoubleTypeNormalisedX, kOfxParamDoubleTypeNormalisedY,
        kOfxParamDoubleTypeNormalisedXAbsolute, kOfxParamDoubleTypeNormalisedYAbsolute,
        kOfxParamDoubleTypeNormalisedXY, kOfxParamDoubleTypeNormalisedXYAbsolute,
    );
}

/// Constants openfx-sys does not have, against values pinned here.
fn pinned_constants(c: &mut Checker) {
    use std::os::raw::c_int;
    // Declared by the official 0.1.0 headers as `((int) N)` or INT_MAX/INT_MIN, which
    // openfx-sys's bindgen skips; values read from those headers (ofxCore.h,
    // ofxImageEffect.h, ofxOpenGLRender.h).
    check_pinned!(c;
        kOfxStatFailed = 1, kOfxStatErrFatal = 2, kOfxStatErrUnknown = 3,
        kOfxStatErrMissingHostFeature = 4, kOfxStatErrUnsupported = 5, kOfxStatErrExists = 6,
        kOfxStatErrFormat = 7, kOfxStatErrMemory = 8, kOfxStatErrBadHandle = 9,
        kOfxStatErrBadIndex = 10, kOfxStatErrValue = 11, kOfxStatReplyYes = 12,
        kOfxStatReplyNo = 13, kOfxStatReplyDefault = 14,
        kOfxStatErrImageFormat = 1000, kOfxStatGLOutOfMemory = 1001, kOfxStatGLRenderFailed = 1002,
        kOfxFlagInfiniteMax = c_int::MAX, kOfxFlagInfiniteMin = c_int::MIN,
    );

    // OpenFX 1.5 GPU render extension (our ofxGPURender.h): not in the 0.1.0 headers at all;
    // values from the OpenFX 1.5 ofxGPURender.h.
    check_pinned!(c;
        kOfxImageEffectPropCPURenderSupported = b"OfxImageEffectPropCPURenderSupported\0",
        kOfxImageEffectPropOpenCLSupported = b"OfxImageEffectPropOpenCLSupported\0",
        kOfxImageEffectPropOpenCLImage = b"OfxImageEffectPropOpenCLImage\0",
        kOfxOpenCLProgramSuite = b"OfxOpenCLProgramSuite\0",
        kOfxStatGPUOutOfMemory = 1001,
        kOfxStatGPURenderFailed = 1002,
    );
    for name in [
        "kOfxImageEffectPropCPURenderSupported",
        "kOfxImageEffectPropOpenCLSupported",
        "kOfxImageEffectPropOpenCLImage",
        "kOfxOpenCLProgramSuite",
        "kOfxStatGPUOutOfMemory",
        "kOfxStatGPURenderFailed",
    ] {
        c.not_in_sys.insert(name);
    }
    // The 1.5 GPU codes are the GL ones under API-neutral names.
    if ffi::kOfxStatGPUOutOfMemory != ffi::kOfxStatGLOutOfMemory
        || ffi::kOfxStatGPURenderFailed != ffi::kOfxStatGLRenderFailed
    {
        c.fail("const kOfxStatGPU*: differ from kOfxStatGL*".into());
    }
}

fn type_aliases(c: &mut Checker) {
    // ofxCore.h
    check_types!(c; OfxPropertySetHandle, OfxStatus, OfxPluginEntryPoint, OfxTime);
    // ofxMultiThread.h
    check_types!(c; OfxMutexHandle, OfxThreadFunctionV1);
    // ofxParam.h
    check_types!(c; OfxParamHandle, OfxParamSetHandle, OfxCustomParamInterpFuncV1);
    // ofxInteract.h
    check_types!(c; OfxInteractHandle);
    // ofxDrawSuite.h
    check_types!(c; OfxDrawContextHandle, OfxStandardColour, OfxDrawLineStipplePattern, OfxDrawPrimitive, OfxDrawTextAlignment);
    // ofxImageEffect.h
    check_types!(c; OfxImageEffectHandle, OfxImageClipHandle, OfxImageMemoryHandle);
}

/// Functions the plug-in binary exports; their signatures are compared as text.
fn functions(c: &mut Checker) {
    for name in ["OfxGetPlugin", "OfxGetNumberOfPlugins", "OfxSetHost"] {
        c.fns.insert(name);
    }
}

fn everything() -> Checker {
    let mut c = Checker::default();
    struct_layouts(&mut c);
    constants(&mut c);
    pinned_constants(&mut c);
    type_aliases(&mut c);
    functions(&mut c);
    c
}

// ---------------------------------------------------------------------------
// Reading bindgen output

/// Our generated bindings (build.rs exports the path).
fn our_bindings() -> (PathBuf, String) {
    let path = PathBuf::from(env!("COLLAPSE_OFX_BINDINGS"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read our bindings {}: {e}", path.display()));
    (path, text)
}

/// openfx-sys's generated bindings: a sibling build-script output folder of ours
/// (`<target>/<profile>/build/openfx-sys-<hash>/out/bindings.rs`); the newest if several.
fn sys_bindings() -> (PathBuf, String) {
    let ours = PathBuf::from(env!("COLLAPSE_OFX_BINDINGS"));
    let build_dir = ours
        .ancestors()
        .nth(3)
        .expect("bindings path has a build folder");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(build_dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", build_dir.display()))
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("openfx-sys-"))
        .map(|e| e.path().join("out").join("bindings.rs"))
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH),
                p,
            )
        })
        .collect();
    found.sort();
    let (_, path) = found.pop().unwrap_or_else(|| {
        panic!(
            "no openfx-sys-*/out/bindings.rs under {}",
            build_dir.display()
        )
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (path, text)
}

/// Skips a string literal starting at `i` (at the opening quote); returns the index after it.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() && b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// Drops attributes (`#[doc = "..."]`, `#[repr(C)]`, ...) from bindgen output.
fn strip_attributes(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let end = skip_string(b, i);
            out.extend_from_slice(&b[i..end.min(b.len())]);
            i = end;
        } else if b[i] == b'#' && matches!(b.get(i + 1), Some(b'[') | Some(b'!')) {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i);
                        continue;
                    }
                    b'[' => depth += 1,
                    b']' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("bindings are UTF-8")
}

fn is_ident(ch: u8) -> bool {
    ch.is_ascii_alphanumeric() || ch == b'_'
}

/// Canonical text of a declaration body: whitespace only where two identifiers meet,
/// function parameter names dropped, trailing commas dropped.
fn normalize(body: &str) -> String {
    let mut s = String::new();
    let mut pending_space = false;
    for ch in body.chars() {
        if ch.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space
            && s.as_bytes().last().is_some_and(|&l| is_ident(l))
            && ch.is_ascii()
            && is_ident(ch as u8)
        {
            s.push(' ');
        }
        pending_space = false;
        s.push(ch);
    }
    // `(name:` / `,name:` is a parameter name. A path separator `::` may follow its
    // colon (`index:::std::os::raw::c_int`), so an odd run of colons marks one.
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        out.push(b[i] as char);
        if b[i] == b'(' || b[i] == b',' {
            let mut j = i + 1;
            while j < b.len() && is_ident(b[j]) {
                j += 1;
            }
            let colons = b[j..].iter().take_while(|&&ch| ch == b':').count();
            if j > i + 1 && colons % 2 == 1 {
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out.replace(",)", ")").replace(",>", ">").replace(",}", "}")
}

/// Every `pub struct|const|type|fn` in a bindings file: (kind, name) -> canonical body.
fn declarations(src: &str) -> BTreeMap<(&'static str, String), String> {
    let src = strip_attributes(src);
    let b = src.as_bytes();
    let mut found = BTreeMap::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            i = skip_string(b, i);
            continue;
        }
        let at_word_start = i == 0 || !is_ident(b[i - 1]);
        let kind = ["struct", "const", "type", "fn"]
            .into_iter()
            .find(|k| at_word_start && src[i..].starts_with(&format!("pub {k} ")));
        let Some(kind) = kind else {
            i += 1;
            continue;
        };
        let mut j = i + 5 + kind.len();
        let name_start = j;
        while j < b.len() && is_ident(b[j]) {
            j += 1;
        }
        let name = src[name_start..j].to_string();
        let body_start = j;
        let mut depth = 0i32;
        while j < b.len() {
            match b[j] {
                b'"' => {
                    j = skip_string(b, j);
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' => depth -= 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 && kind == "struct" {
                        j += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        found.insert((kind, name), normalize(&src[body_start..j]));
        i = j;
    }
    found
}

/// The fields of a canonical struct body `{pub a:T,pub b:U}`, one string each.
fn split_fields(body: &str) -> Vec<String> {
    let inner = body.trim_start_matches('{').trim_end_matches('}');
    let b = inner.as_bytes();
    let mut fields = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, &ch) in b.iter().enumerate() {
        match ch {
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'>' if i == 0 || b[i - 1] != b'-' => depth -= 1,
            b',' if depth == 0 => {
                fields.push(inner[start..i].to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        fields.push(inner[start..].to_string());
    }
    fields
}

/// Names of the `pub` fields of a canonical struct body.
fn pub_fields(body: &str) -> Vec<String> {
    split_fields(body)
        .iter()
        .filter_map(|f| f.strip_prefix("pub "))
        .map(|f| f.split(':').next().unwrap_or_default().to_string())
        .collect()
}

fn short(p: &Path) -> String {
    p.display().to_string()
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn struct_layouts_match() {
    let mut c = Checker::default();
    struct_layouts(&mut c);
    println!(
        "compared {} structs with openfx-sys; checked against OpenFX 1.5, not openfx-sys: {:?}",
        c.structs.len() - c.not_in_sys.len(),
        c.not_in_sys
    );
    c.finish("struct layout");
}

#[test]
fn constants_match() {
    let mut c = Checker::default();
    constants(&mut c);
    let compared = c.consts.len();
    pinned_constants(&mut c);
    println!(
        "compared {compared} constants with openfx-sys and {} with pinned values; \
         not compared with openfx-sys (OpenFX 1.5 only): {:?}",
        c.consts.len() - compared,
        c.not_in_sys
    );
    c.finish("constant");
}

#[test]
fn types_and_signatures_match() {
    let mut c = everything();
    c.failures.clear(); // layouts and values have their own tests
    let (our_path, our_src) = our_bindings();
    let (sys_path, sys_src) = sys_bindings();
    let ours = declarations(&our_src);
    let theirs = declarations(&sys_src);
    let mut compared = 0;
    let checked = c
        .structs
        .keys()
        .map(|n| ("struct", *n))
        .chain(c.types.iter().map(|n| ("type", *n)))
        .chain(c.fns.iter().map(|n| ("fn", *n)))
        .collect::<Vec<_>>();
    for (kind, name) in checked {
        if c.not_in_sys.contains(name) {
            continue;
        }
        let key = (kind, name.to_string());
        match (ours.get(&key), theirs.get(&key)) {
            (Some(a), Some(b)) if a == b => compared += 1,
            (Some(a), Some(b)) if kind == "struct" => {
                let (fa, fb) = (split_fields(a), split_fields(b));
                if fa.len() != fb.len() {
                    c.fail(format!(
                        "struct {name}: {} fields in ours, {} in openfx-sys",
                        fa.len(),
                        fb.len()
                    ));
                }
                for (x, y) in fa.iter().zip(&fb).filter(|(x, y)| x != y) {
                    c.fail(format!(
                        "struct {name}: field declared differently\n    ours:       {x}\n    openfx-sys: {y}"
                    ));
                }
            }
            (Some(a), Some(b)) => c.fail(format!(
                "{kind} {name}: declared differently\n    ours:       {a}\n    openfx-sys: {b}"
            )),
            (None, _) => c.fail(format!("{kind} {name}: not found in {}", short(&our_path))),
            (_, None) => c.fail(format!("{kind} {name}: not found in {}", short(&sys_path))),
        }
    }
    type_aliases(&mut c); // size and alignment of the aliases
    println!("compared the declared types of {compared} structs, aliases and functions");
    c.finish("type or signature");
}

#[test]
fn every_declaration_is_checked() {
    let mut c = everything();
    c.failures.clear(); // only coverage here
    let (our_path, our_src) = our_bindings();
    let (sys_path, sys_src) = sys_bindings();
    let ours = declarations(&our_src);
    let theirs = declarations(&sys_src);
    if ours.is_empty() {
        c.fail(format!("no declarations found in {}", short(&our_path)));
    }

    let mut covered: BTreeSet<(&str, &str)> = BTreeSet::new();
    covered.extend(c.structs.keys().map(|n| ("struct", *n)));
    covered.extend(c.consts.iter().map(|n| ("const", *n)));
    covered.extend(c.types.iter().map(|n| ("type", *n)));
    covered.extend(c.fns.iter().map(|n| ("fn", *n)));

    // Everything we generate is checked ...
    for ((kind, name), body) in &ours {
        if !covered.contains(&(*kind, name.as_str())) {
            c.fail(format!(
                "{kind} {name} (in {}) is not in any check list",
                short(&our_path)
            ));
        }
        if *kind == "struct" {
            if let Some(listed) = c.structs.get(name.as_str()) {
                let actual = pub_fields(body);
                if actual != *listed {
                    c.fail(format!(
                        "struct {name}: check_struct! lists fields {listed:?}, bindings have {actual:?}"
                    ));
                }
            }
        }
    }
    // ... and nothing is listed that we do not generate ...
    for (kind, name) in &covered {
        if !ours.contains_key(&(*kind, name.to_string())) {
            c.fail(format!(
                "{kind} {name} is listed but not in {}",
                short(&our_path)
            ));
        }
    }
    // ... and every OpenFX declaration of the official headers is in ours.
    let mut official = 0;
    for (kind, name) in theirs.keys() {
        if !(name.starts_with("Ofx") || name.starts_with("kOfx")) {
            continue; // libc and compiler names openfx-sys did not filter out
        }
        official += 1;
        if !ours.contains_key(&(*kind, name.clone())) {
            c.fail(format!(
                "{kind} {name} is in openfx-sys ({}) but not in ours",
                short(&sys_path)
            ));
        }
    }
    println!(
        "{} structs, {} constants, {} type aliases, {} functions checked; {official} OpenFX \
         declarations in openfx-sys all present",
        c.structs.len(),
        c.consts.len(),
        c.types.len(),
        c.fns.len()
    );
    c.finish("coverage");
}
