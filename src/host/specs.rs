//! Which properties each kind of OFX object has: type, dimension, default,
//! whether the plugin may write it and which values are legal (OFX 1.4).

use crate::ffi as f;

use super::strings::name;

/// Who may write a property through the property suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The plugin may write it.
    Rw,
    /// Only the host writes it.
    Ro,
}

/// What values the plugin may write.
#[derive(Clone, Copy, Debug)]
pub enum Valid {
    Any,
    Bool,
    Range(i32, i32),
    OneOf(&'static [&'static str]),
}

impl Valid {
    pub fn check_int(self, v: i32) -> Result<(), String> {
        match self {
            Valid::Bool if v != 0 && v != 1 => Err(format!("{v} is not a boolean (0 or 1)")),
            Valid::Range(lo, hi) if !(lo..=hi).contains(&v) => {
                Err(format!("{v} is outside [{lo}, {hi}]"))
            }
            _ => Ok(()),
        }
    }

    pub fn check_str(self, v: &str) -> Result<(), String> {
        match self {
            Valid::OneOf(legal) if !legal.contains(&v) => {
                Err(format!("\"{v}\" is not one of {legal:?}"))
            }
            _ => Ok(()),
        }
    }
}

/// Initial value of a property.
#[derive(Clone, Copy, Debug)]
pub enum Initial {
    I(&'static [i32]),
    D(&'static [f64]),
    S(&'static [&'static str]),
    /// That many NULL pointers.
    P(usize),
}

/// One property of an object kind.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub name: &'static str,
    pub default: Initial,
    /// Fixed dimension, or 0 for a variable one.
    pub dim: usize,
    pub access: Access,
    pub valid: Valid,
}

use Access::{Ro, Rw};

const fn int(n: &'static [u8], dim: usize, access: Access, default: &'static [i32]) -> Spec {
    Spec {
        name: name(n),
        default: Initial::I(default),
        dim,
        access,
        valid: Valid::Any,
    }
}

const fn flag(n: &'static [u8], access: Access, default: i32) -> Spec {
    let default: &'static [i32] = if default == 0 { &[0] } else { &[1] };
    Spec {
        name: name(n),
        default: Initial::I(default),
        dim: 1,
        access,
        valid: Valid::Bool,
    }
}

const fn dbl(n: &'static [u8], dim: usize, access: Access, default: &'static [f64]) -> Spec {
    Spec {
        name: name(n),
        default: Initial::D(default),
        dim,
        access,
        valid: Valid::Any,
    }
}

const fn st(
    n: &'static [u8],
    dim: usize,
    access: Access,
    default: &'static [&'static str],
) -> Spec {
    Spec {
        name: name(n),
        default: Initial::S(default),
        dim,
        access,
        valid: Valid::Any,
    }
}

const fn one_of(
    n: &'static [u8],
    dim: usize,
    access: Access,
    default: &'static [&'static str],
    legal: &'static [&'static str],
) -> Spec {
    Spec {
        name: name(n),
        default: Initial::S(default),
        dim,
        access,
        valid: Valid::OneOf(legal),
    }
}

const fn ptr(n: &'static [u8], access: Access) -> Spec {
    Spec {
        name: name(n),
        default: Initial::P(1),
        dim: 1,
        access,
        valid: Valid::Any,
    }
}

