//! An offscreen OpenGL viewer for overlay tests: a compatibility-profile
//! context on EGL's surfaceless platform (Mesa's llvmpipe on a machine without
//! a GPU), with a pbuffer to draw into. EGL and GL are loaded at run time, so
//! the host builds and runs where they are missing; `GlCanvas::new` then says why.

use std::ffi::c_void;

use super::error::HostError;
use super::overlay::{Canvas, View};

type EglDisplay = *mut c_void;
type EglConfig = *mut c_void;
type EglSurface = *mut c_void;
type EglContext = *mut c_void;

const EGL_PLATFORM_SURFACELESS_MESA: u32 = 0x31DD;
const EGL_OPENGL_API: u32 = 0x30A2;
const EGL_SURFACE_TYPE: i32 = 0x3033;
const EGL_PBUFFER_BIT: i32 = 0x0001;
const EGL_RED_SIZE: i32 = 0x3024;
const EGL_GREEN_SIZE: i32 = 0x3023;
const EGL_BLUE_SIZE: i32 = 0x3022;
const EGL_ALPHA_SIZE: i32 = 0x3021;
const EGL_RENDERABLE_TYPE: i32 = 0x3040;
const EGL_OPENGL_BIT: i32 = 0x0008;
const EGL_WIDTH: i32 = 0x3057;
const EGL_HEIGHT: i32 = 0x3056;
const EGL_NONE: i32 = 0x3038;

const GL_PROJECTION: u32 = 0x1701;
const GL_MODELVIEW: u32 = 0x1700;
const GL_COLOR_BUFFER_BIT: u32 = 0x4000;
const GL_RGBA: u32 = 0x1908;
const GL_UNSIGNED_BYTE: u32 = 0x1401;
const GL_UNPACK_ALIGNMENT: u32 = 0x0CF5;
const GL_PACK_ALIGNMENT: u32 = 0x0D05;

struct Egl {
    get_proc_address: unsafe extern "C" fn(*const u8) -> *mut c_void,
    initialize: unsafe extern "C" fn(EglDisplay, *mut i32, *mut i32) -> u32,
    bind_api: unsafe extern "C" fn(u32) -> u32,
    choose_config:
        unsafe extern "C" fn(EglDisplay, *const i32, *mut EglConfig, i32, *mut i32) -> u32,
    create_pbuffer_surface: unsafe extern "C" fn(EglDisplay, EglConfig, *const i32) -> EglSurface,
    create_context:
        unsafe extern "C" fn(EglDisplay, EglConfig, EglContext, *const i32) -> EglContext,
    make_current: unsafe extern "C" fn(EglDisplay, EglSurface, EglSurface, EglContext) -> u32,
    destroy_context: unsafe extern "C" fn(EglDisplay, EglContext) -> u32,
    destroy_surface: unsafe extern "C" fn(EglDisplay, EglSurface) -> u32,
    get_error: unsafe extern "C" fn() -> i32,
}

struct Gl {
    viewport: unsafe extern "C" fn(i32, i32, i32, i32),
    matrix_mode: unsafe extern "C" fn(u32),
    load_identity: unsafe extern "C" fn(),
    ortho: unsafe extern "C" fn(f64, f64, f64, f64, f64, f64),
    clear_color: unsafe extern "C" fn(f32, f32, f32, f32),
    clear: unsafe extern "C" fn(u32),
    raster_pos2d: unsafe extern "C" fn(f64, f64),
    pixel_storei: unsafe extern "C" fn(u32, i32),
    draw_pixels: unsafe extern "C" fn(i32, i32, u32, u32, *const c_void),
    read_pixels: unsafe extern "C" fn(i32, i32, i32, i32, u32, u32, *mut c_void),
    finish: unsafe extern "C" fn(),
    get_error: unsafe extern "C" fn() -> u32,
}

/// An offscreen OpenGL context of a fixed size.
pub struct GlCanvas {
    _libs: (libloading::Library, libloading::Library),
    egl: Egl,
    gl: Gl,
    display: EglDisplay,
    surface: EglSurface,
    context: EglContext,
    width: u32,
    height: u32,
    /// The view of the frame being drawn.
    view: Option<View>,
}

fn why(e: impl std::fmt::Display) -> HostError {
    HostError::Invalid(format!("no offscreen OpenGL: {e}"))
}

