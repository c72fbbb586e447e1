//! Images: pixel buffers in any OFX depth and component layout, with both row
//! orders, plus the conversions a host needs (depth, components, crop, scale).

use std::cell::UnsafeCell;
use std::sync::Arc;

use half::f16;

use super::config::RowOrder;
use super::properties::PropertySet;
use super::specs::{COMPONENTS, DEPTHS, PREMULTS};
use crate::ffi::{OfxRectD, OfxRectI};

/// Pixel depth of one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitDepth {
    Byte,
    Short,
    Half,
    Float,
}

impl BitDepth {
    pub const ALL: [BitDepth; 4] = [
        BitDepth::Byte,
        BitDepth::Short,
        BitDepth::Half,
        BitDepth::Float,
    ];

    /// Bytes per channel.
    pub fn bytes(self) -> usize {
        match self {
            BitDepth::Byte => 1,
            BitDepth::Short | BitDepth::Half => 2,
            BitDepth::Float => 4,
        }
    }

    pub fn ofx_name(self) -> &'static str {
        DEPTHS[self as usize]
    }

    pub fn from_ofx(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.ofx_name() == name)
    }

    /// Ordering by precision, for "deepest supported" choices.
    pub fn rank(self) -> u8 {
        match self {
            BitDepth::Byte => 0,
            BitDepth::Short => 1,
            BitDepth::Half => 2,
            BitDepth::Float => 3,
        }
    }
}

/// Channels of a pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Components {
    Rgba,
    Rgb,
    Alpha,
}

impl Components {
    pub const ALL: [Components; 3] = [Components::Rgba, Components::Rgb, Components::Alpha];

    pub fn count(self) -> usize {
        match self {
            Components::Rgba => 4,
            Components::Rgb => 3,
            Components::Alpha => 1,
        }
    }

    pub fn ofx_name(self) -> &'static str {
        COMPONENTS[self as usize]
    }

    pub fn from_ofx(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.ofx_name() == name)
    }
}

/// Alpha state of the colour channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Premult {
    Opaque,
    PreMultiplied,
    UnPreMultiplied,
}

impl Premult {
    pub fn ofx_name(self) -> &'static str {
        PREMULTS[self as usize]
    }

    pub fn from_ofx(name: &str) -> Option<Self> {
        [
            Premult::Opaque,
            Premult::PreMultiplied,
            Premult::UnPreMultiplied,
        ]
        .into_iter()
        .find(|p| p.ofx_name() == name)
    }
}

/// Zero-initialised bytes aligned to 16, as SIMD-minded plugins expect.
#[derive(Clone)]
struct PixelBuf {
    words: Vec<u128>,
    len: usize,
}

impl PixelBuf {
    fn zeroed(len: usize) -> Self {
        PixelBuf {
            words: vec![0; len.div_ceil(16).max(1)],
            len,
        }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `words` holds at least `len` initialised bytes.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast(), self.len) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `self` is borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast(), self.len) }
    }
}

/// An image: pixels of `bounds` (pixel coordinates, y up) in one depth and
/// component layout. Row `y` starts `(y - bounds.y1) * row_bytes` bytes from
/// the row of `bounds.y1`; a negative `row_bytes` stores rows top-down.
#[derive(Clone)]
pub struct Image {
    depth: BitDepth,
    components: Components,
    bounds: OfxRectI,
    row_bytes: isize,
    /// Byte offset of row `bounds.y1` in `buf`.
    origin: usize,
    buf: PixelBuf,
    pub premult: Premult,
    pub pixel_aspect: f64,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.bounds;
        write!(
            f,
            "Image({:?} {:?} ({}, {})-({}, {}) rowBytes {})",
            self.depth, self.components, b.x1, b.y1, b.x2, b.y2, self.row_bytes
        )
    }
}

/// A rectangle, for brevity.
pub const fn rect(x1: i32, y1: i32, x2: i32, y2: i32) -> OfxRectI {
    OfxRectI { x1, y1, x2, y2 }
}

pub fn is_empty(r: OfxRectI) -> bool {
    r.x2 <= r.x1 || r.y2 <= r.y1
}

pub fn intersect(a: OfxRectI, b: OfxRectI) -> OfxRectI {
    let r = rect(
        a.x1.max(b.x1),
        a.y1.max(b.y1),
        a.x2.min(b.x2),
        a.y2.min(b.y2),
    );
    if is_empty(r) {
        rect(0, 0, 0, 0)
    } else {
        r
    }
}

