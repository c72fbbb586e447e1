//! Overlay interacts: what the plugin draws on the host's viewer and how it
//! answers the pen and the keyboard there.
//!
//! The effect implements [`Overlay`]; [`dispatch_interact`] turns the interact's
//! actions into calls on it, catching every panic. Drawing goes through a
//! [`Painter`]: the OpenFX 1.5 Draw Suite when the host hands a draw context,
//! else legacy OpenGL (what Natron 2.5 and Nuke give), loaded at run time so a
//! machine without libGL still loads and renders the plugin.

use super::error::check;
use super::{host_suites, Instance, OfxError, OfxResult, PropertySet, Status};
use crate::ffi;
use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, OnceLock};

/// What every interact action is told about the view.
#[derive(Clone, Copy, Debug)]
pub struct ViewArgs {
    pub time: f64,
    pub render_scale: (f64, f64),
    /// Size of one screen pixel in canonical units, in x and y.
    pub pixel_scale: (f64, f64),
}

/// Which pen action this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PenPhase {
    Down,
    Motion,
    Up,
}

/// The pen's state in a pen action.
#[derive(Clone, Copy, Debug)]
pub struct Pen {
    pub phase: PenPhase,
    /// Canonical coordinates.
    pub position: (f64, f64),
    pub pressure: f64,
}

/// The interact instance an action runs on: lets the overlay ask for a redraw.
pub struct Interact {
    handle: ffi::OfxInteractHandle,
}

impl Interact {
    /// Asks the host to redraw the viewer (after a hover change, say).
    pub fn redraw(&self) {
        if let Some(f) = host_suites()
            .ok()
            .and_then(|s| s.interact)
            .and_then(|s| s.interactRedraw)
        {
            // SAFETY: the interact handle of the running action.
            let _ = unsafe { f(self.handle) };
        }
    }
}

/// An effect's overlay. Methods returning `true` used the event (the host then
/// does not pass it on); `false` answers the host's default.
pub trait Overlay: Sync {
    /// Per interact instance (one per viewer showing the node).
    type State: Default + Send;
    fn draw(
        &self,
        inst: &Instance,
        state: &mut Self::State,
        view: &ViewArgs,
        painter: &mut Painter,
    ) -> OfxResult<bool>;
    fn pen(
        &self,
        inst: &Instance,
        state: &mut Self::State,
        view: &ViewArgs,
        pen: &Pen,
        interact: &Interact,
    ) -> OfxResult<bool>;
    /// `key` is an `kOfxKey_*` symbol; `down` is false for key up.
    fn key(
        &self,
        inst: &Instance,
        state: &mut Self::State,
        key: i32,
        down: bool,
        interact: &Interact,
    ) -> OfxResult<bool>;
    fn focus(
        &self,
        inst: &Instance,
        state: &mut Self::State,
        gained: bool,
        interact: &Interact,
    ) -> OfxResult<bool>;
}

/// The interact's main entry: dispatches `action` to `overlay`, catching every panic.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn dispatch_interact<O: Overlay>(
    overlay: &O,
    action: *const c_char,
    handle: *const c_void,
    in_args: ffi::OfxPropertySetHandle,
) -> Status {
    if action.is_null() || handle.is_null() {
        return ffi::kOfxStatErrBadHandle;
    }
    // SAFETY: the host passes a NUL-terminated action name (checked non-null above).
    let action = unsafe { CStr::from_ptr(action) };
    let handle = handle as ffi::OfxInteractHandle;
    let result = catch_unwind(AssertUnwindSafe(|| {
        run_interact_action(overlay, action, handle, PropertySet(in_args))
    }));
    match result {
        Ok(Ok(true)) => ffi::kOfxStatOK,
        Ok(Ok(false)) => ffi::kOfxStatReplyDefault,
        Ok(Err(e)) => {
            log::error!(
                "Collapse overlay: {} failed: {}",
                action.to_string_lossy(),
                e.message
            );
            e.status
        }
        Err(_) => {
            log::error!(
                "Collapse overlay: internal error during {}",
                action.to_string_lossy()
            );
            ffi::kOfxStatFailed
        }
    }
}

fn is(action: &CStr, name: &[u8]) -> bool {
    action.to_bytes_with_nul() == name
}

fn interact_props(handle: ffi::OfxInteractHandle) -> OfxResult<PropertySet> {
    let get = host_suites()?
        .interact
        .and_then(|s| s.interactGetPropertySet)
        .ok_or_else(|| {
            OfxError::new(
                ffi::kOfxStatErrMissingHostFeature,
                "the host has overlays but no interact suite",
            )
        })?;
    let mut props: ffi::OfxPropertySetHandle = std::ptr::null_mut();
    // SAFETY: an interact handle from the host and an out pointer.
    check("interactGetPropertySet", unsafe { get(handle, &mut props) })?;
    Ok(PropertySet(props))
}