pub const CONTEXTS: &[&str] = &[
    name(f::kOfxImageEffectContextFilter),
    name(f::kOfxImageEffectContextGeneral),
    name(f::kOfxImageEffectContextGenerator),
    name(f::kOfxImageEffectContextTransition),
    name(f::kOfxImageEffectContextPaint),
    name(f::kOfxImageEffectContextRetimer),
];
pub const DEPTHS: &[&str] = &[
    name(f::kOfxBitDepthByte),
    name(f::kOfxBitDepthShort),
    name(f::kOfxBitDepthHalf),
    name(f::kOfxBitDepthFloat),
];
pub const COMPONENTS: &[&str] = &[
    name(f::kOfxImageComponentRGBA),
    name(f::kOfxImageComponentRGB),
    name(f::kOfxImageComponentAlpha),
];
pub const PREMULTS: &[&str] = &[
    name(f::kOfxImageOpaque),
    name(f::kOfxImagePreMultiplied),
    name(f::kOfxImageUnPreMultiplied),
];
const THREAD_SAFETY: &[&str] = &[
    name(f::kOfxImageEffectRenderUnsafe),
    name(f::kOfxImageEffectRenderInstanceSafe),
    name(f::kOfxImageEffectRenderFullySafe),
];
const FIELD_EXTRACTION: &[&str] = &[
    name(f::kOfxImageFieldBoth),
    name(f::kOfxImageFieldSingle),
    name(f::kOfxImageFieldDoubled),
];
const OPENGL_SUPPORT: &[&str] = &["false", "true", "needed"];
const DOUBLE_TYPES: &[&str] = &[
    name(f::kOfxParamDoubleTypePlain),
    name(f::kOfxParamDoubleTypeScale),
    name(f::kOfxParamDoubleTypeAngle),
    name(f::kOfxParamDoubleTypeTime),
    name(f::kOfxParamDoubleTypeAbsoluteTime),
    name(f::kOfxParamDoubleTypeX),
    name(f::kOfxParamDoubleTypeY),
    name(f::kOfxParamDoubleTypeXAbsolute),
    name(f::kOfxParamDoubleTypeYAbsolute),
    name(f::kOfxParamDoubleTypeXY),
    name(f::kOfxParamDoubleTypeXYAbsolute),
    // Deprecated (ofxOld.h) but still legal.
    "OfxParamDoubleTypeNormalisedX",
    "OfxParamDoubleTypeNormalisedY",
    "OfxParamDoubleTypeNormalisedXAbsolute",
    "OfxParamDoubleTypeNormalisedYAbsolute",
    "OfxParamDoubleTypeNormalisedXY",
    "OfxParamDoubleTypeNormalisedXYAbsolute",
];
const STRING_MODES: &[&str] = &[
    name(f::kOfxParamStringIsSingleLine),
    name(f::kOfxParamStringIsMultiLine),
    name(f::kOfxParamStringIsFilePath),
    name(f::kOfxParamStringIsDirectoryPath),
    name(f::kOfxParamStringIsLabel),
    name(f::kOfxParamStringIsRichTextFormat),
];
const CACHE_INVALIDATION: &[&str] = &[
    name(f::kOfxParamInvalidateValueChange),
    name(f::kOfxParamInvalidateValueChangeToEnd),
    name(f::kOfxParamInvalidateAll),
];
const COORDINATES: &[&str] = &[
    name(f::kOfxParamCoordinatesCanonical),
    name(f::kOfxParamCoordinatesNormalised),
];

/// The host descriptor (`OfxHost::host`); values are filled from `HostConfig`.
pub const HOST: &[Spec] = &[
    st(f::kOfxPropType, 1, Ro, &[name(f::kOfxTypeImageEffectHost)]),
    st(f::kOfxPropName, 1, Ro, &[""]),
    st(f::kOfxPropLabel, 1, Ro, &[""]),
    int(f::kOfxPropVersion, 0, Ro, &[]),
    st(f::kOfxPropVersionLabel, 1, Ro, &[""]),
    int(f::kOfxPropAPIVersion, 0, Ro, &[1, 4]),
    int(f::kOfxImageEffectHostPropIsBackground, 1, Ro, &[0]),
    int(f::kOfxImageEffectPropSupportsOverlays, 1, Ro, &[0]),
    int(f::kOfxImageEffectPropSupportsMultiResolution, 1, Ro, &[1]),
    int(f::kOfxImageEffectPropSupportsTiles, 1, Ro, &[1]),
    int(f::kOfxImageEffectPropTemporalClipAccess, 1, Ro, &[1]),
    st(f::kOfxImageEffectPropSupportedComponents, 0, Ro, &[]),
    st(f::kOfxImageEffectPropSupportedContexts, 0, Ro, &[]),
    st(f::kOfxImageEffectPropSupportedPixelDepths, 0, Ro, &[]),
    int(
        f::kOfxImageEffectPropSupportsMultipleClipDepths,
        1,
        Ro,
        &[0],
    ),
    int(f::kOfxImageEffectPropSupportsMultipleClipPARs, 1, Ro, &[0]),
    int(f::kOfxImageEffectPropSetableFrameRate, 1, Ro, &[0]),
    int(f::kOfxImageEffectPropSetableFielding, 1, Ro, &[0]),
    int(f::kOfxImageEffectInstancePropSequentialRender, 1, Ro, &[2]),
    int(f::kOfxParamHostPropSupportsCustomInteract, 1, Ro, &[0]),
    int(f::kOfxParamHostPropSupportsStringAnimation, 1, Ro, &[1]),
    int(f::kOfxParamHostPropSupportsChoiceAnimation, 1, Ro, &[1]),
    int(f::kOfxParamHostPropSupportsBooleanAnimation, 1, Ro, &[1]),
    int(f::kOfxParamHostPropSupportsCustomAnimation, 1, Ro, &[1]),
    int(f::kOfxParamHostPropSupportsParametricAnimation, 1, Ro, &[0]),
    int(f::kOfxParamHostPropMaxParameters, 1, Ro, &[-1]),
    int(f::kOfxParamHostPropMaxPages, 1, Ro, &[0]),
    int(f::kOfxParamHostPropPageRowColumnCount, 2, Ro, &[0, 0]),
    ptr(f::kOfxPropHostOSHandle, Ro),
    int(f::kOfxImageEffectPropRenderQualityDraft, 1, Ro, &[0]),
    st(
        f::kOfxImageEffectHostPropNativeOrigin,
        1,
        Ro,
        &[name(f::kOfxHostNativeOriginBottomLeft)],
    ),
    st(
        f::kOfxImageEffectPropOpenGLRenderSupported,
        1,
        Ro,
        &["false"],
    ),
];

