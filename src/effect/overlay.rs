//! The viewer overlay: the building's region as a rectangle with nine handles,
//! its ground line, the affected area around it and the fall's direction, and
//! the pen dragging it.
//!
//! Corners and edges resize, the centre moves; Shift keeps the aspect ratio,
//! Ctrl resizes about the centre. One drag is one undo step.

use super::geometry::{grow, region};
use super::params::Settings;
use super::params::{BOTTOM_LEFT, DIRECTION, SIZE};
use super::render::model_request;
use crate::ffi;
use crate::inference;
use crate::ofx::{
    Instance, Interact, OfxResult, Overlay, Painter, ParamValues, Pen, PenPhase, RectD, Shape,
    ViewArgs,
};

/// How close to a handle the pen must be, in screen pixels.
pub const HIT_TOLERANCE_PX: f64 = 8.0;
/// Half the side of a corner or edge handle, in screen pixels.
const HANDLE_PX: f64 = 3.0;
/// Smallest region side the pen leaves, in screen pixels.
const MIN_SIDE_PX: f64 = 4.0;

const LINE: [f32; 4] = [0.92, 0.92, 0.92, 1.0];
const SHADOW: [f32; 4] = [0.0, 0.0, 0.0, 0.85];
const ACTIVE: [f32; 4] = [1.0, 0.78, 0.25, 1.0];
const GROUND: [f32; 4] = [0.95, 0.5, 0.15, 1.0];
const AFFECTED: [f32; 4] = [0.92, 0.92, 0.92, 0.4];

/// A handle: which side it moves in x and y (-1 left/bottom, 1 right/top,
/// 0 neither). (0, 0) is the centre, which moves the whole region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    pub hx: i8,
    pub hy: i8,
}

/// Corners first: they win over the edges they touch when both are in reach.
const HANDLES: [Handle; 9] = [
    Handle { hx: -1, hy: -1 },
    Handle { hx: 1, hy: -1 },
    Handle { hx: -1, hy: 1 },
    Handle { hx: 1, hy: 1 },
    Handle { hx: -1, hy: 0 },
    Handle { hx: 1, hy: 0 },
    Handle { hx: 0, hy: -1 },
    Handle { hx: 0, hy: 1 },
    Handle { hx: 0, hy: 0 },
];

const BOTTOM_LEFT_CORNER: Handle = Handle { hx: -1, hy: -1 };

struct Drag {
    handle: Handle,
    pen: (f64, f64),
    bottom_left: (f64, f64),
    size: (f64, f64),
}

/// Per viewer: the drag in progress, the handle under the pen, modifier keys.
#[derive(Default)]
pub struct OverlayState {
    drag: Option<Drag>,
    hover: Option<Handle>,
    shift: bool,
    ctrl: bool,
}

pub struct RegionOverlay;

/// What the overlay needs of the parameters at one time.
struct Shown {
    bottom_left: (f64, f64),
    size: (f64, f64),
    direction: f64,
    /// The host draws its own handle for `bottomLeft` (Nuke): leave that corner to it.
    host_corner: bool,
}

fn flag(p: &ParamValues, param: &str, prop: &'static [u8], default: bool) -> bool {
    p.props(param)
        .and_then(|props| props.get_int(prop, 0))
        .map_or(default, |v| v != 0)
}

impl Shown {
    /// `None` while the region's parameters are hidden or disabled.
    fn read(p: &ParamValues, time: f64) -> OfxResult<Option<Shown>> {
        for param in [BOTTOM_LEFT, SIZE] {
            if flag(p, param, ffi::kOfxParamPropSecret, false)
                || !flag(p, param, ffi::kOfxParamPropEnabled, true)
            {
                return Ok(None);
            }
        }
        Ok(Some(Shown {
            bottom_left: p.double2d(BOTTOM_LEFT, time)?,
            size: p.double2d(SIZE, time)?,
            direction: p.double(DIRECTION, time)?,
            host_corner: flag(
                p,
                BOTTOM_LEFT,
                ffi::kOfxParamPropUseHostOverlayHandle,
                false,
            ),
        }))
    }

