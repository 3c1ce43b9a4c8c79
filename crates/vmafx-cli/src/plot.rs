//! `--plot FILE`: the report's per-frame plot ([`vmafx_core::plot`]) written as SVG, or
//! rasterised to PNG with resvg and an embedded DejaVu Sans (no system fonts needed).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use vmafx_core::Report;

/// A `--plot` file: its path, and its format from its name (checked when the arguments are
/// parsed, so a bad name fails before any work).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotFile {
    pub path: PathBuf,
    pub format: PlotFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    Svg,
    Png,
}

impl PlotFile {
    /// `.svg` or `.png` (any case); anything else is refused, naming the file.
    pub fn parse(s: &str) -> Result<Self, String> {
        let path = PathBuf::from(s);
        let format = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("svg") => PlotFormat::Svg,
            Some("png") => PlotFormat::Png,
            _ => {
                return Err(format!(
                    "`{s}`: the file name must end in .svg or .png (the format is taken from it)"
                ))
            }
        };
        Ok(Self { path, format })
    }

    /// Draws the plot of `report` into this file, saying so unless `quiet`.
    pub fn write(&self, report: &Report, quiet: bool) -> anyhow::Result<()> {
        let svg = vmafx_core::plot::svg(report);
        let bytes = match self.format {
            PlotFormat::Svg => svg.into_bytes(),
            PlotFormat::Png => png(&svg)?,
        };
        std::fs::write(&self.path, bytes)
            .with_context(|| format!("cannot write the plot to `{}`", self.path.display()))?;
        if !quiet {
            eprintln!("wrote the per-frame plot to {}", self.path.display());
        }
        Ok(())
    }
}

/// The plot of `report` as a PNG image (the SVG drawn at twice its size, for sharp text).
pub fn png(svg: &str) -> anyhow::Result<Vec<u8>> {
    let mut fonts = resvg::usvg::fontdb::Database::new();
    fonts.load_font_data(dejavu::sans::regular().to_vec());
    fonts.load_font_data(dejavu::sans::bold().to_vec());
    let options = resvg::usvg::Options {
        fontdb: Arc::new(fonts),
        font_family: "DejaVu Sans".into(),
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options).context("the plot's SVG does not parse")?;
    let scale = 2.0;
    let size = tree.size().to_int_size().scale_by(scale).context("the plot is too large to draw")?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .context("the plot is too large to draw")?;
    resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().context("cannot encode the plot as PNG")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_name() {
        assert_eq!(PlotFile::parse("a/b.SVG").unwrap().format, PlotFormat::Svg);
        assert_eq!(PlotFile::parse("b.png").unwrap().format, PlotFormat::Png);
        let e = PlotFile::parse("plot.jpg").unwrap_err();
        assert!(e.contains("`plot.jpg`") && e.contains(".svg or .png"), "{e}");
        assert!(PlotFile::parse("plot").is_err());
    }

    #[test]
    fn text_is_drawn_with_the_embedded_font() {
        // The same rectangle with and without a label: the label puts dark pixels in the PNG.
        let page = |text: &str| {
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="white"/><text x="4" y="28" font-family="DejaVu Sans" font-size="20">{text}</text></svg>"#
            )
        };
        let dark = |png: Vec<u8>| {
            let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
            pixmap.pixels().iter().filter(|p| p.red() < 128).count()
        };
        assert_eq!(dark(png(&page("")).unwrap()), 0);
        assert!(dark(png(&page("VMAF 93")).unwrap()) > 100);
    }
}
