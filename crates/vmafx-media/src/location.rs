//! Where an input's bytes are: a file path, or an `http(s)://` URL — what `vmafx-storage`
//! turns every remote input into (a presigned object-store URL, a plain web server, a node's
//! `rclone serve http` on loopback). As for ffmpeg, an input "path" is either.
//!
//! ffmpeg reads a URL itself, seeking by byte ranges; Y4M and raw YUV are read natively with
//! ranged GETs ([`HttpFile`]). Nothing is copied to disk on the way. Every ffmpeg and ffprobe
//! that opens an input is given [`input_args`]: only the protocols that input needs, and only
//! demuxers that read one stream (no HLS playlist, `concat` list or image pattern that opens
//! further files or URLs).

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

/// Demuxers an input may be read with: single-file containers and elementary streams. Those
/// that open other files or URLs named inside the input (hls, dash, concat, image2, tee, …)
/// are left out.
pub const DEMUXERS: &str = "mov,matroska,webm,mpegts,mpegtsraw,avi,flv,ivf,yuv4mpegpipe,rawvideo,\
                            h264,hevc,vvc,av1,obu,mxf,nut,ogg,asf,mpeg,mpegvideo,m4v,dv,dirac,\
                            mjpeg,apv,vc1,wav,mp3,aac";

/// Whether `path` is an `http://` or `https://` URL.
pub fn is_url(path: &Path) -> bool {
    let text = path.as_os_str().as_encoded_bytes();
    text.len() > 8
        && (text[..7].eq_ignore_ascii_case(b"http://") || text[..8].eq_ignore_ascii_case(b"https://"))
}

/// `path` as errors and logs write it: a URL without its query (presigned signatures).
pub fn shown(path: &Path) -> String {
    match is_url(path) {
        true => vmafx_core::input::shown(&path.to_string_lossy()),
        false => path.display().to_string(),
    }
}

/// ffmpeg/ffprobe input options that go before `-i path`: the protocols that input needs and
/// the demuxers it may use.
pub fn input_args(path: &Path) -> Vec<String> {
    let protocols = if is_url(path) { "http,https,tcp,tls" } else { "file,pipe,fd" };
    ["-protocol_whitelist", protocols, "-format_whitelist", DEMUXERS].map(String::from).into()
}

/// Opens `path` for reading from its start, with its length.
pub fn open(path: &Path) -> io::Result<(Box<dyn ReadSeek>, u64)> {
    if is_url(path) {
        let file = HttpFile::open(&path.to_string_lossy())?;
        let len = file.len;
        return Ok((Box::new(file), len));
    }
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    Ok((Box::new(file), len))
}

/// A reader that seeks: a file, or a web server's file read with ranged GETs.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// How long a server may take to answer; a body that stalls longer fails the read (the
/// attempt, for a node: the item goes to another).
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// A forward seek shorter than this reads through instead of asking again.
const READ_THROUGH: u64 = 256 * 1024;
/// The first range asked for after opening or seeking: a header or an index read costs the
/// server no more than this. Each range read to its end doubles the next, up to the largest.
const FIRST_RANGE: u64 = 64 * 1024;
const LARGEST_RANGE: u64 = 64 * 1024 * 1024;

/// The response being read: where it is in the file, where it ends (exclusive), its body.
struct Body {
    at: u64,
    end: u64,
    reader: ureq::BodyReader<'static>,
}

/// A remote file read with ranged GETs: reads going forward stream ranges that double in size
/// (64 KiB to 64 MiB); a seek elsewhere starts small again. Needs a server that honours
/// `Range` (object stores, rclone, nginx and most web servers).
pub struct HttpFile {
    agent: ureq::Agent,
    url: String,
    len: u64,
    pos: u64,
    next_range: u64,
    body: Option<Body>,
}