    fn rect(&self) -> RectD {
        RectD {
            x1: self.bottom_left.0,
            y1: self.bottom_left.1,
            x2: self.bottom_left.0 + self.size.0,
            y2: self.bottom_left.1 + self.size.1,
        }
    }

    fn handles(&self) -> impl Iterator<Item = Handle> + '_ {
        HANDLES
            .into_iter()
            .filter(move |h| !(self.host_corner && *h == BOTTOM_LEFT_CORNER))
    }
}

/// Where a handle sits on `r`.
pub fn handle_position(r: &RectD, h: Handle) -> (f64, f64) {
    let pick = |side: i8, lo: f64, hi: f64| match side {
        -1 => lo,
        1 => hi,
        _ => 0.5 * (lo + hi),
    };
    (pick(h.hx, r.x1, r.x2), pick(h.hy, r.y1, r.y2))
}

/// The handle under `pen`, if any: the nearest within the tolerance, corners
/// and edge midpoints before the edges' length, the centre last.
fn hit(shown: &Shown, pen: (f64, f64), ps: (f64, f64)) -> Option<Handle> {
    let r = shown.rect();
    let dist = |p: (f64, f64)| ((pen.0 - p.0) / ps.0).hypot((pen.1 - p.1) / ps.1);
    if shown.host_corner && dist((r.x1, r.y1)) <= HIT_TOLERANCE_PX {
        // The host's own handle is there.
        return None;
    }
    let nearest = shown
        .handles()
        .map(|h| (dist(handle_position(&r, h)), h))
        .filter(|(d, _)| *d <= HIT_TOLERANCE_PX)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, h)) = nearest {
        return Some(h);
    }
    // Anywhere along an edge drags that edge.
    let (px, py) = ((pen.0 - r.x1) / ps.0, (pen.1 - r.y1) / ps.1);
    let (w, h) = ((r.x2 - r.x1) / ps.0, (r.y2 - r.y1) / ps.1);
    let t = HIT_TOLERANCE_PX;
    let within_x = px > -t && px < w + t;
    let within_y = py > -t && py < h + t;
    [
        (px.abs(), within_y, Handle { hx: -1, hy: 0 }),
        ((px - w).abs(), within_y, Handle { hx: 1, hy: 0 }),
        (py.abs(), within_x, Handle { hx: 0, hy: -1 }),
        ((py - h).abs(), within_x, Handle { hx: 0, hy: 1 }),
    ]
    .into_iter()
    .filter(|(d, along, _)| *along && *d <= t)
    .min_by(|a, b| a.0.total_cmp(&b.0))
    .map(|(_, _, h)| h)
}

/// Rounds a canonical value to what one screen pixel can tell apart: whole
/// units when a pixel is a unit or more, else the decimal step under a pixel.
pub fn snap(v: f64, pixel: f64) -> f64 {
    let step = 10f64.powf(pixel.log10().floor()).min(1.0);
    (v / step).round() * step
}

