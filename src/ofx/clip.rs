//! Clips: definition at describe time, connection state and images at render time.

use super::error::check;
use super::image::{BitDepth, Components, Image};
use super::{host_suites, OfxError, OfxResult, PropertySet, RectD};
use crate::ffi;
use std::ffi::CString;

/// A clip being described: name, optional/mask flags and supported components.
pub struct ClipDef<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub optional: bool,
    pub is_mask: bool,
    pub components: &'a [&'static [u8]],
    /// Whether the effect fetches this clip's images at other times than the one it
    /// renders (it then says which in `ImageEffect::frames_needed`).
    pub temporal: bool,
}

/// Access to an effect's clips (descriptor or instance handle).
#[derive(Clone, Copy)]
pub struct Clips {
    effect: ffi::OfxImageEffectHandle,
}

/// A clip of an instance.
#[derive(Clone, Copy)]
pub struct Clip {
    handle: ffi::OfxImageClipHandle,
    props: PropertySet,
}

impl Clips {
    pub(crate) fn new(effect: ffi::OfxImageEffectHandle) -> Self {
        Clips { effect }
    }

    /// Defines a clip on a descriptor (describeInContext).
    pub fn define(&self, def: &ClipDef) -> OfxResult<()> {
        let suites = host_suites()?;
        let define = suites
            .effect
            .clipDefine
            .ok_or_else(|| OfxError::host_call("clipDefine", ffi::kOfxStatErrMissingHostFeature))?;
        let name = CString::new(def.name).map_err(|_| OfxError::failed("clip name with NUL"))?;
        let mut props: ffi::OfxPropertySetHandle = std::ptr::null_mut();
        // SAFETY: a descriptor handle, a C string and an out pointer.
        check("clipDefine", unsafe {
            define(self.effect, name.as_ptr(), &mut props)
        })?;
        let props = PropertySet(props);
        props.set_string(ffi::kOfxPropLabel, 0, def.label)?;
        props.set_strings(ffi::kOfxImageEffectPropSupportedComponents, def.components)?;
        props.set_int(ffi::kOfxImageClipPropOptional, 0, def.optional as i32)?;
        props.set_int(ffi::kOfxImageClipPropIsMask, 0, def.is_mask as i32)?;
        props.set_int(ffi::kOfxImageEffectPropSupportsTiles, 0, 1)?;
        props.set_int(
            ffi::kOfxImageEffectPropTemporalClipAccess,
            0,
            def.temporal as i32,
        )?;
        Ok(())
    }

    /// An instance's clip by name.
    pub fn get(&self, name: &str) -> OfxResult<Clip> {
        let suites = host_suites()?;
        let get = suites.effect.clipGetHandle.ok_or_else(|| {
            OfxError::host_call("clipGetHandle", ffi::kOfxStatErrMissingHostFeature)
        })?;
        let cname = CString::new(name).map_err(|_| OfxError::failed("clip name with NUL"))?;
        let mut handle: ffi::OfxImageClipHandle = std::ptr::null_mut();
        let mut props: ffi::OfxPropertySetHandle = std::ptr::null_mut();
        // SAFETY: an instance handle, a C string and two out pointers.
        check(&format!("clipGetHandle({name})"), unsafe {
            get(self.effect, cname.as_ptr(), &mut handle, &mut props)
        })?;
        Ok(Clip {
            handle,
            props: PropertySet(props),
        })
    }
}

impl Clip {
    pub fn is_connected(&self) -> bool {
        self.props
            .get_int(ffi::kOfxImageClipPropConnected, 0)
            .map(|v| v != 0)
            .unwrap_or(false)
    }

    pub fn pixel_depth(&self) -> OfxResult<BitDepth> {
        BitDepth::from_name(
            &self
                .props
                .get_string(ffi::kOfxImageEffectPropPixelDepth, 0)?,
        )
    }

    pub fn components(&self) -> OfxResult<Components> {
        Components::from_name(
            &self
                .props
                .get_string(ffi::kOfxImageEffectPropComponents, 0)?,
        )
    }

    pub fn pixel_aspect_ratio(&self) -> f64 {
        self.props
            .get_double(ffi::kOfxImagePropPixelAspectRatio, 0)
            .ok()
            .filter(|p| *p > 0.0)
            .unwrap_or(1.0)
    }

    /// The clip's frame range, if the host reports one.
    pub fn frame_range(&self) -> Option<(f64, f64)> {
        self.props
            .get_doubles::<2>(ffi::kOfxImageEffectPropFrameRange)
            .ok()
            .map(|r| (r[0], r[1]))
    }

    pub fn region_of_definition(&self, time: f64) -> OfxResult<RectD> {
        let suites = host_suites()?;
        let f = suites.effect.clipGetRegionOfDefinition.ok_or_else(|| {
            OfxError::host_call(
                "clipGetRegionOfDefinition",
                ffi::kOfxStatErrMissingHostFeature,
            )
        })?;
        let mut rod = ffi::OfxRectD::default();
        // SAFETY: a clip handle from the host and an out rectangle.
        check("clipGetRegionOfDefinition", unsafe {
            f(self.handle, time, &mut rod)
        })?;
        Ok(RectD::from_ffi(rod))
    }

    /// Fetches the image at `time` covering `region` (canonical); `None` for the host's default region.
    /// The image is released when dropped.
    pub fn image(&self, time: f64, region: Option<RectD>) -> OfxResult<Image> {
        let suites = host_suites()?;
        let f = suites.effect.clipGetImage.ok_or_else(|| {
            OfxError::host_call("clipGetImage", ffi::kOfxStatErrMissingHostFeature)
        })?;
        let region = region.map(RectD::to_ffi);
        let region_ptr = region
            .as_ref()
            .map_or(std::ptr::null(), |r| r as *const ffi::OfxRectD);
        let mut props: ffi::OfxPropertySetHandle = std::ptr::null_mut();
        // SAFETY: a clip handle, a time, an optional region and an out pointer.
        let status = unsafe { f(self.handle, time, region_ptr, &mut props) };
        if status != ffi::kOfxStatOK || props.is_null() {
            return Err(OfxError::host_call("clipGetImage", status));
        }
        Image::from_host(PropertySet(props))
    }
}

/// Names of the supported components, for `ClipDef::components`.
pub const ALL_COMPONENTS: &[&[u8]] = &[
    ffi::kOfxImageComponentRGBA,
    ffi::kOfxImageComponentRGB,
    ffi::kOfxImageComponentAlpha,
];