/// Descriptive properties of an effect, writable in describe / describeInContext
/// and read-only on instances (except those listed in `INSTANCE_WRITABLE`).
pub const EFFECT_DESCRIPTOR: &[Spec] = &[
    st(f::kOfxPropType, 1, Ro, &[name(f::kOfxTypeImageEffect)]),
    st(f::kOfxPropLabel, 1, Rw, &[""]),
    st(f::kOfxPropShortLabel, 1, Rw, &[""]),
    st(f::kOfxPropLongLabel, 1, Rw, &[""]),
    int(f::kOfxPropVersion, 0, Rw, &[]),
    st(f::kOfxPropVersionLabel, 1, Rw, &[""]),
    st(f::kOfxPropPluginDescription, 1, Rw, &[""]),
    st(f::kOfxPluginPropFilePath, 1, Ro, &[""]),
    one_of(
        f::kOfxImageEffectPropSupportedContexts,
        0,
        Rw,
        &[],
        CONTEXTS,
    ),
    st(f::kOfxImageEffectPluginPropGrouping, 1, Rw, &[""]),
    flag(f::kOfxImageEffectPluginPropSingleInstance, Rw, 0),
    one_of(
        f::kOfxImageEffectPluginRenderThreadSafety,
        1,
        Rw,
        &[name(f::kOfxImageEffectRenderInstanceSafe)],
        THREAD_SAFETY,
    ),
    flag(f::kOfxImageEffectPluginPropHostFrameThreading, Rw, 1),
    ptr(f::kOfxImageEffectPluginPropOverlayInteractV1, Rw),
    ptr(f::kOfxImageEffectPluginPropOverlayInteractV2, Rw),
    flag(f::kOfxImageEffectPropSupportsMultiResolution, Rw, 1),
    flag(f::kOfxImageEffectPropSupportsTiles, Rw, 1),
    flag(f::kOfxImageEffectPropTemporalClipAccess, Rw, 0),
    one_of(
        f::kOfxImageEffectPropSupportedPixelDepths,
        0,
        Rw,
        &[],
        DEPTHS,
    ),
    flag(f::kOfxImageEffectPluginPropFieldRenderTwiceAlways, Rw, 1),
    flag(f::kOfxImageEffectPropSupportsMultipleClipDepths, Rw, 0),
    flag(f::kOfxImageEffectPropSupportsMultipleClipPARs, Rw, 0),
    st(f::kOfxImageEffectPropClipPreferencesSlaveParam, 0, Rw, &[]),
    Spec {
        valid: Valid::Range(0, 2),
        ..int(f::kOfxImageEffectInstancePropSequentialRender, 1, Rw, &[0])
    },
    one_of(
        f::kOfxImageEffectPropOpenGLRenderSupported,
        1,
        Rw,
        &["false"],
        OPENGL_SUPPORT,
    ),
];

