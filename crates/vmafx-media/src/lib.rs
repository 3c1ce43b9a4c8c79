//! Everything that turns a video file into raw frames.
//!
//! Y4M is parsed natively ([`y4m`]); anything else is probed with ffprobe ([`probe`]) and
//! decoded by an ffmpeg subprocess that writes raw planar YUV into a pipe ([`decode`]), scaled
//! to the reference's size when asked. Frames are read straight into buffers the caller owns
//! (for the engine: libvmaf pictures), one frame at a time, so memory does not grow with clip
//! length and nothing is written to disk.

pub mod decode;
pub mod encode;
pub mod error;
pub mod format;
pub mod probe;
pub mod reader;
pub mod y4m;

pub use decode::{DecodeOptions, FfmpegReader};
pub use encode::{encode, Encoded};
pub use error::MediaError;
pub use format::{Chroma, PixelFormat, VideoFormat};
pub use probe::{probe, probe_native, Container, Probe, Tools};
pub use reader::{open_input, open_reader, FrameReader, PlaneMut};
pub use y4m::Y4mReader;
