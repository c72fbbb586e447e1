//! Images handed out by the host: typed row access for every depth and layout.
//!
//! OpenFX addresses rows from `bounds.y1` (the bottom row) in steps of
//! `rowBytes`, which may be negative (top-down storage). All conversion
//! goes through `f32` RGBA rows; missing channels read as 0 (colour) or 1 (alpha).

use super::{host_suites, matches, OfxError, OfxResult, PropertySet, RectI};
use crate::ffi;
use half::f16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitDepth {
    Byte,
    Short,
    Half,
    Float,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Components {
    Rgba,
    Rgb,
    Alpha,
}

impl BitDepth {
    pub fn from_name(name: &str) -> OfxResult<Self> {
        let is = |k: &[u8]| matches(name, k);
        if is(ffi::kOfxBitDepthByte) {
            Ok(BitDepth::Byte)
        } else if is(ffi::kOfxBitDepthShort) {
            Ok(BitDepth::Short)
        } else if is(ffi::kOfxBitDepthHalf) {
            Ok(BitDepth::Half)
        } else if is(ffi::kOfxBitDepthFloat) {
            Ok(BitDepth::Float)
        } else {
            Err(OfxError::new(
                ffi::kOfxStatErrUnsupported,
                format!("unsupported pixel depth '{name}'"),
            ))
        }
    }
    pub fn ofx_name(self) -> &'static [u8] {
        match self {
            BitDepth::Byte => ffi::kOfxBitDepthByte,
            BitDepth::Short => ffi::kOfxBitDepthShort,
            BitDepth::Half => ffi::kOfxBitDepthHalf,
            BitDepth::Float => ffi::kOfxBitDepthFloat,
        }
    }
    pub fn bytes(self) -> usize {
        match self {
            BitDepth::Byte => 1,
            BitDepth::Short | BitDepth::Half => 2,
            BitDepth::Float => 4,
        }
    }
}

impl Components {
    pub fn from_name(name: &str) -> OfxResult<Self> {
        let is = |k: &[u8]| matches(name, k);
        if is(ffi::kOfxImageComponentRGBA) {
            Ok(Components::Rgba)
        } else if is(ffi::kOfxImageComponentRGB) {
            Ok(Components::Rgb)
        } else if is(ffi::kOfxImageComponentAlpha) {
            Ok(Components::Alpha)
        } else {
            Err(OfxError::new(
                ffi::kOfxStatErrUnsupported,
                format!("unsupported components '{name}'"),
            ))
        }
    }
    pub fn ofx_name(self) -> &'static [u8] {
        match self {
            Components::Rgba => ffi::kOfxImageComponentRGBA,
            Components::Rgb => ffi::kOfxImageComponentRGB,
            Components::Alpha => ffi::kOfxImageComponentAlpha,
        }
    }
    pub fn count(self) -> usize {
        match self {
            Components::Rgba => 4,
            Components::Rgb => 3,
            Components::Alpha => 1,
        }
    }
}

/// An image fetched from a clip; released back to the host on drop.
pub struct Image {
    props: PropertySet,
    data: *mut u8,
    bounds: RectI,
    row_bytes: isize,
    depth: BitDepth,
    components: Components,
}

impl Image {
    pub(crate) fn from_host(props: PropertySet) -> OfxResult<Self> {
        let data = props.get_pointer(ffi::kOfxImagePropData)? as *mut u8;
        let b = props.get_ints::<4>(ffi::kOfxImagePropBounds)?;
        let row_bytes = props.get_int(ffi::kOfxImagePropRowBytes, 0)? as isize;
        let depth = BitDepth::from_name(&props.get_string(ffi::kOfxImageEffectPropPixelDepth, 0)?)?;
        let components =
            Components::from_name(&props.get_string(ffi::kOfxImageEffectPropComponents, 0)?)?;
        let bounds = RectI {
            x1: b[0],
            y1: b[1],
            x2: b[2],
            y2: b[3],
        };
        let image = Image {
            props,
            data,
            bounds,
            row_bytes,
            depth,
            components,
        };
        if data.is_null() && !bounds.is_empty() {
            return Err(OfxError::failed(
                "the host gave an image without pixel data",
            ));
        }
        let min_row = bounds.width() as isize * (depth.bytes() * components.count()) as isize;
        if !bounds.is_empty() && row_bytes.abs() < min_row {
            return Err(OfxError::failed(format!(
                "image rowBytes {row_bytes} is smaller than a row ({min_row} bytes)"
            )));
        }
        Ok(image)
    }

    pub fn bounds(&self) -> RectI {
        self.bounds
    }
    pub fn depth(&self) -> BitDepth {
        self.depth
    }
    pub fn components(&self) -> Components {
        self.components
    }

    fn pixel_bytes(&self) -> usize {
        self.depth.bytes() * self.components.count()
    }

    /// Pointer to pixel (x, y), which must lie inside the bounds.
    fn pixel_ptr(&self, x: i32, y: i32) -> *mut u8 {
        debug_assert!(self.bounds.contains(x, y));
        let row = (y - self.bounds.y1) as isize * self.row_bytes;
        let col = (x - self.bounds.x1) as isize * self.pixel_bytes() as isize;
        // SAFETY: (x, y) is inside bounds, so the offset stays inside the host's buffer.
        unsafe { self.data.offset(row + col) }
    }