/// The region a drag gives: `delta` is the pen's move since it went down (canonical).
pub fn dragged(
    handle: Handle,
    bottom_left: (f64, f64),
    size: (f64, f64),
    delta: (f64, f64),
    shift: bool,
    ctrl: bool,
    ps: (f64, f64),
) -> ((f64, f64), (f64, f64)) {
    let (x1, y1, x2, y2) = (
        bottom_left.0,
        bottom_left.1,
        bottom_left.0 + size.0,
        bottom_left.1 + size.1,
    );
    if handle.hx == 0 && handle.hy == 0 {
        let moved = (snap(x1 + delta.0, ps.0), snap(y1 + delta.1, ps.1));
        return (moved, size);
    }
    // One axis: the side `side` follows the pen; the other stays, or mirrors about the centre.
    let axis = |lo: f64, hi: f64, side: i8, d: f64, min: f64, pixel: f64| -> (f64, f64) {
        let (mut lo, mut hi) = (lo, hi);
        match side {
            -1 => {
                lo = snap(lo + d, pixel);
                if ctrl {
                    hi = snap(hi - d, pixel);
                }
            }
            1 => {
                hi = snap(hi + d, pixel);
                if ctrl {
                    lo = snap(lo - d, pixel);
                }
            }
            _ => {}
        }
        if hi - lo < min {
            let centre = 0.5 * (lo + hi);
            match (side, ctrl) {
                (_, true) => (centre - 0.5 * min, centre + 0.5 * min),
                (-1, false) => (hi - min, hi),
                _ => (lo, lo + min),
            }
        } else {
            (lo, hi)
        }
    };
    let min = (MIN_SIDE_PX * ps.0, MIN_SIDE_PX * ps.1);
    let (mut nx1, mut nx2) = axis(x1, x2, handle.hx, delta.0, min.0, ps.0);
    let (mut ny1, mut ny2) = axis(y1, y2, handle.hy, delta.1, min.1, ps.1);
    if shift && size.0 > 0.0 && size.1 > 0.0 {
        // Keep the aspect: the axis the pen changed most sets the scale of both.
        let (fx, fy) = ((nx2 - nx1) / size.0, (ny2 - ny1) / size.1);
        let f = match (handle.hx, handle.hy) {
            (0, _) => fy,
            (_, 0) => fx,
            _ if (fx - 1.0).abs() >= (fy - 1.0).abs() => fx,
            _ => fy,
        };
        let refit = |lo: f64, hi: f64, len: f64, side: i8, pixel: f64| -> (f64, f64) {
            let len = snap(len, pixel);
            match (side, ctrl) {
                (_, true) | (0, _) => {
                    let c = 0.5 * (lo + hi);
                    (c - 0.5 * len, c + 0.5 * len)
                }
                (-1, false) => (hi - len, hi),
                _ => (lo, lo + len),
            }
        };
        (nx1, nx2) = refit(nx1, nx2, size.0 * f, handle.hx, ps.0);
        (ny1, ny2) = refit(ny1, ny2, size.1 * f, handle.hy, ps.1);
    }
    ((nx1, ny1), (nx2 - nx1, ny2 - ny1))
}

impl RegionOverlay {
    /// The affected area of the loaded model, when one is loaded (the overlay
    /// never loads a model itself: that would stall the viewer).
    fn affected(inst: &Instance, time: f64, r: &RectD) -> Option<RectD> {
        let settings = Settings::read(&inst.params().ok()?, time).ok()?;
        let model = inference::loaded_model(&model_request(&settings).ok()?)?;
        Some(grow(*r, &model.contract.reach))
    }

    fn write(
        p: &ParamValues,
        time: f64,
        bottom_left: (f64, f64),
        size: (f64, f64),
    ) -> OfxResult<()> {
        if p.double2d(BOTTOM_LEFT, time)? != bottom_left {
            p.set_double2d(BOTTOM_LEFT, bottom_left)?;
        }
        if p.double2d(SIZE, time)? != size {
            p.set_double2d(SIZE, size)?;
        }
        Ok(())
    }

    fn pen_down(
        &self,
        inst: &Instance,
        state: &mut OverlayState,
        view: &ViewArgs,
        pen: &Pen,
        interact: &Interact,
    ) -> OfxResult<bool> {
        let params = inst.params()?;
        let Some(shown) = Shown::read(&params, view.time)? else {
            return Ok(false);
        };
        let Some(handle) = hit(&shown, pen.position, view.pixel_scale) else {
            return Ok(false);
        };
        // A drag left open (the pen went up outside the viewer) ends here.
        Self::end_drag(&params, state)?;
        params.begin_edit("Collapse region")?;
        state.drag = Some(Drag {
            handle,
            pen: pen.position,
            bottom_left: shown.bottom_left,
            size: shown.size,
        });
        interact.redraw();
        Ok(true)
    }