/// Descriptor properties that stay writable on an instance.
pub const INSTANCE_WRITABLE: &[&str] = &[
    name(f::kOfxImageEffectPropSupportsTiles),
    name(f::kOfxImageEffectInstancePropSequentialRender),
    name(f::kOfxImageEffectPropOpenGLRenderSupported),
];

/// Properties only an effect instance has.
pub const EFFECT_INSTANCE: &[Spec] = &[
    st(
        f::kOfxPropType,
        1,
        Ro,
        &[name(f::kOfxTypeImageEffectInstance)],
    ),
    st(f::kOfxImageEffectPropContext, 1, Ro, &[""]),
    ptr(f::kOfxPropInstanceData, Rw),
    ptr(f::kOfxImageEffectPropPluginHandle, Ro),
    dbl(f::kOfxImageEffectPropProjectSize, 2, Ro, &[0.0, 0.0]),
    dbl(f::kOfxImageEffectPropProjectOffset, 2, Ro, &[0.0, 0.0]),
    dbl(f::kOfxImageEffectPropProjectExtent, 2, Ro, &[0.0, 0.0]),
    dbl(f::kOfxImageEffectPropProjectPixelAspectRatio, 1, Ro, &[1.0]),
    dbl(f::kOfxImageEffectInstancePropEffectDuration, 1, Ro, &[0.0]),
    dbl(f::kOfxImageEffectPropFrameRate, 1, Ro, &[24.0]),
    int(f::kOfxPropIsInteractive, 1, Ro, &[0]),
];

/// An interact descriptor (the overlay's describe action).
pub const INTERACT_DESCRIPTOR: &[Spec] = &[
    flag(f::kOfxInteractPropHasAlpha, Ro, 1),
    int(f::kOfxInteractPropBitDepth, 1, Ro, &[8]),
];

/// An interact instance, one per viewer.
pub const INTERACT_INSTANCE: &[Spec] = &[
    flag(f::kOfxInteractPropHasAlpha, Ro, 1),
    int(f::kOfxInteractPropBitDepth, 1, Ro, &[8]),
    ptr(f::kOfxPropEffectInstance, Ro),
    ptr(f::kOfxPropInstanceData, Rw),
    dbl(f::kOfxInteractPropPixelScale, 2, Ro, &[1.0, 1.0]),
    dbl(f::kOfxInteractPropBackgroundColour, 3, Ro, &[0.0, 0.0, 0.0]),
    dbl(f::kOfxInteractPropSuggestedColour, 3, Ro, &[1.0, 1.0, 1.0]),
    int(f::kOfxInteractPropViewportSize, 2, Ro, &[0, 0]),
    st(f::kOfxInteractPropSlaveToParam, 0, Rw, &[]),
];

pub const CLIP_DESCRIPTOR: &[Spec] = &[
    st(f::kOfxPropType, 1, Ro, &[name(f::kOfxTypeClip)]),
    st(f::kOfxPropName, 1, Ro, &[""]),
    st(f::kOfxPropLabel, 1, Rw, &[""]),
    st(f::kOfxPropShortLabel, 1, Rw, &[""]),
    st(f::kOfxPropLongLabel, 1, Rw, &[""]),
    one_of(
        f::kOfxImageEffectPropSupportedComponents,
        0,
        Rw,
        &[],
        COMPONENTS,
    ),
    flag(f::kOfxImageEffectPropTemporalClipAccess, Rw, 0),
    flag(f::kOfxImageClipPropOptional, Rw, 0),
    flag(f::kOfxImageClipPropIsMask, Rw, 0),
    one_of(
        f::kOfxImageClipPropFieldExtraction,
        1,
        Rw,
        &[name(f::kOfxImageFieldDoubled)],
        FIELD_EXTRACTION,
    ),
    flag(f::kOfxImageEffectPropSupportsTiles, Rw, 1),
];