    /// Reads pixels [x1, x2) of row y as RGBA f32 into `out` (4 floats a pixel).
    /// Pixels outside the image's bounds read as transparent black.
    pub fn read_rgba(&self, y: i32, x1: i32, x2: i32, out: &mut [f32]) {
        debug_assert_eq!(out.len(), (x2 - x1).max(0) as usize * 4);
        out.fill(0.0);
        if y < self.bounds.y1 || y >= self.bounds.y2 {
            return;
        }
        let (a, b) = (x1.max(self.bounds.x1), x2.min(self.bounds.x2));
        if a >= b {
            return;
        }
        let n = (b - a) as usize;
        let nc = self.components.count();
        let dst = &mut out[(a - x1) as usize * 4..(b - x1) as usize * 4];
        let src = self.pixel_ptr(a, y);
        // SAFETY: [a, b) lies inside the bounds on row y; the host's buffer holds n pixels there.
        unsafe {
            match self.depth {
                BitDepth::Byte => spread(std::slice::from_raw_parts(src, n * nc), nc, dst, |v| {
                    v as f32 / 255.0
                }),
                BitDepth::Short => spread(
                    std::slice::from_raw_parts(src as *const u16, n * nc),
                    nc,
                    dst,
                    |v| v as f32 / 65535.0,
                ),
                BitDepth::Half => spread(
                    std::slice::from_raw_parts(src as *const f16, n * nc),
                    nc,
                    dst,
                    f32::from,
                ),
                BitDepth::Float => spread(
                    std::slice::from_raw_parts(src as *const f32, n * nc),
                    nc,
                    dst,
                    |v| v,
                ),
            }
        }
    }

    /// Writes RGBA f32 pixels into [x1, x2) of row y (which must lie inside the bounds),
    /// converting to the image's depth and keeping only its components.
    pub fn write_rgba(&mut self, y: i32, x1: i32, x2: i32, src: &[f32]) {
        let (a, b) = (x1.max(self.bounds.x1), x2.min(self.bounds.x2));
        if y < self.bounds.y1 || y >= self.bounds.y2 || a >= b {
            return;
        }
        let n = (b - a) as usize;
        let nc = self.components.count();
        let src = &src[(a - x1) as usize * 4..(b - x1) as usize * 4];
        let dst = self.pixel_ptr(a, y);
        // SAFETY: [a, b) lies inside the bounds on row y of a writable output image.
        unsafe {
            match self.depth {
                BitDepth::Byte => {
                    gather(src, nc, std::slice::from_raw_parts_mut(dst, n * nc), |v| {
                        (v.clamp(0.0, 1.0) * 255.0).round() as u8
                    })
                }
                BitDepth::Short => gather(
                    src,
                    nc,
                    std::slice::from_raw_parts_mut(dst as *mut u16, n * nc),
                    |v| (v.clamp(0.0, 1.0) * 65535.0).round() as u16,
                ),
                BitDepth::Half => gather(
                    src,
                    nc,
                    std::slice::from_raw_parts_mut(dst as *mut f16, n * nc),
                    f16::from_f32,
                ),
                BitDepth::Float => gather(
                    src,
                    nc,
                    std::slice::from_raw_parts_mut(dst as *mut f32, n * nc),
                    |v| v,
                ),
            }
        }
    }

    /// Copies pixels [x1, x2) of row y from `src` unchanged when the layouts match
    /// (bit for bit), through f32 otherwise. Pixels outside `src` become transparent black.
    pub fn copy_row_from(&mut self, src: &Image, y: i32, x1: i32, x2: i32, scratch: &mut Vec<f32>) {
        let (a, b) = (x1.max(self.bounds.x1), x2.min(self.bounds.x2));
        if y < self.bounds.y1 || y >= self.bounds.y2 || a >= b {
            return;
        }
        let same_layout = src.depth == self.depth && src.components == self.components;
        let inside_src =
            y >= src.bounds.y1 && y < src.bounds.y2 && a >= src.bounds.x1 && b <= src.bounds.x2;
        if same_layout && inside_src {
            let bytes = (b - a) as usize * self.pixel_bytes();
            // SAFETY: both rows hold [a, b) inside their bounds; the buffers are distinct host images.
            unsafe {
                std::ptr::copy_nonoverlapping(src.pixel_ptr(a, y), self.pixel_ptr(a, y), bytes)
            };
        } else {
            scratch.resize((b - a) as usize * 4, 0.0);
            src.read_rgba(y, a, b, scratch);
            self.write_rgba(y, a, b, scratch);
        }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        if let Ok(suites) = host_suites() {
            if let Some(release) = suites.effect.clipReleaseImage {
                // SAFETY: the handle came from clipGetImage and is released exactly once.
                let status = unsafe { release(self.props.0) };
                if status != ffi::kOfxStatOK {
                    log::warn!("clipReleaseImage returned {status}");
                }
            }
        }
    }
}

/// Expands `nc`-channel samples to RGBA.
fn spread<T: Copy>(src: &[T], nc: usize, dst: &mut [f32], conv: impl Fn(T) -> f32) {
    for (px, out) in src.chunks_exact(nc).zip(dst.chunks_exact_mut(4)) {
        match nc {
            4 => out.iter_mut().zip(px).for_each(|(o, v)| *o = conv(*v)),
            3 => {
                out[0] = conv(px[0]);
                out[1] = conv(px[1]);
                out[2] = conv(px[2]);
                out[3] = 1.0;
            }
            _ => out[3] = conv(px[0]),
        }
    }
}

/// Packs RGBA samples into `nc` channels.
fn gather<T: Copy>(src: &[f32], nc: usize, dst: &mut [T], conv: impl Fn(f32) -> T) {
    for (px, out) in src.chunks_exact(4).zip(dst.chunks_exact_mut(nc)) {
        match nc {
            4 | 3 => out.iter_mut().zip(px).for_each(|(o, v)| *o = conv(*v)),
            _ => out[0] = conv(px[3]),
        }
    }
}
