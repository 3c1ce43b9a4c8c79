//! A decoded frame as a PNG picture, for people to look at (the dashboard's worst frames):
//! ffmpeg converts the frame's planes, exactly as libvmaf got them, to RGB (swscale's
//! default matrix for the frame's size) and writes one PNG to a pipe.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{FrameBuffer, MediaError};

/// `frame` as a PNG, scaled down (bicubic, aspect kept) when wider than `max_width`; 0: as
/// is. `what` names the frame in errors.
pub fn png(ffmpeg: &Path, frame: &FrameBuffer, max_width: u32, what: &Path) -> Result<Vec<u8>, MediaError> {
    let format = frame.format();
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt"])
        .arg(format.pix_fmt.ffmpeg_name())
        .arg("-s")
        .arg(format!("{}x{}", format.width, format.height))
        .args(["-i", "pipe:0"]);
    if max_width > 0 && format.width > max_width {
        cmd.arg("-vf").arg(format!("scale={max_width}:-2:flags=bicubic"));
    }
    cmd.args(["-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "pipe:1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let tool = |source| MediaError::Tool { program: ffmpeg.display().to_string(), source };
    let mut child = cmd.spawn().map_err(tool)?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let planes: Vec<u8> = frame.planes().concat();
    // Written from a thread: ffmpeg may fill its output pipe before it has read all input.
    let writer = std::thread::spawn(move || stdin.write_all(&planes));
    let mut out = Vec::new();
    child.stdout.take().expect("piped stdout").read_to_end(&mut out).map_err(tool)?;
    let mut err = String::new();
    let _ = child.stderr.take().expect("piped stderr").read_to_string(&mut err);
    let status = child.wait().map_err(tool)?;
    let _ = writer.join();
    if !status.success() || out.is_empty() {
        return Err(MediaError::EncodeFailed {
            input: what.into(),
            message: format!("making a PNG picture failed ({status}): {}", err.trim()),
        });
    }
    Ok(out)
}