/// Properties only a clip instance has (all read-only).
pub const CLIP_INSTANCE: &[Spec] = &[
    st(
        f::kOfxImageEffectPropPixelDepth,
        1,
        Ro,
        &[name(f::kOfxBitDepthNone)],
    ),
    st(
        f::kOfxImageEffectPropComponents,
        1,
        Ro,
        &[name(f::kOfxImageComponentNone)],
    ),
    st(
        f::kOfxImageClipPropUnmappedPixelDepth,
        1,
        Ro,
        &[name(f::kOfxBitDepthNone)],
    ),
    st(
        f::kOfxImageClipPropUnmappedComponents,
        1,
        Ro,
        &[name(f::kOfxImageComponentNone)],
    ),
    st(
        f::kOfxImageEffectPropPreMultiplication,
        1,
        Ro,
        &[name(f::kOfxImageOpaque)],
    ),
    dbl(f::kOfxImagePropPixelAspectRatio, 1, Ro, &[1.0]),
    dbl(f::kOfxImageEffectPropFrameRate, 1, Ro, &[24.0]),
    dbl(f::kOfxImageEffectPropFrameRange, 2, Ro, &[0.0, 0.0]),
    st(
        f::kOfxImageClipPropFieldOrder,
        1,
        Ro,
        &[name(f::kOfxImageFieldNone)],
    ),
    int(f::kOfxImageClipPropConnected, 1, Ro, &[0]),
    dbl(f::kOfxImageEffectPropUnmappedFrameRange, 2, Ro, &[0.0, 0.0]),
    dbl(f::kOfxImageEffectPropUnmappedFrameRate, 1, Ro, &[24.0]),
    int(f::kOfxImageClipPropContinuousSamples, 1, Ro, &[0]),
];

pub const IMAGE: &[Spec] = &[
    st(f::kOfxPropType, 1, Ro, &[name(f::kOfxTypeImage)]),
    st(f::kOfxImageEffectPropPixelDepth, 1, Ro, &[""]),
    st(f::kOfxImageEffectPropComponents, 1, Ro, &[""]),
    st(f::kOfxImageEffectPropPreMultiplication, 1, Ro, &[""]),
    dbl(f::kOfxImageEffectPropRenderScale, 2, Ro, &[1.0, 1.0]),
    dbl(f::kOfxImagePropPixelAspectRatio, 1, Ro, &[1.0]),
    ptr(f::kOfxImagePropData, Ro),
    int(f::kOfxImagePropBounds, 4, Ro, &[0, 0, 0, 0]),
    int(f::kOfxImagePropRegionOfDefinition, 4, Ro, &[0, 0, 0, 0]),
    int(f::kOfxImagePropRowBytes, 1, Ro, &[0]),
    st(f::kOfxImagePropField, 1, Ro, &[name(f::kOfxImageFieldNone)]),
    st(f::kOfxImagePropUniqueIdentifier, 1, Ro, &[""]),
];

/// The parameter set's own properties.
pub const PARAM_SET: &[Spec] = &[
    st(f::kOfxPluginPropParamPageOrder, 0, Rw, &[]),
    flag(f::kOfxPropParamSetNeedsSyncing, Rw, 0),
];

/// Every parameter.
pub const PARAM_ALL: &[Spec] = &[
    st(f::kOfxPropType, 1, Ro, &[name(f::kOfxTypeParameter)]),
    st(f::kOfxPropName, 1, Ro, &[""]),
    st(f::kOfxParamPropType, 1, Ro, &[""]),
    st(f::kOfxPropLabel, 1, Rw, &[""]),
    st(f::kOfxPropShortLabel, 1, Rw, &[""]),
    st(f::kOfxPropLongLabel, 1, Rw, &[""]),
    st(f::kOfxPropIcon, 2, Rw, &["", ""]),
    flag(f::kOfxParamPropSecret, Rw, 0),
    st(f::kOfxParamPropHint, 1, Rw, &[""]),
    st(f::kOfxParamPropScriptName, 1, Rw, &[""]),
    st(f::kOfxParamPropParent, 1, Rw, &[""]),
    flag(f::kOfxParamPropEnabled, Rw, 1),
    ptr(f::kOfxParamPropDataPtr, Rw),
];

/// Every parameter but groups and pages.
pub const PARAM_INTERACTIVE: &[Spec] = &[
    ptr(f::kOfxParamPropInteractV1, Rw),
    dbl(f::kOfxParamPropInteractSize, 2, Ro, &[0.0, 0.0]),
    dbl(f::kOfxParamPropInteractSizeAspect, 1, Rw, &[1.0]),
    dbl(f::kOfxParamPropInteractMinimumSize, 2, Rw, &[10.0, 10.0]),
    int(f::kOfxParamPropInteractPreferedSize, 2, Rw, &[10, 10]),
];

