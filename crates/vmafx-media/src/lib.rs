//! Everything that turns a video file into raw frames.
//!
//! Y4M and raw YUV are read natively ([`y4m`], [`raw`]); anything else is probed with ffprobe
//! ([`probe`]) and decoded by an ffmpeg subprocess that writes raw planar YUV into a pipe
//! ([`decode`]). [`matching`] holds the one rule that brings a distorted video to its
//! reference (orientation, frame rate, size, pixel format, range) and says what it changed. Frames are read straight into buffers the caller owns
//! (for the engine: libvmaf pictures), one frame at a time, so memory does not grow with clip
//! length and nothing is written to disk.

pub mod decode;
pub mod downscale;
pub mod encode;
pub mod error;
pub mod format;
pub mod libav;
pub mod location;
pub mod matching;
pub mod nr;
pub mod orientation;
pub mod picture;
pub mod probe;
pub mod probe_cache;
pub mod raw;
pub mod reader;
pub mod roots;
pub mod seek;
pub mod sync;
pub mod tool;
pub mod y4m;

pub use decode::{cut_y4m, DecodeOptions, Decoder, FfmpegReader};
pub use downscale::{Downscaled, Shrink};
pub use encode::{describe_encoder, encode, encode_streaming, svtav1_version, Encoded};
pub use error::MediaError;
pub use format::{Chroma, PixelFormat, Range, Rate, VideoFormat};
pub use libav::LibavReader;
pub use matching::{plan, Conversion, InputSettings, MatchOptions, MatchPlan};
pub use orientation::Orientation;
pub use probe::{count_frames, probe, probe_native, ColorTags, Container, Probe, Tools};
pub use probe_cache::ProbeCache;
pub use raw::{RawFormat, RawReader};
pub use reader::{open_reader, FrameBuffer, FrameReader, PlaneMut, Stopper, StreamedInput};
pub use roots::AllowedRoots;
pub use seek::{seek_args, seek_seconds};
pub use y4m::Y4mReader;