fn run_interact_action<O: Overlay>(
    overlay: &O,
    action: &CStr,
    handle: ffi::OfxInteractHandle,
    args: PropertySet,
) -> OfxResult<bool> {
    if is(action, ffi::kOfxActionDescribe) {
        return Ok(true);
    }
    let props = interact_props(handle)?;
    if is(action, ffi::kOfxActionCreateInstance) {
        let state = Box::new(Mutex::new(O::State::default()));
        props.set_pointer(
            ffi::kOfxPropInstanceData,
            Box::into_raw(state) as *mut c_void,
        )?;
        return Ok(true);
    }
    let data = props.get_pointer(ffi::kOfxPropInstanceData)? as *mut Mutex<O::State>;
    if data.is_null() {
        return Err(OfxError::new(
            ffi::kOfxStatErrBadHandle,
            "interact action before its createInstance",
        ));
    }
    if is(action, ffi::kOfxActionDestroyInstance) {
        props.set_pointer(ffi::kOfxPropInstanceData, std::ptr::null_mut())?;
        // SAFETY: the Box made in createInstance; the pointer is cleared above so it is freed once.
        drop(unsafe { Box::from_raw(data) });
        return Ok(true);
    }
    // SAFETY: alive from createInstance to destroyInstance; the mutex serialises actions.
    let state = unsafe { &*data };
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    let effect = props.get_pointer(ffi::kOfxPropEffectInstance)? as ffi::OfxImageEffectHandle;
    let inst = Instance::from_handle(effect)?;
    let interact = Interact { handle };
    let view = || -> OfxResult<ViewArgs> {
        let ps = args.get_doubles::<2>(ffi::kOfxInteractPropPixelScale)?;
        let rs = args
            .get_doubles::<2>(ffi::kOfxImageEffectPropRenderScale)
            .unwrap_or([1.0, 1.0]);
        let positive = |v: f64| if v.is_finite() && v > 0.0 { v } else { 1.0 };
        Ok(ViewArgs {
            time: args.get_double(ffi::kOfxPropTime, 0)?,
            render_scale: (positive(rs[0]), positive(rs[1])),
            pixel_scale: (positive(ps[0]), positive(ps[1])),
        })
    };
    if is(action, ffi::kOfxInteractActionDraw) {
        let view = view()?;
        let Some(mut painter) = Painter::for_draw(args, view.pixel_scale) else {
            return Ok(false);
        };
        let drawn = overlay.draw(&inst, &mut state, &view, &mut painter);
        painter.finish();
        return drawn;
    }
    let phase: Option<PenPhase> = [
        (&ffi::kOfxInteractActionPenDown[..], PenPhase::Down),
        (&ffi::kOfxInteractActionPenMotion[..], PenPhase::Motion),
        (&ffi::kOfxInteractActionPenUp[..], PenPhase::Up),
    ]
    .into_iter()
    .find_map(|(name, phase)| is(action, name).then_some(phase));
    if let Some(phase) = phase {
        let p = args.get_doubles::<2>(ffi::kOfxInteractPropPenPosition)?;
        let pen = Pen {
            phase,
            position: (p[0], p[1]),
            pressure: args
                .get_double(ffi::kOfxInteractPropPenPressure, 0)
                .unwrap_or(1.0),
        };
        return overlay.pen(&inst, &mut state, &view()?, &pen, &interact);
    }
    let down =
        is(action, ffi::kOfxInteractActionKeyDown) || is(action, ffi::kOfxInteractActionKeyRepeat);
    if down || is(action, ffi::kOfxInteractActionKeyUp) {
        let key = args.get_int(ffi::kOfxPropKeySym, 0)?;
        return overlay.key(&inst, &mut state, key, down, &interact);
    }
    if is(action, ffi::kOfxInteractActionGainFocus) {
        return overlay.focus(&inst, &mut state, true, &interact);
    }
    if is(action, ffi::kOfxInteractActionLoseFocus) {
        return overlay.focus(&inst, &mut state, false, &interact);
    }
    Ok(false)
}

// ---- Drawing ----------------------------------------------------------------

/// The kinds of shape a painter draws (points are canonical coordinates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Pairs of points, one segment each.
    Lines,
    LineStrip,
    LineLoop,
    /// A filled convex polygon.
    Polygon,
}

