//! What kind of host to be: the host properties, the suites offered and the
//! way images are laid out for the plugin.

use super::images::{BitDepth, Components};
use super::specs::CONTEXTS;

/// An image effect context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    Filter,
    General,
    Generator,
    Transition,
    Paint,
    Retimer,
}

impl Context {
    pub const ALL: [Context; 6] = [
        Context::Filter,
        Context::General,
        Context::Generator,
        Context::Transition,
        Context::Paint,
        Context::Retimer,
    ];

    pub fn ofx_name(self) -> &'static str {
        CONTEXTS[self as usize]
    }

    pub fn from_ofx(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.ofx_name() == name)
    }
}

/// Memory order of the rows handed to the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowOrder {
    /// Row `bounds.y1` first, positive `rowBytes` (the usual layout).
    BottomUp,
    /// Top row first: negative `rowBytes`, the data pointer at the last row in memory.
    TopDown,
}

/// How much of an input `clipGetImage` returns when the plugin passes no region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputRegion {
    /// The region of interest the plugin asked for, clipped to the clip's RoD
    /// (what OFX promises: reading outside it is a plugin bug).
    RegionOfInterest,
    /// The clip's whole region of definition.
    Full,
}

/// Project settings seen by instances.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// Canonical size, offset and extent (`kOfxImageEffectPropProject*`).
    pub size: (f64, f64),
    pub offset: (f64, f64),
    pub extent: (f64, f64),
    pub pixel_aspect: f64,
    pub frame_rate: f64,
    /// First and last frame: the timeline bounds and the default frame range.
    pub frame_range: (f64, f64),
}

impl Default for Project {
    fn default() -> Self {
        Project {
            size: (1920.0, 1080.0),
            offset: (0.0, 0.0),
            extent: (1920.0, 1080.0),
            pixel_aspect: 1.0,
            frame_rate: 24.0,
            frame_range: (1.0, 100.0),
        }
    }
}

/// How the host presents itself and behaves. `Default` is Natron-like.
#[derive(Clone, Debug, PartialEq)]
pub struct HostConfig {
    /// `kOfxPropName` of the host.
    pub name: String,
    pub label: String,
    pub version: [i32; 3],
    pub is_background: bool,
    pub contexts: Vec<Context>,
    pub depths: Vec<BitDepth>,
    pub components: Vec<Components>,
    pub supports_tiles: bool,
    pub supports_multi_resolution: bool,
    pub temporal_clip_access: bool,
    pub multiple_clip_depths: bool,
    pub multiple_clip_pars: bool,
    pub string_animation: bool,
    pub max_parameters: i32,
    pub max_pages: i32,
    /// Optional suites. Property, parameter, image effect and memory suites are
    /// always offered.
    pub offer_message_v2: bool,
    pub offer_progress: bool,
    pub offer_multithread: bool,
    pub offer_timeline: bool,
    /// The OpenFX 1.5 Draw Suite, and a draw context in every overlay draw
    /// (Natron 2.5 and Nuke have neither: their overlays draw with OpenGL).
    pub offer_draw_suite: bool,
    /// The host draws its own viewer handles for 2D positions, as Nuke does
    /// (`kOfxParamPropHasHostOverlayHandle` on every Double2D parameter).
    pub position_handles: bool,
    /// CPUs reported by `multiThreadNumCPUs`; 0 = the machine's parallelism.
    pub threads: usize,
    pub project: Project,
    /// Reply to `kOfxMessageQuestion` messages.
    pub answer_questions_yes: bool,
    pub row_order: RowOrder,
    /// Spare bytes after every row of the images handed to the plugin (catches
    /// plugins that ignore `rowBytes`).
    pub row_padding: usize,
    pub input_region: InputRegion,
    /// Canary pixels around the output bounds, checked after each render for
    /// writes outside the buffer.
    pub guard_pixels: i32,
    /// Checksum input images when handed out and released, to catch a plugin
    /// writing into them (a pass over every input pixel; the renderer turns it off).
    pub verify_inputs: bool,
    /// Fill output buffers with canaries and check them after each render for
    /// writes outside the window, into row padding, or window pixels left
    /// unwritten (two passes and a copy per render; the renderer turns it off,
    /// and the plugin's pixels then go to the caller without a copy).
    pub check_output: bool,
    /// `render_frame` / `render_tiled` hand the plugin output images this many
    /// pixels larger than the render window on every side (the plugin must
    /// still write only the window).
    pub output_margin: i32,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            name: "org.collapse.testhost".into(),
            label: "Collapse strict test host".into(),
            version: [1, 0, 0],
            is_background: true,
            contexts: vec![Context::Filter, Context::General, Context::Generator],
            depths: vec![
                BitDepth::Byte,
                BitDepth::Short,
                BitDepth::Half,
                BitDepth::Float,
            ],
            components: vec![Components::Rgba, Components::Rgb, Components::Alpha],
            supports_tiles: true,
            supports_multi_resolution: true,
            temporal_clip_access: true,
            multiple_clip_depths: false,
            multiple_clip_pars: false,
            string_animation: true,
            max_parameters: -1,
            max_pages: 0,
            offer_message_v2: true,
            offer_progress: true,
            offer_multithread: true,
            offer_timeline: true,
            offer_draw_suite: false,
            position_handles: false,
            threads: 0,
            project: Project::default(),
            answer_questions_yes: true,
            row_order: RowOrder::BottomUp,
            row_padding: 0,
            input_region: InputRegion::RegionOfInterest,
            guard_pixels: 8,
            verify_inputs: true,
            check_output: true,
            output_margin: 0,
        }
    }
}

impl Project {
    /// A project of `width` x `height` pixels (size and extent), frames `range`.
    pub fn frames(width: f64, height: f64, range: (f64, f64)) -> Project {
        Project {
            size: (width, height),
            extent: (width, height),
            frame_range: range,
            ..Project::default()
        }
    }
}

impl HostConfig {
    /// A production host, as a farm renderer is: input frames handed to the
    /// plugin in place and output buffers taken without canary checks (the
    /// tests keep both checks on).
    pub fn production(project: Project) -> HostConfig {
        HostConfig {
            verify_inputs: false,
            check_output: false,
            project,
            ..HostConfig::default()
        }
    }

    /// CPUs offered to the plugin.
    pub fn cpus(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}
