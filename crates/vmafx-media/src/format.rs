//! Planar YUV pixel formats that libvmaf scores, and their memory layout.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chroma {
    C420,
    C422,
    C444,
}

/// A planar YUV layout: chroma subsampling and bits per sample (8..=16; above 8, two
/// little-endian bytes per sample as ffmpeg's `*le` formats and Y4M store them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelFormat {
    pub chroma: Chroma,
    pub bit_depth: u8,
}

impl PixelFormat {
    pub const YUV420P: PixelFormat = PixelFormat { chroma: Chroma::C420, bit_depth: 8 };

    pub fn new(chroma: Chroma, bit_depth: u8) -> Self {
        Self { chroma, bit_depth }
    }

    /// Parses ffmpeg's name of a planar YUV format (`yuv420p`, `yuvj444p`, `yuv422p10le`...).
    pub fn from_ffmpeg(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("yuvj").or_else(|| name.strip_prefix("yuv"))?;
        let chroma = match rest.get(..3)? {
            "420" => Chroma::C420,
            "422" => Chroma::C422,
            "444" => Chroma::C444,
            _ => return None,
        };
        let bits = rest[3..].strip_prefix('p')?;
        let bit_depth = match bits {
            "" => 8,
            b => b.strip_suffix("le")?.parse().ok()?,
        };
        matches!(bit_depth, 8 | 9 | 10 | 12 | 14 | 16).then_some(Self { chroma, bit_depth })
    }

    /// ffmpeg's name for this format (`yuv420p`, `yuv444p12le`).
    pub fn ffmpeg_name(&self) -> String {
        let c = self.chroma_str();
        match self.bit_depth {
            8 => format!("yuv{c}p"),
            b => format!("yuv{c}p{b}le"),
        }
    }

    fn chroma_str(&self) -> &'static str {
        match self.chroma {
            Chroma::C420 => "420",
            Chroma::C422 => "422",
            Chroma::C444 => "444",
        }
    }

    pub fn bytes_per_sample(&self) -> usize {
        if self.bit_depth > 8 {
            2
        } else {
            1
        }
    }

    /// Width and height in samples of each of the three planes.
    pub fn plane_dims(&self, width: u32, height: u32) -> [(usize, usize); 3] {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = match self.chroma {
            Chroma::C420 => (w.div_ceil(2), h.div_ceil(2)),
            Chroma::C422 => (w.div_ceil(2), h),
            Chroma::C444 => (w, h),
        };
        [(w, h), (cw, ch), (cw, ch)]
    }

    /// Bytes of one packed frame (planes back to back, no padding).
    pub fn frame_bytes(&self, width: u32, height: u32) -> usize {
        self.plane_dims(width, height).iter().map(|(w, h)| w * h * self.bytes_per_sample()).sum()
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ffmpeg_name())
    }
}

/// Which code values a video uses: limited ("TV", Y 16..235 at 8 bits) or full ("PC",
/// 0..255). The same pixels mean different colours in each, so the two inputs must agree
/// before libvmaf compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Range {
    #[default]
    Limited,
    Full,
}

impl Range {
    /// The name ffmpeg's scale filter takes (`in_range=`, `out_range=`).
    pub fn ffmpeg_name(&self) -> &'static str {
        match self {
            Range::Limited => "limited",
            Range::Full => "full",
        }
    }

    /// From ffprobe's `color_range` (`tv`, `pc`) or a pixel format that implies it (`yuvj*`).
    pub fn from_tags(color_range: Option<&str>, pix_fmt: &str) -> Option<Range> {
        match color_range {
            Some("pc" | "jpeg" | "full") => Some(Range::Full),
            Some("tv" | "mpeg" | "limited") => Some(Range::Limited),
            _ if pix_fmt.starts_with("yuvj") => Some(Range::Full),
            _ => None,
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Range::Limited => "limited range",
            Range::Full => "full range",
        })
    }
}

/// A frame rate as an exact fraction (`24000/1001`), reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub num: u32,
    pub den: u32,
}