    fn pen_motion(
        &self,
        inst: &Instance,
        state: &mut OverlayState,
        view: &ViewArgs,
        pen: &Pen,
        interact: &Interact,
    ) -> OfxResult<bool> {
        let params = inst.params()?;
        let Some(drag) = &state.drag else {
            // Hovering: light up the handle under the pen.
            let hover = Shown::read(&params, view.time)?
                .and_then(|shown| hit(&shown, pen.position, view.pixel_scale));
            if hover != state.hover {
                state.hover = hover;
                interact.redraw();
            }
            return Ok(false);
        };
        let delta = (pen.position.0 - drag.pen.0, pen.position.1 - drag.pen.1);
        let (bottom_left, size) = dragged(
            drag.handle,
            drag.bottom_left,
            drag.size,
            delta,
            state.shift,
            state.ctrl,
            view.pixel_scale,
        );
        Self::write(&params, view.time, bottom_left, size)?;
        interact.redraw();
        Ok(true)
    }

    fn end_drag(p: &ParamValues, state: &mut OverlayState) -> OfxResult<bool> {
        if state.drag.take().is_some() {
            p.end_edit()?;
            return Ok(true);
        }
        Ok(false)
    }
}

fn rect_points(r: &RectD) -> [(f64, f64); 4] {
    [(r.x1, r.y1), (r.x2, r.y1), (r.x2, r.y2), (r.x1, r.y2)]
}

/// Draws `f` twice: a dark shadow one pixel down-right, then in `colour`.
fn with_shadow(p: &mut Painter, colour: [f32; 4], f: impl Fn(&mut Painter, (f64, f64))) {
    let ps = p.pixel_scale();
    p.colour(SHADOW);
    f(p, (ps.0, -ps.1));
    p.colour(colour);
    f(p, (0.0, 0.0));
}

fn shifted(points: &[(f64, f64)], by: (f64, f64)) -> Vec<(f64, f64)> {
    points.iter().map(|&(x, y)| (x + by.0, y + by.1)).collect()
}

impl Overlay for RegionOverlay {
    type State = OverlayState;

    fn draw(
        &self,
        inst: &Instance,
        state: &mut OverlayState,
        view: &ViewArgs,
        p: &mut Painter,
    ) -> OfxResult<bool> {
        let Some(shown) = Shown::read(&inst.params()?, view.time)? else {
            return Ok(false);
        };
        let r = region(shown.bottom_left, shown.size);
        if r.is_empty() {
            return Ok(false);
        }
        let ps = view.pixel_scale;
        if let Some(a) = Self::affected(inst, view.time, &r) {
            p.line_width(1.0);
            p.colour(AFFECTED);
            p.draw(Shape::LineLoop, &rect_points(&a));
        }
        p.line_width(1.5);
        let outline = rect_points(&r);
        with_shadow(p, LINE, |p, by| {
            p.draw(Shape::LineLoop, &shifted(&outline, by))
        });
        // The ground line: where the building meets the ground.
        p.line_width(3.0);
        let ground = [(r.x1, r.y1), (r.x2, r.y1)];
        with_shadow(p, GROUND, |p, by| {
            p.draw(Shape::Lines, &shifted(&ground, by))
        });
        // The fall's direction: from the top's middle, leaning with `direction`.
        p.line_width(1.5);
        let (cx, top) = (0.5 * (r.x1 + r.x2), r.y2);
        let tip = (
            cx + shown.direction.clamp(-1.0, 1.0) * 0.3 * (r.x2 - r.x1),
            top - 0.3 * (r.y2 - r.y1),
        );
        let (dx, dy) = ((tip.0 - cx) / ps.0, (tip.1 - top) / ps.1);
        let len = dx.hypot(dy).max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let head = |side: f64| {
            let (bx, by) = (-ux * 9.0 - side * uy * 5.0, -uy * 9.0 + side * ux * 5.0);
            (tip.0 + bx * ps.0, tip.1 + by * ps.1)
        };
        let arrow = [(cx, top), tip, tip, head(1.0), tip, head(-1.0)];
        with_shadow(p, LINE, |p, by| p.draw(Shape::Lines, &shifted(&arrow, by)));
        // Handles.
        let active = state.drag.as_ref().map(|d| d.handle).or(state.hover);
        for h in shown.handles() {
            let (x, y) = handle_position(&r, h);
            let colour = if active == Some(h) { ACTIVE } else { LINE };
            if h.hx == 0 && h.hy == 0 {
                let (a, b) = (5.0 * ps.0, 5.0 * ps.1);
                let cross = [(x - a, y), (x + a, y), (x, y - b), (x, y + b)];
                p.line_width(1.5);
                with_shadow(p, colour, |p, by| {
                    p.draw(Shape::Lines, &shifted(&cross, by))
                });
            } else {
                let (a, b) = (HANDLE_PX * ps.0, HANDLE_PX * ps.1);
                let square = [
                    (x - a, y - b),
                    (x + a, y - b),
                    (x + a, y + b),
                    (x - a, y + b),
                ];
                with_shadow(p, colour, |p, by| {
                    p.draw(Shape::Polygon, &shifted(&square, by))
                });
            }
        }
        Ok(true)
    }

