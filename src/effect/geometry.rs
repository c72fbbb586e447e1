//! Where the collapse happens, in canonical and pixel coordinates.
//!
//! The region is the rectangle the artist draws around the building; the
//! affected area is where the model's element may be non-zero (region grown by
//! the model's reach); the source window is what the model reads (region grown
//! by the model's context). All three depend only on parameters and the render
//! scale, never on the render window, which keeps tiles consistent.

use crate::inference::Margins;
use crate::ofx::{RectD, RectI};

/// Largest source window, in pixels, a render will allocate (about 16K x 8K).
pub const MAX_SOURCE_PIXELS: i64 = 16384 * 8192;

#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    pub region: RectD,
    pub affected: RectD,
    pub source: RectD,
    /// Pixels per canonical unit.
    pub sx: f64,
    pub sy: f64,
}

/// The region rectangle from the `bottomLeft` and `size` parameters; empty when
/// the size is not positive or anything is not finite.
pub fn region(bottom_left: (f64, f64), size: (f64, f64)) -> RectD {
    let vals = [bottom_left.0, bottom_left.1, size.0, size.1];
    if vals.iter().any(|v| !v.is_finite()) || size.0 <= 0.0 || size.1 <= 0.0 {
        return RectD::default();
    }
    RectD {
        x1: bottom_left.0,
        y1: bottom_left.1,
        x2: bottom_left.0 + size.0,
        y2: bottom_left.1 + size.1,
    }
}

/// `r` grown by margins given as fractions of its width (left, right) and height.
pub fn grow(r: RectD, m: &Margins) -> RectD {
    let (w, h) = (r.x2 - r.x1, r.y2 - r.y1);
    RectD {
        x1: r.x1 - m.left * w,
        y1: r.y1 - m.bottom * h,
        x2: r.x2 + m.right * w,
        y2: r.y2 + m.top * h,
    }
}

impl Geometry {
    pub fn new(
        region: RectD,
        reach: &Margins,
        context: &Margins,
        scale: (f64, f64),
        pixel_aspect: f64,
    ) -> Self {
        Geometry {
            region,
            affected: grow(region, reach),
            source: grow(region, context),
            sx: scale.0 / pixel_aspect,
            sy: scale.1,
        }
    }

    /// The smallest pixel rectangle covering `r`.
    pub fn to_pixels(self, r: RectD) -> RectI {
        if r.is_empty() {
            return RectI::default();
        }
        let clamp = |v: f64| v.clamp(i32::MIN as f64 / 2.0, i32::MAX as f64 / 2.0) as i32;
        RectI {
            x1: clamp((r.x1 * self.sx).floor()),
            y1: clamp((r.y1 * self.sy).floor()),
            x2: clamp((r.x2 * self.sx).ceil()),
            y2: clamp((r.y2 * self.sy).ceil()),
        }
    }

    pub fn to_canonical(self, r: RectI) -> RectD {
        RectD {
            x1: r.x1 as f64 / self.sx,
            y1: r.y1 as f64 / self.sy,
            x2: r.x2 as f64 / self.sx,
            y2: r.y2 as f64 / self.sy,
        }
    }

    /// How much of pixel column `x` the region covers horizontally, from 0 to 1.
    pub fn region_coverage_x(&self, x: i32) -> f32 {
        overlap(x, self.sx, self.region.x1, self.region.x2)
    }

    /// How much of pixel row `y` the region covers vertically, from 0 to 1.
    pub fn region_coverage_y(&self, y: i32) -> f32 {
        overlap(y, self.sy, self.region.y1, self.region.y2)
    }
}

/// The part of pixel `p` (at `s` pixels per unit) inside [lo, hi], in pixels (0..1).
fn overlap(p: i32, s: f64, lo: f64, hi: f64) -> f32 {
    let (a, b) = (p as f64 / s, (p + 1) as f64 / s);
    ((b.min(hi) - a.max(lo)).max(0.0) * s).min(1.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_scale_with_render_scale() {
        let m = Margins {
            left: 0.5,
            bottom: 0.1,
            right: 0.5,
            top: 0.25,
        };
        let r = region((100.0, 50.0), (200.0, 400.0));
        let g = Geometry::new(r, &m, &m, (0.5, 0.5), 1.0);
        assert_eq!(
            g.affected,
            RectD {
                x1: 0.0,
                y1: 10.0,
                x2: 400.0,
                y2: 550.0
            }
        );
        assert_eq!(
            g.to_pixels(g.affected),
            RectI {
                x1: 0,
                y1: 5,
                x2: 200,
                y2: 275
            }
        );
        assert_eq!(g.region_coverage_x(60) * g.region_coverage_y(30), 1.0);
        assert_eq!(g.region_coverage_x(10), 0.0);
        assert_eq!(
            (g.region_coverage_y(24), g.region_coverage_y(25)),
            (0.0, 1.0)
        );
        let half = Geometry::new(region((100.5, 50.0), (10.0, 10.0)), &m, &m, (1.0, 1.0), 1.0);
        assert_eq!(
            half.region_coverage_x(100),
            0.5,
            "an edge through a pixel's middle"
        );
        assert!(region((0.0, 0.0), (0.0, 10.0)).is_empty());
        assert!(region((f64::NAN, 0.0), (10.0, 10.0)).is_empty());
    }
}