pub fn contains(outer: OfxRectI, inner: OfxRectI) -> bool {
    is_empty(inner)
        || (outer.x1 <= inner.x1
            && outer.y1 <= inner.y1
            && outer.x2 >= inner.x2
            && outer.y2 >= inner.y2)
}

pub fn same_rect(a: OfxRectI, b: OfxRectI) -> bool {
    (a.x1, a.y1, a.x2, a.y2) == (b.x1, b.y1, b.x2, b.y2)
}

pub fn grow(r: OfxRectI, by: i32) -> OfxRectI {
    rect(r.x1 - by, r.y1 - by, r.x2 + by, r.y2 + by)
}

/// Canonical rectangle -> enclosing pixel rectangle at `scale` (pixel aspect `par`).
pub fn to_pixels(r: OfxRectD, scale: (f64, f64), par: f64) -> OfxRectI {
    let sx = scale.0 / par;
    let clamp = |v: f64| v.clamp(i32::MIN as f64, i32::MAX as f64) as i32;
    rect(
        clamp((r.x1 * sx).floor()),
        clamp((r.y1 * scale.1).floor()),
        clamp((r.x2 * sx).ceil()),
        clamp((r.y2 * scale.1).ceil()),
    )
}

/// Pixel rectangle at `scale` -> canonical rectangle.
pub fn to_canonical(r: OfxRectI, scale: (f64, f64), par: f64) -> OfxRectD {
    let sx = par / scale.0;
    OfxRectD {
        x1: r.x1 as f64 * sx,
        y1: r.y1 as f64 / scale.1,
        x2: r.x2 as f64 * sx,
        y2: r.y2 as f64 / scale.1,
    }
}

impl Image {
    /// A transparent-black image stored bottom-up with packed rows.
    pub fn new(depth: BitDepth, components: Components, bounds: OfxRectI) -> Image {
        Image::with_layout(depth, components, bounds, RowOrder::BottomUp, 0)
    }

    /// A transparent-black image with the given row order and `padding` spare
    /// bytes at the end of every row.
    pub fn with_layout(
        depth: BitDepth,
        components: Components,
        bounds: OfxRectI,
        order: RowOrder,
        padding: usize,
    ) -> Image {
        let bounds = if is_empty(bounds) {
            rect(bounds.x1, bounds.y1, bounds.x1, bounds.y1)
        } else {
            bounds
        };
        let (w, h) = (
            (bounds.x2 - bounds.x1) as usize,
            (bounds.y2 - bounds.y1) as usize,
        );
        let stride = w * depth.bytes() * components.count() + padding;
        let (row_bytes, origin) = match order {
            RowOrder::BottomUp => (stride as isize, 0),
            RowOrder::TopDown => (-(stride as isize), h.saturating_sub(1) * stride),
        };
        Image {
            depth,
            components,
            bounds,
            row_bytes,
            origin,
            buf: PixelBuf::zeroed(stride * h),
            premult: if components == Components::Rgba {
                Premult::PreMultiplied
            } else {
                Premult::Opaque
            },
            pixel_aspect: 1.0,
        }
    }

    /// A float RGBA image from rows of RGBA values, row `bounds.y1` first.
    pub fn from_f32_rgba(bounds: OfxRectI, pixels: &[f32]) -> Image {
        let mut image = Image::new(BitDepth::Float, Components::Rgba, bounds);
        let w = image.width();
        assert_eq!(
            pixels.len(),
            w * image.height() * 4,
            "pixel count does not match the bounds"
        );
        for (i, px) in pixels.chunks_exact(4).enumerate() {
            let (x, y) = (bounds.x1 + (i % w) as i32, bounds.y1 + (i / w) as i32);
            image.set(x, y, [px[0], px[1], px[2], px[3]]);
        }
        image
    }

    /// An image filled with one colour.
    pub fn filled(
        depth: BitDepth,
        components: Components,
        bounds: OfxRectI,
        rgba: [f32; 4],
    ) -> Image {
        let mut image = Image::new(depth, components, bounds);
        for y in bounds.y1..bounds.y2 {
            for x in bounds.x1..bounds.x2 {
                image.set(x, y, rgba);
            }
        }
        image
    }

    pub fn depth(&self) -> BitDepth {
        self.depth
    }

    pub fn components(&self) -> Components {
        self.components
    }

    pub fn bounds(&self) -> OfxRectI {
        self.bounds
    }