impl GlCanvas {
    /// A `width` x `height` context, or why there can be none here.
    pub fn new(width: u32, height: u32) -> Result<GlCanvas, HostError> {
        // SAFETY: loading the system's EGL and GL libraries runs their initialisers only.
        let egl_lib = unsafe { libloading::Library::new("libEGL.so.1") }.map_err(why)?;
        let gl_lib = unsafe { libloading::Library::new("libGL.so.1") }.map_err(why)?;
        // SAFETY: each symbol has the EGL 1.4 / OpenGL 1.1 signature stated in the struct.
        let (egl, gl) = unsafe {
            macro_rules! sym {
                ($lib:expr, $name:literal) => {
                    *$lib.get($name).map_err(why)?
                };
            }
            (
                Egl {
                    get_proc_address: sym!(egl_lib, b"eglGetProcAddress\0"),
                    initialize: sym!(egl_lib, b"eglInitialize\0"),
                    bind_api: sym!(egl_lib, b"eglBindAPI\0"),
                    choose_config: sym!(egl_lib, b"eglChooseConfig\0"),
                    create_pbuffer_surface: sym!(egl_lib, b"eglCreatePbufferSurface\0"),
                    create_context: sym!(egl_lib, b"eglCreateContext\0"),
                    make_current: sym!(egl_lib, b"eglMakeCurrent\0"),
                    destroy_context: sym!(egl_lib, b"eglDestroyContext\0"),
                    destroy_surface: sym!(egl_lib, b"eglDestroySurface\0"),
                    get_error: sym!(egl_lib, b"eglGetError\0"),
                },
                Gl {
                    viewport: sym!(gl_lib, b"glViewport\0"),
                    matrix_mode: sym!(gl_lib, b"glMatrixMode\0"),
                    load_identity: sym!(gl_lib, b"glLoadIdentity\0"),
                    ortho: sym!(gl_lib, b"glOrtho\0"),
                    clear_color: sym!(gl_lib, b"glClearColor\0"),
                    clear: sym!(gl_lib, b"glClear\0"),
                    raster_pos2d: sym!(gl_lib, b"glRasterPos2d\0"),
                    pixel_storei: sym!(gl_lib, b"glPixelStorei\0"),
                    draw_pixels: sym!(gl_lib, b"glDrawPixels\0"),
                    read_pixels: sym!(gl_lib, b"glReadPixels\0"),
                    finish: sym!(gl_lib, b"glFinish\0"),
                    get_error: sym!(gl_lib, b"glGetError\0"),
                },
            )
        };
        let egl_error = |what: &str| {
            why(format!("{what} failed (EGL error {:#x})", unsafe {
                (egl.get_error)()
            }))
        };
        // SAFETY: EGL calls with arguments built here; every handle is checked before use.
        unsafe {
            let get_platform_display =
                (egl.get_proc_address)(b"eglGetPlatformDisplayEXT\0".as_ptr());
            if get_platform_display.is_null() {
                return Err(why("EGL has no eglGetPlatformDisplayEXT"));
            }
            let get_platform_display: unsafe extern "C" fn(
                u32,
                *mut c_void,
                *const i32,
            ) -> EglDisplay = std::mem::transmute(get_platform_display);
            let display = get_platform_display(
                EGL_PLATFORM_SURFACELESS_MESA,
                std::ptr::null_mut(),
                std::ptr::null(),
            );
            let (mut major, mut minor) = (0, 0);
            if display.is_null() || (egl.initialize)(display, &mut major, &mut minor) == 0 {
                return Err(egl_error("eglInitialize on the surfaceless platform"));
            }
            if (egl.bind_api)(EGL_OPENGL_API) == 0 {
                return Err(egl_error("eglBindAPI(OpenGL)"));
            }
            let attrs = [
                EGL_SURFACE_TYPE,
                EGL_PBUFFER_BIT,
                EGL_RED_SIZE,
                8,
                EGL_GREEN_SIZE,
                8,
                EGL_BLUE_SIZE,
                8,
                EGL_ALPHA_SIZE,
                8,
                EGL_RENDERABLE_TYPE,
                EGL_OPENGL_BIT,
                EGL_NONE,
            ];
            let mut config: EglConfig = std::ptr::null_mut();
            let mut found = 0;
            if (egl.choose_config)(display, attrs.as_ptr(), &mut config, 1, &mut found) == 0
                || found < 1
            {
                return Err(egl_error("eglChooseConfig (RGBA8 pbuffer, OpenGL)"));
            }
            let size = [EGL_WIDTH, width as i32, EGL_HEIGHT, height as i32, EGL_NONE];
            let surface = (egl.create_pbuffer_surface)(display, config, size.as_ptr());
            if surface.is_null() {
                return Err(egl_error("eglCreatePbufferSurface"));
            }
            let context =
                (egl.create_context)(display, config, std::ptr::null_mut(), std::ptr::null());
            if context.is_null() {
                (egl.destroy_surface)(display, surface);
                return Err(egl_error("eglCreateContext"));
            }
            Ok(GlCanvas {
                _libs: (egl_lib, gl_lib),
                egl,
                gl,
                display,
                surface,
                context,
                width,
                height,
                view: None,
            })
        }
    }