impl Rate {
    /// `None` for a zero or undefined rate.
    pub fn new(num: u64, den: u64) -> Option<Rate> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Rate { num: u32::try_from(num / g).ok()?, den: u32::try_from(den / g).ok()? })
    }

    /// Parses `24000/1001`, `25:1` or `25`.
    pub fn parse(text: &str) -> Option<Rate> {
        let (n, d) = text.split_once(['/', ':']).unwrap_or((text, "1"));
        Rate::new(n.trim().parse().ok()?, d.trim().parse().ok()?)
    }

    pub fn as_f64(&self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// Size and pixel format of decoded frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoFormat {
    pub width: u32,
    pub height: u32,
    pub pix_fmt: PixelFormat,
}

/// The widest or tallest picture vmafx takes (16K): a size a header or a client states past
/// it is more likely corrupt or hostile than real.
pub const MAX_DIMENSION: u32 = 16_384;

/// The largest frame vmafx takes: 16K 4:2:0 at 8 bits fits, 16K 4:4:4 at 16 bits does not.
pub const MAX_FRAME_BYTES: u64 = 1 << 30;

impl VideoFormat {
    pub fn frame_bytes(&self) -> usize {
        self.pix_fmt.frame_bytes(self.width, self.height)
    }

    /// Refuses a size no frame buffer should be allocated for: a side of 0 or past
    /// [`MAX_DIMENSION`], or a frame past [`MAX_FRAME_BYTES`].
    pub fn check_size(&self) -> Result<(), String> {
        let (w, h) = (self.width, self.height);
        if !(1..=MAX_DIMENSION).contains(&w) || !(1..=MAX_DIMENSION).contains(&h) {
            return Err(format!("size {w}x{h} is out of range (1 to {MAX_DIMENSION} pixels each side)"));
        }
        if self.frame_bytes() as u64 > MAX_FRAME_BYTES {
            return Err(format!("a {w}x{h} {} frame takes more than {MAX_FRAME_BYTES} bytes", self.pix_fmt));
        }
        Ok(())
    }
}

impl fmt::Display for VideoFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{} {}", self.width, self.height, self.pix_fmt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffmpeg_names_round_trip() {
        for name in ["yuv420p", "yuv422p", "yuv444p", "yuv420p10le", "yuv444p12le", "yuv422p16le"] {
            assert_eq!(PixelFormat::from_ffmpeg(name).unwrap().ffmpeg_name(), name);
        }
        assert_eq!(PixelFormat::from_ffmpeg("yuvj420p"), Some(PixelFormat::YUV420P));
        for bad in ["nv12", "rgb24", "gray", "yuv420p10be", "yuva420p", "yuv411p", "p010le"] {
            assert_eq!(PixelFormat::from_ffmpeg(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges_and_rates_from_tags() {
        assert_eq!(Range::from_tags(Some("pc"), "yuv420p"), Some(Range::Full));
        assert_eq!(Range::from_tags(None, "yuvj420p"), Some(Range::Full));
        assert_eq!(Range::from_tags(Some("tv"), "yuvj420p"), Some(Range::Limited));
        assert_eq!(Range::from_tags(Some("unknown"), "yuv420p"), None);
        assert_eq!(Rate::parse("48000/2002"), Some(Rate { num: 24000, den: 1001 }));
        assert_eq!(Rate::parse("25:1").unwrap().to_string(), "25");
        assert_eq!(Rate::parse("0/0"), None);
    }

    #[test]
    fn frame_sizes() {
        let f = PixelFormat::YUV420P;
        assert_eq!(f.frame_bytes(1920, 1080), 1920 * 1080 * 3 / 2);
        assert_eq!(f.plane_dims(5, 3), [(5, 3), (3, 2), (3, 2)]);
        let f = PixelFormat::new(Chroma::C422, 10);
        assert_eq!(f.frame_bytes(4, 2), (8 + 4 + 4) * 2);
        let f = PixelFormat::new(Chroma::C444, 12);
        assert_eq!(f.frame_bytes(4, 2), 8 * 3 * 2);
    }
}
