//! `OfxDrawSuiteV1` (OpenFX 1.5): overlay drawing without OpenGL. This host
//! rasterises it in software into the draw action's canvas, with the view's
//! canonical-to-screen mapping, so tests can look at the pixels.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use super::{bad_handle, put, status};
use crate::ffi::{
    self as f, OfxDrawContextHandle, OfxDrawLineStipplePattern, OfxDrawPrimitive, OfxDrawSuiteV1,
    OfxPointD, OfxRGBAColourF, OfxStandardColour, OfxStatus,
};
use crate::host::handles::{self, Object};
use crate::host::overlay::DrawContext;
use crate::host::status as st;

static SUITE: OfxDrawSuiteV1 = OfxDrawSuiteV1 {
    getColour: Some(get_colour),
    setColour: Some(set_colour),
    setLineWidth: Some(set_line_width),
    setLineStipple: Some(set_line_stipple),
    draw: Some(draw),
    drawText: Some(draw_text),
};

pub fn suite() -> *const c_void {
    &SUITE as *const OfxDrawSuiteV1 as *const c_void
}

fn context_of(call: &str, h: OfxDrawContextHandle) -> Result<Arc<DrawContext>, OfxStatus> {
    match handles::lookup(h) {
        Some(Object::DrawContext(d)) => Ok(d),
        _ => Err(bad_handle(call, h, "draw context")),
    }
}

unsafe extern "C" fn get_colour(
    h: OfxDrawContextHandle,
    which: OfxStandardColour,
    out: *mut OfxRGBAColourF,
) -> OfxStatus {
    status(|| {
        let ctx = context_of("getColour", h)?;
        let (r, g, b) = match which {
            f::OfxStandardColour_kOfxStandardColourOverlayBackground => (0.0, 0.0, 0.0),
            f::OfxStandardColour_kOfxStandardColourOverlayActive => (1.0, 1.0, 0.0),
            f::OfxStandardColour_kOfxStandardColourOverlaySelected => (1.0, 0.6, 0.0),
            f::OfxStandardColour_kOfxStandardColourOverlayDeselected => (0.8, 0.8, 0.8),
            f::OfxStandardColour_kOfxStandardColourOverlayMarqueeFG => (1.0, 1.0, 1.0),
            f::OfxStandardColour_kOfxStandardColourOverlayMarqueeBG => (0.0, 0.0, 0.0),
            f::OfxStandardColour_kOfxStandardColourOverlayText => (1.0, 1.0, 1.0),
            other => {
                ctx.journal
                    .violation(format!("getColour with an unknown standard colour {other}"));
                return Err(st::ERR_VALUE);
            }
        };
        put(
            &ctx.journal,
            "getColour",
            out,
            OfxRGBAColourF { r, g, b, a: 1.0 },
        )
    })
}

unsafe extern "C" fn set_colour(
    h: OfxDrawContextHandle,
    colour: *const OfxRGBAColourF,
) -> OfxStatus {
    status(|| {
        let ctx = context_of("setColour", h)?;
        let Some(c) = colour.as_ref() else {
            ctx.journal.violation("setColour with a NULL colour");
            return Err(st::ERR_BAD_HANDLE);
        };
        ctx.state().colour = [c.r, c.g, c.b, c.a];
        Ok(())
    })
}

unsafe extern "C" fn set_line_width(h: OfxDrawContextHandle, width: f32) -> OfxStatus {
    status(|| {
        let ctx = context_of("setLineWidth", h)?;
        if !(width.is_finite() && width > 0.0) {
            ctx.journal
                .violation(format!("setLineWidth({width}): not a positive width"));
            return Err(st::ERR_VALUE);
        }
        ctx.state().line_width = width;
        Ok(())
    })
}

unsafe extern "C" fn set_line_stipple(
    h: OfxDrawContextHandle,
    _pattern: OfxDrawLineStipplePattern,
) -> OfxStatus {
    // Lines are drawn solid whatever the pattern.
    status(|| context_of("setLineStipple", h).map(|_| ()))
}

