//! The viewer overlay, driven through the bundle's OFX C ABI by our host acting
//! as an interact host: it draws with the Draw Suite (rasterised by the host)
//! and with legacy OpenGL (an offscreen EGL context on Mesa), and the pen and
//! keys drag the region's handles.

mod plugin_util;

use collapse_ofx::ffi;
use collapse_ofx::host::{
    Backend, Canvas, ClipSource, Context, Edit, GlCanvas, HostConfig, Image, Instance, ParamValue,
    Plugin, Project, View,
};
use plugin_util::*;
use std::sync::Mutex;

/// One test at a time: a plugin binary is loaded with one host configuration
/// at a time (as in a real host process), and one GL context is current at a time.
static ONE_HOST: Mutex<()> = Mutex::new(());

fn one_host() -> std::sync::MutexGuard<'static, ()> {
    ONE_HOST.lock().unwrap_or_else(|e| e.into_inner())
}

fn viewer_config(draw_suite: bool) -> HostConfig {
    HostConfig {
        is_background: false,
        offer_draw_suite: draw_suite,
        ..config()
    }
}

/// A view of the whole plate at one render scale and pixel aspect, one
/// screen pixel per image pixel (the proxy and the anamorphic plate shown as they are).
fn view(render_scale: f64, pixel_aspect: f64) -> View {
    let ps = (pixel_aspect / render_scale, 1.0 / render_scale);
    View {
        width: (W as f64 / ps.0).round() as u32,
        height: (H as f64 / ps.1).round() as u32,
        origin: (0.0, 0.0),
        pixel_scale: ps,
        render_scale: (render_scale, render_scale),
        time: 1.0,
    }
}

const DARK: [u8; 4] = [40, 40, 40, 255];

fn is_line(p: [u8; 4]) -> bool {
    p[0] > 200 && p[1] > 200 && p[2] > 200
}

fn is_ground(p: [u8; 4]) -> bool {
    p[0] > 200 && p[1] > 90 && p[1] < 170 && p[2] < 80
}

fn is_faint(p: [u8; 4]) -> bool {
    (80..180).contains(&p[0]) && (p[0] as i32 - p[2] as i32).abs() < 10
}

/// Screen columns on row `y` (from the bottom) whose pixel passes `test`.
fn columns(c: &Canvas, y: u32, test: impl Fn([u8; 4]) -> bool) -> Vec<u32> {
    (0..c.width).filter(|&x| test(c.at(x, y))).collect()
}

/// Screen rows on column `x` whose pixel passes `test`.
fn rows(c: &Canvas, x: u32, test: impl Fn([u8; 4]) -> bool) -> Vec<u32> {
    (0..c.height).filter(|&y| test(c.at(x, y))).collect()
}

/// Asserts that some hit lies within a pixel of screen coordinate `expected`.
fn near(hits: &[u32], expected: f64, what: &str) {
    let best = hits
        .iter()
        .map(|&h| (h as f64 + 0.5 - expected).abs())
        .fold(f64::MAX, f64::min);
    assert!(
        best <= 1.0,
        "{what}: expected a line at {expected:.2}, the nearest is {best:.2} px away (hits {hits:?})"
    );
}

fn overlay_instance(plugin: &Plugin) -> Instance {
    instance(plugin, Context::Filter, plate())
}

/// Checks where the region's lines landed on a drawn canvas.
fn check_lines(canvas: &Canvas, v: &View, affected: bool) {
    let (x, y, w, h) = BUILDING;
    let s = |p: (f64, f64)| v.to_screen(p);
    // A quarter of the way up: clear of the edge-midpoint handles.
    let row = s((0.0, y + 0.25 * h)).1.floor() as u32;
    let hits = columns(canvas, row, is_line);
    near(&hits, s((x, 0.0)).0, "left edge");
    near(&hits, s((x + w, 0.0)).0, "right edge");
    let col = s((x + 0.25 * w, 0.0)).0.floor() as u32;
    near(&rows(canvas, col, is_line), s((0.0, y + h)).1, "top edge");
    near(&rows(canvas, col, is_ground), s((0.0, y)).1, "ground line");
    if affected {
        // The affected area (the default model's reach: 0.75 of the width each side).
        let above = s((0.0, y + h + 10.0)).1.floor() as u32;
        let faint = columns(canvas, above, is_faint);
        near(
            &faint,
            s((x - 0.75 * w, 0.0)).0,
            "affected area's left side",
        );
        near(
            &faint,
            s((x + 1.75 * w, 0.0)).0,
            "affected area's right side",
        );
    }
}