    /// Makes the context current on this thread, with canonical coordinates
    /// mapped as `view` says, and draws `background` into it.
    pub(crate) fn begin(&mut self, view: &View, background: &Canvas) -> Result<(), HostError> {
        if (view.width, view.height) != (self.width, self.height) {
            return Err(HostError::Invalid(format!(
                "the GL canvas is {}x{}, the view {}x{}",
                self.width, self.height, view.width, view.height
            )));
        }
        let (g, e) = (&self.gl, &self.egl);
        // SAFETY: our own context and surface; the pixel buffer holds width*height RGBA8.
        unsafe {
            if (e.make_current)(self.display, self.surface, self.surface, self.context) == 0 {
                return Err(why(format!(
                    "eglMakeCurrent (EGL error {:#x})",
                    (e.get_error)()
                )));
            }
            (g.viewport)(0, 0, self.width as i32, self.height as i32);
            (g.matrix_mode)(GL_PROJECTION);
            (g.load_identity)();
            let (x0, y0) = view.origin;
            let (x1, y1) = view.to_canonical((view.width as f64, view.height as f64));
            (g.ortho)(x0, x1, y0, y1, -1.0, 1.0);
            (g.matrix_mode)(GL_MODELVIEW);
            (g.load_identity)();
            (g.clear_color)(0.0, 0.0, 0.0, 0.0);
            (g.clear)(GL_COLOR_BUFFER_BIT);
            // GL's rows go bottom first.
            let row = (background.width * 4) as usize;
            let flipped: Vec<u8> = background
                .rgba
                .chunks_exact(row)
                .rev()
                .flatten()
                .copied()
                .collect();
            (g.pixel_storei)(GL_UNPACK_ALIGNMENT, 1);
            (g.raster_pos2d)(x0, y0);
            (g.draw_pixels)(
                self.width as i32,
                self.height as i32,
                GL_RGBA,
                GL_UNSIGNED_BYTE,
                flipped.as_ptr() as *const c_void,
            );
        }
        self.view = Some(*view);
        Ok(())
    }

    /// Reads the frame back (rows top first) and releases the context.
    pub(crate) fn end(&mut self) -> Result<Canvas, HostError> {
        let (g, e) = (&self.gl, &self.egl);
        let row = (self.width * 4) as usize;
        let mut pixels = vec![0u8; row * self.height as usize];
        // SAFETY: the context made current in `begin`; `pixels` holds the whole frame.
        let error = unsafe {
            (g.finish)();
            (g.pixel_storei)(GL_PACK_ALIGNMENT, 1);
            (g.read_pixels)(
                0,
                0,
                self.width as i32,
                self.height as i32,
                GL_RGBA,
                GL_UNSIGNED_BYTE,
                pixels.as_mut_ptr() as *mut c_void,
            );
            let error = (g.get_error)();
            (e.make_current)(
                self.display,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            error
        };
        self.view = None;
        if error != 0 {
            return Err(HostError::Invalid(format!(
                "OpenGL error {error:#x} after the overlay's draw"
            )));
        }
        Ok(Canvas {
            width: self.width,
            height: self.height,
            rgba: pixels.chunks_exact(row).rev().flatten().copied().collect(),
        })
    }
}

impl Drop for GlCanvas {
    fn drop(&mut self) {
        // SAFETY: our own context and surface, released from this thread.
        unsafe {
            (self.egl.destroy_context)(self.display, self.context);
            (self.egl.destroy_surface)(self.display, self.surface);
        }
    }
}