enum Backend {
    Suite(&'static ffi::OfxDrawSuiteV1, ffi::OfxDrawContextHandle),
    Gl(&'static Gl),
}

/// Draws in canonical coordinates on whatever the host gave for this draw action.
pub struct Painter {
    backend: Backend,
    pixel_scale: (f64, f64),
}

impl Painter {
    fn for_draw(args: PropertySet, pixel_scale: (f64, f64)) -> Option<Painter> {
        // Only a host with the Draw Suite puts a draw context in the arguments.
        let suite = host_suites().ok().and_then(|s| s.draw);
        let context = suite.and_then(|_| args.get_pointer(ffi::kOfxInteractPropDrawContext).ok());
        let backend = match (suite, context) {
            (Some(suite), Some(ctx)) if !ctx.is_null() => {
                Backend::Suite(suite, ctx as ffi::OfxDrawContextHandle)
            }
            _ => Backend::Gl(Gl::current()?),
        };
        if let Backend::Gl(gl) = &backend {
            // SAFETY: a current context (checked by Gl::current); saved state is restored in finish.
            unsafe {
                (gl.push_attrib)(
                    GL_CURRENT_BIT | GL_LINE_BIT | GL_ENABLE_BIT | GL_COLOR_BUFFER_BIT,
                );
                (gl.enable)(GL_BLEND);
                (gl.blend_func)(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
            }
        }
        Some(Painter {
            backend,
            pixel_scale,
        })
    }

    fn finish(self) {
        if let Backend::Gl(gl) = self.backend {
            // SAFETY: pairs the push in for_draw, same context.
            unsafe { (gl.pop_attrib)() };
        }
    }

    /// Size of one screen pixel in canonical units (x, y).
    pub fn pixel_scale(&self) -> (f64, f64) {
        self.pixel_scale
    }

    /// Straight RGBA colour for what follows.
    pub fn colour(&mut self, rgba: [f32; 4]) {
        match self.backend {
            Backend::Suite(s, ctx) => {
                let colour = ffi::OfxRGBAColourF {
                    r: rgba[0],
                    g: rgba[1],
                    b: rgba[2],
                    a: rgba[3],
                };
                if let Some(f) = s.setColour {
                    // SAFETY: the draw context of this action and a colour that outlives the call.
                    unsafe { f(ctx, &colour) };
                }
            }
            // SAFETY: a current GL context.
            Backend::Gl(gl) => unsafe { (gl.color4f)(rgba[0], rgba[1], rgba[2], rgba[3]) },
        }
    }

    /// Line width in screen pixels.
    pub fn line_width(&mut self, width: f32) {
        match self.backend {
            Backend::Suite(s, ctx) => {
                if let Some(f) = s.setLineWidth {
                    // SAFETY: the draw context of this action.
                    unsafe { f(ctx, width) };
                }
            }
            // SAFETY: a current GL context.
            Backend::Gl(gl) => unsafe { (gl.line_width)(width) },
        }
    }

    pub fn draw(&mut self, shape: Shape, points: &[(f64, f64)]) {
        if points.is_empty() {
            return;
        }
        match self.backend {
            Backend::Suite(s, ctx) => {
                let primitive = match shape {
                    Shape::Lines => ffi::OfxDrawPrimitive_kOfxDrawPrimitiveLines,
                    Shape::LineStrip => ffi::OfxDrawPrimitive_kOfxDrawPrimitiveLineStrip,
                    Shape::LineLoop => ffi::OfxDrawPrimitive_kOfxDrawPrimitiveLineLoop,
                    Shape::Polygon => ffi::OfxDrawPrimitive_kOfxDrawPrimitivePolygon,
                };
                let pts: Vec<ffi::OfxPointD> = points
                    .iter()
                    .map(|&(x, y)| ffi::OfxPointD { x, y })
                    .collect();
                if let Some(f) = s.draw {
                    // SAFETY: the draw context of this action and `pts.len()` points.
                    unsafe { f(ctx, primitive, pts.as_ptr(), pts.len() as i32) };
                }
            }
            Backend::Gl(gl) => {
                let mode = match shape {
                    Shape::Lines => GL_LINES,
                    Shape::LineStrip => GL_LINE_STRIP,
                    Shape::LineLoop => GL_LINE_LOOP,
                    Shape::Polygon => GL_POLYGON,
                };
                // SAFETY: a current GL context; Begin/End are paired.
                unsafe {
                    (gl.begin)(mode);
                    for &(x, y) in points {
                        (gl.vertex2d)(x, y);
                    }
                    (gl.end)();
                }
            }
        }
    }
}

// ---- Legacy OpenGL, loaded at run time ------------------------------------------

const GL_LINES: u32 = 0x0001;
const GL_LINE_LOOP: u32 = 0x0002;
const GL_LINE_STRIP: u32 = 0x0003;
const GL_POLYGON: u32 = 0x0009;
const GL_BLEND: u32 = 0x0BE2;
const GL_SRC_ALPHA: u32 = 0x0302;
const GL_ONE_MINUS_SRC_ALPHA: u32 = 0x0303;
const GL_VERSION: u32 = 0x1F02;
const GL_CURRENT_BIT: u32 = 0x0000_0001;
const GL_LINE_BIT: u32 = 0x0000_0004;
const GL_ENABLE_BIT: u32 = 0x0000_2000;
const GL_COLOR_BUFFER_BIT: u32 = 0x0000_4000;

/// The OpenGL 1.x entry points an overlay needs.
struct Gl {
    _lib: libloading::Library,
    begin: unsafe extern "system" fn(u32),
    end: unsafe extern "system" fn(),
    vertex2d: unsafe extern "system" fn(f64, f64),
    color4f: unsafe extern "system" fn(f32, f32, f32, f32),
    line_width: unsafe extern "system" fn(f32),
    enable: unsafe extern "system" fn(u32),
    blend_func: unsafe extern "system" fn(u32, u32),
    push_attrib: unsafe extern "system" fn(u32),
    pop_attrib: unsafe extern "system" fn(),
    get_string: unsafe extern "system" fn(u32) -> *const u8,
}

#[cfg(target_os = "linux")]
const GL_LIBRARIES: &[&str] = &["libGL.so.1", "libGL.so"];
#[cfg(target_os = "macos")]
const GL_LIBRARIES: &[&str] = &["/System/Library/Frameworks/OpenGL.framework/OpenGL"];
#[cfg(target_os = "windows")]
const GL_LIBRARIES: &[&str] = &["opengl32.dll"];
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const GL_LIBRARIES: &[&str] = &["libGL.so.1"];

static GL: OnceLock<Result<Gl, String>> = OnceLock::new();

impl Gl {
    fn load() -> Result<Gl, String> {
        let mut why = Vec::new();
        for name in GL_LIBRARIES {
            // SAFETY: loading the system's OpenGL library runs only its initialisers.
            match unsafe { libloading::Library::new(name) } {
                Ok(lib) => return Gl::bind(lib).map_err(|e| format!("{name}: {e}")),
                Err(e) => why.push(format!("{name}: {e}")),
            }
        }
        Err(why.join("; "))
    }

    fn bind(lib: libloading::Library) -> Result<Gl, libloading::Error> {
        // SAFETY: each symbol is an OpenGL 1.1 entry point with the stated signature.
        unsafe {
            macro_rules! sym {
                ($name:literal) => {
                    *lib.get($name)?
                };
            }
            Ok(Gl {
                begin: sym!(b"glBegin\0"),
                end: sym!(b"glEnd\0"),
                vertex2d: sym!(b"glVertex2d\0"),
                color4f: sym!(b"glColor4f\0"),
                line_width: sym!(b"glLineWidth\0"),
                enable: sym!(b"glEnable\0"),
                blend_func: sym!(b"glBlendFunc\0"),
                push_attrib: sym!(b"glPushAttrib\0"),
                pop_attrib: sym!(b"glPopAttrib\0"),
                get_string: sym!(b"glGetString\0"),
                _lib: lib,
            })
        }
    }

    /// The loaded library when a GL context is current on this thread; `None`
    /// (logged once) where there is no OpenGL, or no context to draw into.
    fn current() -> Option<&'static Gl> {
        let gl = match GL.get_or_init(Gl::load) {
            Ok(gl) => gl,
            Err(why) => {
                static ONCE: std::sync::Once = std::sync::Once::new();
                ONCE.call_once(|| {
                    log::warn!(
                        "Collapse overlay: no Draw Suite and no OpenGL ({why}); nothing drawn"
                    )
                });
                return None;
            }
        };
        // SAFETY: glGetString answers NULL when no context is current.
        let version = unsafe { (gl.get_string)(GL_VERSION) };
        if version.is_null() {
            log::debug!("Collapse overlay: draw without a current OpenGL context");
            return None;
        }
        Some(gl)
    }
}

/// The entry point to store in `kOfxImageEffectPluginPropOverlayInteractV1/V2`.
pub fn entry_pointer(entry: super::entry::MainEntry) -> *mut c_void {
    entry as *mut c_void
}