    pub fn row_bytes(&self) -> isize {
        self.row_bytes
    }

    pub fn width(&self) -> usize {
        (self.bounds.x2 - self.bounds.x1) as usize
    }

    pub fn height(&self) -> usize {
        (self.bounds.y2 - self.bounds.y1) as usize
    }

    /// Bytes per pixel.
    pub fn pixel_bytes(&self) -> usize {
        self.depth.bytes() * self.components.count()
    }

    fn row_offset(&self, y: i32) -> usize {
        (self.origin as isize + (y - self.bounds.y1) as isize * self.row_bytes) as usize
    }

    fn pixel_offset(&self, x: i32, y: i32) -> Option<usize> {
        let b = self.bounds;
        (x >= b.x1 && x < b.x2 && y >= b.y1 && y < b.y2)
            .then(|| self.row_offset(y) + (x - b.x1) as usize * self.pixel_bytes())
    }

    /// The pixel bytes of row `y` (without padding).
    pub fn row(&self, y: i32) -> &[u8] {
        let start = self.row_offset(y);
        &self.buf.bytes()[start..start + self.width() * self.pixel_bytes()]
    }

    pub fn row_mut(&mut self, y: i32) -> &mut [u8] {
        let start = self.row_offset(y);
        let len = self.width() * self.pixel_bytes();
        &mut self.buf.bytes_mut()[start..start + len]
    }

    /// Address of pixel (`bounds.x1`, `bounds.y1`): what `kOfxImagePropData` holds.
    pub(crate) fn origin_ptr(&mut self) -> *mut u8 {
        let origin = self.origin;
        // SAFETY: `origin` is inside the buffer (or 0 for an empty image).
        unsafe {
            self.buf
                .bytes_mut()
                .as_mut_ptr()
                .add(origin.min(self.buf.len))
        }
    }

    /// Address of pixel (`x`, `y`) of an image the plugin may only read
    /// (a shared input frame); the pixel must be inside the bounds.
    pub(crate) fn read_only_pixel_ptr(&self, x: i32, y: i32) -> *mut u8 {
        let offset = self.pixel_offset(x, y).expect("pixel inside the bounds");
        // SAFETY: checked to lie inside the buffer. OpenFX input images are
        // read-only: nobody writes through this pointer.
        unsafe { self.buf.bytes().as_ptr().add(offset) as *mut u8 }
    }

    /// Address of pixel (`x`, `y`), which must be inside the bounds.
    pub(crate) fn pixel_ptr(&mut self, x: i32, y: i32) -> *mut u8 {
        let offset = self.pixel_offset(x, y).expect("pixel inside the bounds");
        // SAFETY: checked to lie inside the buffer.
        unsafe { self.buf.bytes_mut().as_mut_ptr().add(offset) }
    }

    fn read_channel(&self, offset: usize) -> f32 {
        let b = self.buf.bytes();
        match self.depth {
            BitDepth::Byte => b[offset] as f32 / 255.0,
            BitDepth::Short => u16::from_ne_bytes([b[offset], b[offset + 1]]) as f32 / 65535.0,
            BitDepth::Half => f16::from_ne_bytes([b[offset], b[offset + 1]]).to_f32(),
            BitDepth::Float => {
                f32::from_ne_bytes(b[offset..offset + 4].try_into().expect("4 bytes"))
            }
        }
    }

    fn write_channel(&mut self, offset: usize, v: f32) {
        let depth = self.depth;
        let b = self.buf.bytes_mut();
        match depth {
            BitDepth::Byte => b[offset] = (v.clamp(0.0, 1.0) * 255.0).round() as u8,
            BitDepth::Short => {
                let q = (v.clamp(0.0, 1.0) * 65535.0).round() as u16;
                b[offset..offset + 2].copy_from_slice(&q.to_ne_bytes());
            }
            BitDepth::Half => {
                b[offset..offset + 2].copy_from_slice(&f16::from_f32(v).to_ne_bytes())
            }
            BitDepth::Float => b[offset..offset + 4].copy_from_slice(&v.to_ne_bytes()),
        }
    }

    /// The pixel at (`x`, `y`) as RGBA; transparent black outside the bounds.
    /// RGB reads with alpha 1, Alpha as (0, 0, 0, a).
    pub fn get(&self, x: i32, y: i32) -> [f32; 4] {
        let Some(at) = self.pixel_offset(x, y) else {
            return [0.0; 4];
        };
        let c = self.depth.bytes();
        let ch = |i: usize| self.read_channel(at + i * c);
        match self.components {
            Components::Rgba => [ch(0), ch(1), ch(2), ch(3)],
            Components::Rgb => [ch(0), ch(1), ch(2), 1.0],
            Components::Alpha => [0.0, 0.0, 0.0, ch(0)],
        }
    }