/// Parameters holding a value (not groups, pages or buttons).
pub const PARAM_VALUED: &[Spec] = &[
    flag(f::kOfxParamPropAnimates, Rw, 1),
    flag(f::kOfxParamPropIsAnimating, Ro, 0),
    flag(f::kOfxParamPropIsAutoKeying, Ro, 0),
    flag(f::kOfxParamPropPersistant, Rw, 1),
    flag(f::kOfxParamPropEvaluateOnChange, Rw, 1),
    flag(f::kOfxParamPropPluginMayWrite, Rw, 0),
    flag(f::kOfxParamPropCanUndo, Rw, 1),
    one_of(
        f::kOfxParamPropCacheInvalidation,
        1,
        Rw,
        &[name(f::kOfxParamInvalidateValueChange)],
        CACHE_INVALIDATION,
    ),
];

pub const PARAM_DOUBLE: &[Spec] = &[
    dbl(f::kOfxParamPropIncrement, 1, Rw, &[1.0]),
    int(f::kOfxParamPropDigits, 1, Rw, &[2]),
    one_of(
        f::kOfxParamPropDoubleType,
        1,
        Rw,
        &[name(f::kOfxParamDoubleTypePlain)],
        DOUBLE_TYPES,
    ),
    one_of(
        f::kOfxParamPropDefaultCoordinateSystem,
        1,
        Rw,
        &[name(f::kOfxParamCoordinatesCanonical)],
        COORDINATES,
    ),
];

pub const PARAM_DOUBLE_1D: &[Spec] = &[flag(f::kOfxParamPropShowTimeMarker, Rw, 0)];

pub const PARAM_DOUBLE_2D: &[Spec] = &[
    flag(f::kOfxParamPropHasHostOverlayHandle, Ro, 0),
    flag(f::kOfxParamPropUseHostOverlayHandle, Rw, 0),
];

pub const PARAM_STRING: &[Spec] = &[
    one_of(
        f::kOfxParamPropStringMode,
        1,
        Rw,
        &[name(f::kOfxParamStringIsSingleLine)],
        STRING_MODES,
    ),
    flag(f::kOfxParamPropStringFilePathExists, Rw, 1),
];

pub const PARAM_CHOICE: &[Spec] = &[st(f::kOfxParamPropChoiceOption, 0, Rw, &[])];

pub const PARAM_CUSTOM: &[Spec] = &[ptr(f::kOfxParamPropCustomInterpCallbackV1, Rw)];

pub const PARAM_PAGE: &[Spec] = &[st(f::kOfxParamPropPageChild, 0, Rw, &[])];

pub const PARAM_GROUP: &[Spec] = &[flag(f::kOfxParamPropGroupOpen, Rw, 1)];

pub const PARAM_PARAMETRIC: &[Spec] = &[
    int(f::kOfxParamPropParametricDimension, 1, Rw, &[1]),
    dbl(f::kOfxParamPropParametricUIColour, 0, Rw, &[]),
    ptr(f::kOfxParamPropParametricInteractBackground, Rw),
    dbl(f::kOfxParamPropParametricRange, 2, Rw, &[0.0, 1.0]),
];

/// Parameter properties the plugin may still change on an instance.
pub const PARAM_INSTANCE_WRITABLE: &[&str] = &[
    name(f::kOfxPropLabel),
    name(f::kOfxPropShortLabel),
    name(f::kOfxPropLongLabel),
    name(f::kOfxParamPropSecret),
    name(f::kOfxParamPropHint),
    name(f::kOfxParamPropEnabled),
    name(f::kOfxParamPropDataPtr),
    name(f::kOfxParamPropEvaluateOnChange),
    name(f::kOfxParamPropShowTimeMarker),
    name(f::kOfxParamPropChoiceOption),
    name(f::kOfxParamPropDefault),
    name(f::kOfxParamPropMin),
    name(f::kOfxParamPropMax),
    name(f::kOfxParamPropDisplayMin),
    name(f::kOfxParamPropDisplayMax),
    name(f::kOfxParamPropIncrement),
    name(f::kOfxParamPropDigits),
    name(f::kOfxPropParamSetNeedsSyncing),
];