#[test]
fn the_overlay_is_drawn_where_the_region_is_with_the_draw_suite() {
    let _one = one_host();
    let plugin = load(viewer_config(true));
    let inst = overlay_instance(&plugin);
    frame(&inst, 12.0); // loads the model, whose reach the overlay shows
    let overlay = inst
        .overlay()
        .unwrap()
        .expect("the plugin declares an overlay");
    for (rs, par) in [(1.0, 1.0), (0.5, 1.0), (1.0, 2.0)] {
        let v = view(rs, par);
        let bg = Canvas::filled(v.width, v.height, DARK);
        let drawn = overlay.draw(&v, &bg, Backend::DrawSuite).unwrap();
        assert_eq!(drawn.status, ffi::kOfxStatOK, "scale {rs}, aspect {par}");
        assert!(
            drawn.primitives > 10,
            "only {} primitives",
            drawn.primitives
        );
        check_lines(&drawn.canvas, &v, true);
    }
    drop(overlay);
    assert_clean(&inst);
}

#[test]
fn the_overlay_is_drawn_where_the_region_is_with_opengl() {
    let _one = one_host();
    let plugin = load(viewer_config(false));
    let inst = overlay_instance(&plugin);
    frame(&inst, 12.0);
    let overlay = inst
        .overlay()
        .unwrap()
        .expect("the plugin declares an overlay");
    for (rs, par) in [(1.0, 1.0), (0.5, 1.0), (1.0, 2.0)] {
        let v = view(rs, par);
        let mut gl = GlCanvas::new(v.width, v.height).unwrap_or_else(|e| {
            cannot_run(&format!(
                "{e} (tools/setup.sh installs libegl1, libegl-mesa0 and libgl1-mesa-dri as root)"
            ))
        });
        let bg = Canvas::filled(v.width, v.height, DARK);
        let drawn = overlay.draw(&v, &bg, Backend::OpenGl(&mut gl)).unwrap();
        assert_eq!(drawn.status, ffi::kOfxStatOK, "scale {rs}, aspect {par}");
        check_lines(&drawn.canvas, &v, true);
    }
    drop(overlay);
    assert_clean(&inst);
}

fn region_of(inst: &Instance) -> ((f64, f64), (f64, f64)) {
    let get = |n: &str| match inst.param(n) {
        Some(ParamValue::Double2D(a, b)) => (a, b),
        other => panic!("{n} is {other:?}"),
    };
    (get("bottomLeft"), get("size"))
}

/// Drags from a handle by `by` screen pixels in three moves; returns the edits.
fn drag(overlay: &collapse_ofx::host::Overlay, v: &View, from: (f64, f64), by: (f64, f64)) -> bool {
    let start = v.to_screen(from);
    if !overlay.pen_down(v, start).unwrap() {
        return false;
    }
    for k in 1..=3 {
        let f = k as f64 / 3.0;
        assert!(overlay
            .pen_motion(v, (start.0 + f * by.0, start.1 + f * by.1))
            .unwrap());
    }
    assert!(overlay.pen_up(v, (start.0 + by.0, start.1 + by.1)).unwrap());
    true
}

/// The edits of one drag: one undo block holding only writes of `params`.
fn one_block(edits: &[Edit], params: &[&str]) {
    assert!(
        matches!(edits.first(), Some(Edit::Begin(_))) && edits.last() == Some(&Edit::End),
        "not one undo block: {edits:?}"
    );
    let inner = &edits[1..edits.len() - 1];
    assert!(!inner.is_empty(), "no write inside the block");
    for e in inner {
        match e {
            Edit::Set { param, .. } => assert!(
                params.contains(&param.as_str()),
                "{param} written, only {params:?} should be: {edits:?}"
            ),
            other => panic!("nested block: {edits:?} ({other:?})"),
        }
    }
    for p in params {
        assert!(
            inner
                .iter()
                .any(|e| matches!(e, Edit::Set { param, .. } if param == p)),
            "{p} never written: {edits:?}"
        );
    }
}