    /// Writes the pixel at (`x`, `y`) from RGBA (ignored outside the bounds).
    pub fn set(&mut self, x: i32, y: i32, rgba: [f32; 4]) {
        let Some(at) = self.pixel_offset(x, y) else {
            return;
        };
        let c = self.depth.bytes();
        match self.components {
            Components::Rgba => (0..4).for_each(|i| self.write_channel(at + i * c, rgba[i])),
            Components::Rgb => (0..3).for_each(|i| self.write_channel(at + i * c, rgba[i])),
            Components::Alpha => self.write_channel(at, rgba[3]),
        }
    }

    /// All pixels as RGBA rows, row `bounds.y1` first.
    pub fn to_f32_rgba(&self) -> Vec<f32> {
        let b = self.bounds;
        let mut out = Vec::with_capacity(self.width() * self.height() * 4);
        for y in b.y1..b.y2 {
            for x in b.x1..b.x2 {
                out.extend_from_slice(&self.get(x, y));
            }
        }
        out
    }

    /// Copies the pixels of `src` inside `region` (clipped to both bounds),
    /// converting depth and components as needed.
    pub fn copy_from(&mut self, src: &Image, region: OfxRectI) {
        let r = intersect(intersect(region, self.bounds), src.bounds);
        if is_empty(r) {
            return;
        }
        if src.depth == self.depth && src.components == self.components {
            let (pb, len) = (
                self.pixel_bytes(),
                (r.x2 - r.x1) as usize * self.pixel_bytes(),
            );
            for y in r.y1..r.y2 {
                let s = src.row_offset(y) + (r.x1 - src.bounds.x1) as usize * pb;
                let d = self.row_offset(y) + (r.x1 - self.bounds.x1) as usize * pb;
                self.buf.bytes_mut()[d..d + len].copy_from_slice(&src.buf.bytes()[s..s + len]);
            }
        } else {
            for y in r.y1..r.y2 {
                for x in r.x1..r.x2 {
                    self.set(x, y, src.get(x, y));
                }
            }
        }
    }

    /// This image in another depth / component layout.
    pub fn converted(&self, depth: BitDepth, components: Components) -> Image {
        let mut out = Image::new(depth, components, self.bounds);
        out.copy_from(self, self.bounds);
        out.premult = self.premult;
        out.pixel_aspect = self.pixel_aspect;
        out
    }

    /// The pixels of `region`; parts outside this image are transparent black.
    pub fn cropped(&self, region: OfxRectI) -> Image {
        let mut out = Image::new(self.depth, self.components, region);
        out.copy_from(self, region);
        out.premult = self.premult;
        out.pixel_aspect = self.pixel_aspect;
        out
    }

    /// This image resampled by `scale` with an area-weighted box filter (the
    /// host's proxy images). Scale 1 returns a copy.
    pub fn scaled(&self, scale: (f64, f64)) -> Image {
        if scale == (1.0, 1.0) {
            return self.clone();
        }
        let b = self.bounds;
        let canonical = to_canonical(b, (1.0, 1.0), 1.0);
        let target = to_pixels(canonical, scale, 1.0);
        let mut out = Image::new(self.depth, self.components, target);
        out.premult = self.premult;
        out.pixel_aspect = self.pixel_aspect;
        let xs = footprints(target.x1, target.x2, scale.0, b.x1, b.x2);
        let ys = footprints(target.y1, target.y2, scale.1, b.y1, b.y2);
        for (ty, yw) in (target.y1..target.y2).zip(&ys) {
            for (tx, xw) in (target.x1..target.x2).zip(&xs) {
                let mut acc = [0.0f32; 4];
                let mut total = 0.0f32;
                for &(sy, wy) in yw {
                    for &(sx, wx) in xw {
                        let w = wx * wy;
                        let p = self.get(sx, sy);
                        (0..4).for_each(|i| acc[i] += p[i] * w);
                        total += w;
                    }
                }
                // Border pixels only partly covered are averaged over the covered part.
                if total > 0.0 {
                    out.set(tx, ty, acc.map(|v| v / total));
                }
            }
        }
        out
    }