impl HttpFile {
    /// Asks for the first byte, which says the length and that ranges are served.
    pub fn open(url: &str) -> io::Result<HttpFile> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(HTTP_TIMEOUT))
            .timeout_recv_body(Some(HTTP_TIMEOUT))
            // A redirect could point anywhere; the address was checked, its answer is final.
            .max_redirects(0)
            .build()
            .into();
        let mut file =
            HttpFile { agent, url: url.to_string(), len: 0, pos: 0, next_range: FIRST_RANGE, body: None };
        let response = file.get(0, Some(0))?;
        file.len = match response.headers().get("content-range").and_then(|v| v.to_str().ok()) {
            Some(range) => {
                total_of(range).ok_or_else(|| io::Error::other(format!("bad Content-Range `{range}`")))?
            }
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the server does not serve byte ranges (no 206 answer to `Range: bytes=0-0`)",
                ))
            }
        };
        Ok(file)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn get(&self, from: u64, to: Option<u64>) -> io::Result<ureq::http::Response<ureq::Body>> {
        let range = match to {
            Some(to) => format!("bytes={from}-{to}"),
            None => format!("bytes={from}-"),
        };
        let response =
            self.agent.get(&self.url).header("Range", range).call().map_err(|e| {
                io::Error::other(format!("HTTP request failed: {}", strip_url(&e.to_string())))
            })?;
        let status = response.status().as_u16();
        match status {
            206 => Ok(response),
            // An empty object answers a range it cannot satisfy.
            416 if from == 0 => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file is empty")),
            200 => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the server does not serve byte ranges (it answered 200 to a ranged GET)",
            )),
            404 | 410 => {
                Err(io::Error::new(io::ErrorKind::NotFound, format!("no such object (HTTP {status})")))
            }
            401 | 403 => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("access denied (HTTP {status}; an expired or wrong signature also answers this)"),
            )),
            412 => Err(io::Error::other("the object changed since the job was submitted (HTTP 412)")),
            300..=399 => Err(io::Error::other(format!(
                "the server redirects (HTTP {status}); redirects are not followed: give the final URL"
            ))),
            _ => Err(io::Error::other(format!("HTTP {status}"))),
        }
    }
}

/// The total of a `Content-Range: bytes A-B/TOTAL` header.
fn total_of(range: &str) -> Option<u64> {
    range.strip_prefix("bytes ")?.split_once('/')?.1.trim().parse().ok()
}

/// ureq's messages may quote the URL; its query holds a signature.
fn strip_url(message: &str) -> String {
    message
        .split(' ')
        .map(|w| if w.contains("://") { vmafx_core::input::shown(w) } else { w.to_string() })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Read for HttpFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let current = self.body.as_ref().is_some_and(|b| b.at == self.pos && b.at < b.end);
        if !current {
            // Read on from where the last range ended: the next one is larger.
            if self.body.as_ref().is_some_and(|b| b.at == self.pos) {
                self.next_range = (self.next_range * 2).min(LARGEST_RANGE);
            }
            let end = (self.pos + self.next_range).min(self.len);
            let response = self.get(self.pos, Some(end - 1))?;
            self.body = Some(Body { at: self.pos, end, reader: response.into_body().into_reader() });
        }
        let body = self.body.as_mut().expect("just opened");
        let want = buf.len().min((body.end - body.at) as usize);
        let n = body.reader.read(&mut buf[..want])?;
        if n == 0 {
            // The server ended the body before the range it stated: a dropped connection.
            self.body = None;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the connection ended at byte {} of {}", self.pos, self.len),
            ));
        }
        body.at += n as u64;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for HttpFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target == self.pos {
            return Ok(target);
        }
        // Close ahead within the open range: read through rather than ask again.
        if let Some(body) = self.body.as_mut() {
            if target >= body.at && target - body.at <= READ_THROUGH && target <= body.end {
                let skip = target - body.at;
                let copied = io::copy(&mut (&mut body.reader).take(skip), &mut io::sink())?;
                body.at += copied;
                self.pos += copied;
                if copied == skip {
                    return Ok(target);
                }
            }
        }
        self.body = None;
        self.next_range = FIRST_RANGE;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url(Path::new("https://h/a.mp4")));
        assert!(is_url(Path::new("HTTP://h/a.y4m")));
        assert!(!is_url(Path::new("http:/x")));
        assert!(!is_url(Path::new("./https://x")));
        assert!(!is_url(Path::new("/tmp/a.mp4")));
        assert_eq!(shown(Path::new("https://h/b/k?X-Amz-Signature=s")), "https://h/b/k?…");
        assert_eq!(shown(Path::new("/a?b")), "/a?b");
    }

    #[test]
    fn ffmpeg_is_fenced_to_the_input_it_was_given() {
        let url = input_args(Path::new("https://h/a.mp4"));
        assert_eq!(url[..2], ["-protocol_whitelist", "http,https,tcp,tls"]);
        let file = input_args(Path::new("/a.mp4"));
        assert_eq!(file[..2], ["-protocol_whitelist", "file,pipe,fd"]);
        for refused in ["hls", "concat", "image2", "dash", "tee"] {
            assert!(!DEMUXERS.split(',').any(|d| d == refused), "{refused}");
        }
        assert_eq!(total_of("bytes 0-0/1234"), Some(1234));
        assert_eq!(total_of("bytes */1234"), Some(1234));
        assert_eq!(total_of("bytes 0-0/*"), None);
    }
}