unsafe extern "C" fn draw(
    h: OfxDrawContextHandle,
    primitive: OfxDrawPrimitive,
    points: *const OfxPointD,
    count: c_int,
) -> OfxStatus {
    status(|| {
        let ctx = context_of("draw", h)?;
        if count < 0 || (count > 0 && points.is_null()) {
            ctx.journal
                .violation(format!("draw with {count} points at {points:p}"));
            return Err(st::ERR_BAD_HANDLE);
        }
        let pts: Vec<(f64, f64)> = if count == 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(points, count as usize)
                .iter()
                .map(|p| (p.x, p.y))
                .collect()
        };
        let needed = match primitive {
            f::OfxDrawPrimitive_kOfxDrawPrimitiveLines => 2,
            f::OfxDrawPrimitive_kOfxDrawPrimitiveLineStrip
            | f::OfxDrawPrimitive_kOfxDrawPrimitiveLineLoop => 2,
            f::OfxDrawPrimitive_kOfxDrawPrimitiveRectangle
            | f::OfxDrawPrimitive_kOfxDrawPrimitiveEllipse => 2,
            f::OfxDrawPrimitive_kOfxDrawPrimitivePolygon => 3,
            other => {
                ctx.journal
                    .violation(format!("draw with an unknown primitive {other}"));
                return Err(st::ERR_VALUE);
            }
        };
        if pts.len() < needed {
            ctx.journal.violation(format!(
                "draw: primitive {primitive} needs at least {needed} points, got {}",
                pts.len()
            ));
            return Err(st::ERR_VALUE);
        }
        let mut state = ctx.state();
        let screen: Vec<(f64, f64)> = pts.iter().map(|&p| state.view.to_screen(p)).collect();
        match primitive {
            f::OfxDrawPrimitive_kOfxDrawPrimitiveLines => {
                for pair in screen.chunks_exact(2) {
                    state.segment(pair[0], pair[1]);
                }
            }
            f::OfxDrawPrimitive_kOfxDrawPrimitiveLineStrip => {
                for pair in screen.windows(2) {
                    state.segment(pair[0], pair[1]);
                }
            }
            f::OfxDrawPrimitive_kOfxDrawPrimitiveLineLoop => {
                for i in 0..screen.len() {
                    state.segment(screen[i], screen[(i + 1) % screen.len()]);
                }
            }
            f::OfxDrawPrimitive_kOfxDrawPrimitiveRectangle => {
                let (a, b) = (screen[0], screen[1]);
                state.polygon(&[(a.0, a.1), (b.0, a.1), (b.0, b.1), (a.0, b.1)]);
            }
            f::OfxDrawPrimitive_kOfxDrawPrimitiveEllipse => {
                let (a, b) = (screen[0], screen[1]);
                let (cx, cy, rx, ry) = (
                    0.5 * (a.0 + b.0),
                    0.5 * (a.1 + b.1),
                    0.5 * (b.0 - a.0).abs(),
                    0.5 * (b.1 - a.1).abs(),
                );
                let ring: Vec<(f64, f64)> = (0..48)
                    .map(|i| {
                        let t = i as f64 / 48.0 * std::f64::consts::TAU;
                        (cx + rx * t.cos(), cy + ry * t.sin())
                    })
                    .collect();
                state.polygon(&ring);
            }
            _ => state.polygon(&screen),
        }
        state.primitives += 1;
        Ok(())
    })
}

unsafe extern "C" fn draw_text(
    h: OfxDrawContextHandle,
    text: *const c_char,
    pos: *const OfxPointD,
    _alignment: c_int,
) -> OfxStatus {
    status(|| {
        let ctx = context_of("drawText", h)?;
        let text = super::text(&ctx.journal, "drawText", text, "text")?;
        if pos.is_null() {
            ctx.journal.violation("drawText with a NULL position");
            return Err(st::ERR_BAD_HANDLE);
        }
        // No font here: the text is kept for tests to read.
        ctx.state().texts.push(text.to_owned());
        Ok(())
    })
}