    /// The largest channel difference with `other`, over both bounds (pixels
    /// outside an image count as transparent black).
    pub fn max_difference(&self, other: &Image) -> f32 {
        let (a, b) = (self.bounds, other.bounds);
        let all = rect(
            a.x1.min(b.x1),
            a.y1.min(b.y1),
            a.x2.max(b.x2),
            a.y2.max(b.y2),
        );
        let mut worst = 0.0f32;
        for y in all.y1..all.y2 {
            for x in all.x1..all.x2 {
                let (p, q) = (self.get(x, y), other.get(x, y));
                for i in 0..4 {
                    let d = (p[i] - q[i]).abs();
                    if d > worst || d.is_nan() {
                        worst = if d.is_nan() { f32::INFINITY } else { d };
                    }
                }
            }
        }
        worst
    }

    /// Whether both images have the same bounds, layout and pixel bytes.
    pub fn same_pixels(&self, other: &Image) -> bool {
        same_rect(self.bounds, other.bounds)
            && self.depth == other.depth
            && self.components == other.components
            && (self.bounds.y1..self.bounds.y2).all(|y| self.row(y) == other.row(y))
    }

    /// A multiply-xor hash over the pixel bytes (not the row padding), eight bytes at a time.
    pub(crate) fn checksum(&self) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        let mut mix = |word: u64| h = (h ^ word).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        for y in self.bounds.y1..self.bounds.y2 {
            let row = self.row(y);
            let mut words = row.chunks_exact(8);
            for w in &mut words {
                mix(u64::from_le_bytes(w.try_into().expect("eight bytes")));
            }
            for &byte in words.remainder() {
                mix(byte as u64);
            }
        }
        h
    }

    /// Sets every byte of the buffer, padding included (the host's canary).
    /// How the rows lie in memory.
    pub(crate) fn row_order(&self) -> RowOrder {
        if self.row_bytes < 0 {
            RowOrder::TopDown
        } else {
            RowOrder::BottomUp
        }
    }

    /// Rows follow each other without padding.
    pub(crate) fn is_packed(&self) -> bool {
        self.row_bytes.unsigned_abs() == self.width() * self.pixel_bytes()
    }

    /// Same bounds, pixel format and row layout: one buffer could stand for the other.
    pub(crate) fn same_layout(&self, other: &Image) -> bool {
        same_rect(self.bounds, other.bounds)
            && self.depth == other.depth
            && self.components == other.components
            && self.row_bytes == other.row_bytes
            && self.origin == other.origin
    }

    pub(crate) fn fill_bytes(&mut self, byte: u8) {
        self.buf.bytes_mut().fill(byte);
    }

    /// Compares the buffer with a `canary` fill: pixels outside `keep` that
    /// changed, changed padding bytes, and pixels inside `keep` still intact.
    pub(crate) fn canary_report(&self, keep: OfxRectI, canary: u8) -> CanaryReport {
        let mut report = CanaryReport::default();
        let (b, pb) = (self.bounds, self.pixel_bytes());
        let stride = self.row_bytes.unsigned_abs();
        for y in b.y1..b.y2 {
            let start = self.row_offset(y);
            let row = &self.buf.bytes()[start..start + stride];
            let (pixels, padding) = row.split_at(self.width() * pb);
            report.padding_bytes += padding.iter().filter(|&&v| v != canary).count();
            for (i, px) in pixels.chunks_exact(pb).enumerate() {
                let x = b.x1 + i as i32;
                let intact = px.iter().all(|&v| v == canary);
                let inside = x >= keep.x1 && x < keep.x2 && y >= keep.y1 && y < keep.y2;
                if inside && intact {
                    report.untouched += 1;
                    report.first_untouched.get_or_insert((x, y));
                } else if !inside && !intact {
                    report.written_outside += 1;
                    report.first_outside.get_or_insert((x, y));
                }
            }
        }
        report
    }
}

/// See [`Image::canary_report`].
#[derive(Debug, Default)]
pub(crate) struct CanaryReport {
    pub written_outside: usize,
    pub first_outside: Option<(i32, i32)>,
    pub padding_bytes: usize,
    pub untouched: usize,
    pub first_untouched: Option<(i32, i32)>,
}