#[test]
fn dragging_each_handle_changes_exactly_its_parameters() {
    let _one = one_host();
    let plugin = load(viewer_config(true));
    let inst = overlay_instance(&plugin);
    let overlay = inst.overlay().unwrap().unwrap();
    // Anamorphic, one screen pixel = 2 canonical units across, 1 up.
    let v = view(1.0, 2.0);
    let (x, y, w, h) = BUILDING;
    let by = (10.0, 6.0); // screen pixels
    let (dx, dy) = (by.0 * v.pixel_scale.0, by.1 * v.pixel_scale.1);
    let bl = (x, y);
    let sz = (w, h);
    type Case = ((i8, i8), (f64, f64), (f64, f64), &'static [&'static str]);
    let cases: [Case; 9] = [
        ((1, 0), bl, (w + dx, h), &["size"]),
        ((-1, 0), (x + dx, y), (w - dx, h), &["bottomLeft", "size"]),
        ((0, 1), bl, (w, h + dy), &["size"]),
        ((0, -1), (x, y + dy), (w, h - dy), &["bottomLeft", "size"]),
        ((1, 1), bl, (w + dx, h + dy), &["size"]),
        (
            (-1, -1),
            (x + dx, y + dy),
            (w - dx, h - dy),
            &["bottomLeft", "size"],
        ),
        (
            (1, -1),
            (x, y + dy),
            (w + dx, h - dy),
            &["bottomLeft", "size"],
        ),
        (
            (-1, 1),
            (x + dx, y),
            (w - dx, h + dy),
            &["bottomLeft", "size"],
        ),
        ((0, 0), (x + dx, y + dy), sz, &["bottomLeft"]),
    ];
    for ((hx, hy), want_bl, want_size, written) in cases {
        set(&inst, "bottomLeft", ParamValue::Double2D(bl.0, bl.1));
        set(&inst, "size", ParamValue::Double2D(sz.0, sz.1));
        inst.take_edits();
        let pick = |side: i8, lo: f64, len: f64| lo + (side as f64 + 1.0) * 0.5 * len;
        let at = (pick(hx, x, w), pick(hy, y, h));
        assert!(drag(&overlay, &v, at, by), "handle ({hx}, {hy}) not taken");
        assert_eq!(
            region_of(&inst),
            (want_bl, want_size),
            "handle ({hx}, {hy})"
        );
        one_block(&inst.take_edits(), written);
    }

    // Shift keeps the aspect ratio; Ctrl resizes about the centre.
    set(&inst, "bottomLeft", ParamValue::Double2D(bl.0, bl.1));
    set(&inst, "size", ParamValue::Double2D(sz.0, sz.1));
    assert!(
        !overlay.key_down(&v, ffi::kOfxKey_Shift_L, "").unwrap(),
        "Shift must not be taken"
    );
    assert!(drag(&overlay, &v, (x + w, y + h), (20.0, 2.0)));
    overlay.key_up(&v, ffi::kOfxKey_Shift_L, "").unwrap();
    let (b, s) = region_of(&inst);
    assert_eq!(b, bl);
    assert!(
        (s.0 / s.1 - w / h).abs() < 0.01 && s.0 > w + 30.0,
        "Shift: {s:?} lost the aspect {}",
        w / h
    );
    set(&inst, "size", ParamValue::Double2D(sz.0, sz.1));
    overlay.key_down(&v, ffi::kOfxKey_Control_L, "").unwrap();
    assert!(drag(&overlay, &v, (x + w, y + 0.3 * h), by));
    overlay.key_up(&v, ffi::kOfxKey_Control_L, "").unwrap();
    assert_eq!(region_of(&inst), ((x - dx, y), (w + 2.0 * dx, h)), "Ctrl");
    inst.take_edits();

    // Away from every handle the pen is not taken and nothing is written.
    set(&inst, "bottomLeft", ParamValue::Double2D(bl.0, bl.1));
    set(&inst, "size", ParamValue::Double2D(sz.0, sz.1));
    inst.take_edits();
    let far = v.to_screen((x + 0.3 * w, y + 0.6 * h));
    assert!(!overlay.pen_down(&v, far).unwrap());
    assert!(!overlay.pen_up(&v, far).unwrap());
    assert!(!overlay.key_down(&v, 'a' as i32, "a").unwrap());
    assert!(inst.take_edits().is_empty());

    // Hovering over a handle asks for a redraw; focus lost mid-drag closes the block.
    let before = overlay.redraws();
    assert!(!overlay.pen_motion(&v, v.to_screen((x + w, y + h))).unwrap());
    assert!(overlay.redraws() > before);
    assert!(overlay.pen_down(&v, v.to_screen((x + w, y + h))).unwrap());
    assert!(overlay
        .pen_motion(&v, v.to_screen((x + w + 10.0, y + h)))
        .unwrap());
    assert!(!overlay.lose_focus(&v).unwrap());
    assert!(!overlay.gain_focus(&v).unwrap());
    let edits = inst.take_edits();
    assert_eq!(edits.last(), Some(&Edit::End), "{edits:?}");
    drop(overlay);
    assert_clean(&inst);
}