    fn pen(
        &self,
        inst: &Instance,
        state: &mut OverlayState,
        view: &ViewArgs,
        pen: &Pen,
        interact: &Interact,
    ) -> OfxResult<bool> {
        match pen.phase {
            PenPhase::Down => self.pen_down(inst, state, view, pen, interact),
            PenPhase::Motion => self.pen_motion(inst, state, view, pen, interact),
            PenPhase::Up => {
                let ended = Self::end_drag(&inst.params()?, state)?;
                if ended {
                    interact.redraw();
                }
                Ok(ended)
            }
        }
    }

    fn key(
        &self,
        _inst: &Instance,
        state: &mut OverlayState,
        key: i32,
        down: bool,
        _interact: &Interact,
    ) -> OfxResult<bool> {
        // Modifiers are watched, never taken: the host still sees them.
        match key {
            ffi::kOfxKey_Shift_L | ffi::kOfxKey_Shift_R => state.shift = down,
            ffi::kOfxKey_Control_L | ffi::kOfxKey_Control_R => state.ctrl = down,
            _ => {}
        }
        Ok(false)
    }

    fn focus(
        &self,
        inst: &Instance,
        state: &mut OverlayState,
        gained: bool,
        interact: &Interact,
    ) -> OfxResult<bool> {
        if gained {
            return Ok(false);
        }
        // Keys released while another window had focus never reach us.
        state.shift = false;
        state.ctrl = false;
        state.hover = None;
        if Self::end_drag(&inst.params()?, state)? {
            interact.redraw();
        }
        Ok(false)
    }
}

pub static OVERLAY: RegionOverlay = RegionOverlay;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapping_follows_the_pixel_size() {
        assert_eq!(snap(10.4, 1.0), 10.0);
        assert_eq!(snap(10.6, 2.0), 11.0);
        assert!((snap(10.26, 0.25) - 10.3).abs() < 1e-9);
    }

    #[test]
    fn drags_move_the_right_sides() {
        let ps = (1.0, 1.0);
        let (bl, sz) = ((100.0, 50.0), (200.0, 300.0));
        let h = |hx, hy| Handle { hx, hy };
        assert_eq!(
            dragged(h(1, 0), bl, sz, (10.0, 7.0), false, false, ps),
            (bl, (210.0, 300.0))
        );
        assert_eq!(
            dragged(h(-1, 0), bl, sz, (10.0, 7.0), false, false, ps),
            ((110.0, 50.0), (190.0, 300.0))
        );
        assert_eq!(
            dragged(h(0, 1), bl, sz, (10.0, 7.0), false, false, ps),
            (bl, (200.0, 307.0))
        );
        assert_eq!(
            dragged(h(0, 0), bl, sz, (10.0, 7.0), false, false, ps),
            ((110.0, 57.0), sz)
        );
        assert_eq!(
            dragged(h(1, 1), bl, sz, (10.0, 7.0), false, true, ps),
            ((90.0, 43.0), (220.0, 314.0))
        );
        // Shift on a corner: the larger relative change sets both.
        assert_eq!(
            dragged(h(1, 1), bl, sz, (20.0, 3.0), true, false, ps),
            (bl, (220.0, 330.0))
        );
        // Dragged past the opposite side: the region keeps a minimum size instead of flipping.
        let (b, s) = dragged(h(1, 0), bl, sz, (-500.0, 0.0), false, false, ps);
        assert_eq!(b, bl);
        assert_eq!(s.0, MIN_SIDE_PX);
    }
}