/// For each target pixel in `t1..t2` at `scale`, the source pixels of `s1..s2`
/// it covers and how much of each.
fn footprints(t1: i32, t2: i32, scale: f64, s1: i32, s2: i32) -> Vec<Vec<(i32, f32)>> {
    (t1..t2)
        .map(|t| {
            let (lo, hi) = (t as f64 / scale, (t + 1) as f64 / scale);
            let first = (lo.floor() as i32).max(s1);
            let last = (hi.ceil() as i32).min(s2);
            (first..last)
                .filter_map(|s| {
                    let w = (hi.min(s as f64 + 1.0) - lo.max(s as f64)) as f32;
                    (w > 1e-6).then_some((s, w))
                })
                .collect()
        })
        .collect()
}

/// Whether an image handed to the plugin is its own copy (input) or a window
/// onto the render target (output).
pub enum Storage {
    Input {
        image: UnsafeCell<Image>,
        /// `None` when the host does not verify inputs.
        checksum: Option<u64>,
    },
    /// Part of a clip's frame handed out in place, without a copy (a host that
    /// does not verify inputs, at full scale, in the frame's own format).
    Shared(#[allow(dead_code)] Arc<Image>), // holds the frame while the plugin reads it
    Output,
}

/// An image handed to the plugin by `clipGetImage`; its handle is `props`.
pub struct ImageHandle {
    pub props: Arc<PropertySet>,
    pub storage: Storage,
    pub clip: String,
    pub time: f64,
    /// Handle of the instance that fetched it.
    pub effect: usize,
    /// The render during which it was fetched, if any.
    pub render: Option<u64>,
}

// SAFETY: the input pixels are written once before the handle is published and
// then only by the plugin through the raw data pointer; the host reads them
// again only when the handle is released.
unsafe impl Sync for ImageHandle {}
unsafe impl Send for ImageHandle {}

impl ImageHandle {
    /// For an input image: whether its pixels still match what the host gave.
    pub fn input_untouched(&self) -> bool {
        match &self.storage {
            // SAFETY: see the `Sync` impl; the plugin has released the image.
            Storage::Input { image, checksum } => {
                checksum.is_none_or(|c| unsafe { (*image.get()).checksum() } == c)
            }
            Storage::Shared(_) | Storage::Output => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_row_orders_hold_the_same_pixels() {
        let b = rect(-2, 3, 5, 7);
        let mut up = Image::new(BitDepth::Half, Components::Rgb, b);
        let mut down = Image::with_layout(BitDepth::Half, Components::Rgb, b, RowOrder::TopDown, 6);
        assert_eq!((up.row_bytes(), down.row_bytes()), (42, -48));
        for y in b.y1..b.y2 {
            for x in b.x1..b.x2 {
                let v = [x as f32 / 8.0, y as f32 / 8.0, 0.5, 0.0];
                up.set(x, y, v);
                down.set(x, y, v);
            }
        }
        assert!(up.same_pixels(&down));
        assert_eq!(down.get(4, 6), [0.5, 0.75, 0.5, 1.0]);
        assert_eq!(down.get(5, 6), [0.0; 4], "outside the bounds");
        // The data pointer addresses row y1, the last row in memory when top-down.
        let (origin, start) = (
            down.origin_ptr() as usize,
            down.buf.bytes().as_ptr() as usize,
        );
        assert_eq!(origin - start, 3 * 48);
    }

    #[test]
    fn conversions_quantise_and_map_components() {
        let b = rect(0, 0, 2, 1);
        let mut f = Image::new(BitDepth::Float, Components::Rgba, b);
        f.set(0, 0, [1.2, 0.5, -0.1, 0.25]);
        let bytes = f.converted(BitDepth::Byte, Components::Rgba);
        assert_eq!(bytes.row(0)[..4], [255, 128, 0, 64]);
        let alpha = f.converted(BitDepth::Short, Components::Alpha).get(0, 0);
        assert_eq!((alpha[0], (alpha[3] * 65535.0).round()), (0.0, 16384.0));
    }

    #[test]
    fn downscaling_averages_areas() {
        let mut image = Image::new(BitDepth::Float, Components::Alpha, rect(0, 0, 4, 2));
        for x in 0..4 {
            image.set(x, 0, [0.0, 0.0, 0.0, x as f32]);
        }
        let half = image.scaled((0.5, 0.5));
        assert!(same_rect(half.bounds(), rect(0, 0, 2, 1)));
        assert_eq!((half.get(0, 0)[3], half.get(1, 0)[3]), (0.25, 1.25));
        assert!(same_rect(
            image.cropped(rect(3, 1, 6, 3)).bounds(),
            rect(3, 1, 6, 3)
        ));
    }
}