#[test]
fn a_viewer_without_opengl_or_the_draw_suite_still_loads_describes_and_renders() {
    let _one = one_host();
    // A viewer that can draw nothing: the overlay declines and the pen still works.
    let plugin = load(viewer_config(false));
    let inst = overlay_instance(&plugin);
    let overlay = inst.overlay().unwrap().unwrap();
    let v = view(1.0, 1.0);
    let bg = Canvas::filled(v.width, v.height, DARK);
    let drawn = { overlay.draw(&v, &bg, Backend::Nothing).unwrap() };
    assert_eq!(drawn.status, ffi::kOfxStatReplyDefault);
    assert_eq!(drawn.canvas, bg);
    let (x, y, w, h) = BUILDING;
    assert!(drag(&overlay, &v, (x + w, y + 0.3 * h), (5.0, 0.0)));
    assert!(changed(&frame(&inst, 12.0), &plate()).len() > 2000);
    drop(overlay);
    assert_clean(&inst);
    drop((inst, plugin));

    // A farm host (no viewer) gets the same plugin: it describes and renders.
    let farm = load(config());
    assert!(farm
        .descriptor()
        .get("OfxImageEffectPluginPropOverlayInteractV1")
        .is_some());
    let inst = overlay_instance(&farm);
    assert!(inst.overlay().is_err(), "a background host has no viewer");
    assert!(changed(&frame(&inst, 12.0), &plate()).len() > 2000);
    assert_clean(&inst);
}

/// Nuke-like: the host draws its own handle for `bottomLeft`, so the overlay
/// leaves that corner to it and still drags the rest.
#[test]
fn the_host_s_own_position_handle_is_honoured() {
    let _one = one_host();
    let (x, y, w, h) = BUILDING;
    let v = view(1.0, 1.0);
    for host_handles in [false, true] {
        let plugin = load(HostConfig {
            position_handles: host_handles,
            ..viewer_config(true)
        });
        let inst = overlay_instance(&plugin);
        let props = inst.param_props("bottomLeft").unwrap();
        assert_eq!(
            props.flag("kOfxParamPropUseHostOverlayHandle"),
            Some(host_handles),
            "the plugin should use the host's handle exactly when there is one"
        );
        let overlay = inst.overlay().unwrap().unwrap();
        inst.take_edits();
        assert_eq!(drag(&overlay, &v, (x, y), (4.0, 4.0)), !host_handles);
        assert!(drag(&overlay, &v, (x + w, y + h), (4.0, 4.0)));
        let bg = Canvas::filled(v.width, v.height, DARK);
        let drawn = overlay.draw(&v, &bg, Backend::DrawSuite).unwrap();
        // The bottom-left handle's square (3 px each way) is drawn only without the host's.
        let corner = v.to_screen((x, y));
        let lit = drawn.canvas.at(corner.0 as u32 + 2, corner.1 as u32 + 2);
        assert_eq!(is_line(lit), !host_handles, "corner pixel {lit:?}");
        drop(overlay);
        assert_clean(&inst);
    }
}

/// The docs' screenshot: the overlay drawn with OpenGL over a photograph
/// mid-collapse. Written to target/overlay/overlay.png.
#[test]
fn a_screenshot_of_the_overlay_over_a_photograph() {
    let _one = one_host();
    let path = repo().join("tests/data/photos/sky_berlin_cathedral.jpg");
    let (px, pw, ph) = photo(&path);
    let plate = Image::from_f32_rgba(rect(0, 0, pw, ph), &px);
    let plugin = load(HostConfig {
        is_background: false,
        project: Project::frames(pw as f64, ph as f64, (1.0, 48.0)),
        ..HostConfig::default()
    });
    let inst = plugin.create_instance(Context::Filter).unwrap();
    inst.connect("Source", ClipSource::still(plate)).unwrap();
    set(&inst, "bottomLeft", ParamValue::Double2D(150.0, 55.0));
    set(&inst, "size", ParamValue::Double2D(735.0, 565.0));
    set(&inst, "direction", ParamValue::Double(0.4));
    let shown = frame(&inst, 9.0);
    let bg = Canvas {
        width: pw as u32,
        height: ph as u32,
        rgba: rgba8_top_first(&shown),
    };
    let overlay = inst.overlay().unwrap().unwrap();
    let v = View {
        width: pw as u32,
        height: ph as u32,
        origin: (0.0, 0.0),
        pixel_scale: (1.0, 1.0),
        render_scale: (1.0, 1.0),
        time: 9.0,
    };
    let mut gl = GlCanvas::new(v.width, v.height).unwrap_or_else(|e| cannot_run(&e.to_string()));
    // Hover the top-right corner, so the active handle shows too.
    overlay.pen_motion(&v, v.to_screen((885.0, 620.0))).unwrap();
    let drawn = overlay.draw(&v, &bg, Backend::OpenGl(&mut gl)).unwrap();
    assert_eq!(drawn.status, ffi::kOfxStatOK);
    let dir = repo().join("target/overlay");
    std::fs::create_dir_all(&dir).unwrap();
    image::RgbaImage::from_raw(v.width, v.height, drawn.canvas.rgba.clone())
        .unwrap()
        .save(dir.join("overlay.png"))
        .unwrap();
    drop(overlay);
    assert_clean(&inst);
}
