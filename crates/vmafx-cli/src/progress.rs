//! The progress bar on stderr: frames, speed and ETA, drawn only when stderr is a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new(quiet: bool) -> Self {
        // indicatif draws nothing when stderr is not a terminal.
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        Self { bar: ProgressBar::with_draw_target(None, target) }
    }

    pub fn start(&mut self, total: Option<u64>) {
        let style = match total {
            Some(n) => {
                self.bar.set_length(n);
                ProgressStyle::with_template(
                    "{spinner} scoring [{bar:30}] {pos}/{len} frames  {rate}  ETA {eta}",
                )
            }
            None => ProgressStyle::with_template("{spinner} scoring {pos} frames  {rate}  {elapsed}"),
        };
        if let Ok(style) = style {
            // `12.4 fps`, not indicatif's `12.4045/s`.
            let rate = |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1} fps", s.per_sec());
            };
            self.bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
        }
        self.bar.enable_steady_tick(Duration::from_millis(200));
    }

    pub fn set(&mut self, done: u64) {
        self.bar.set_position(done);
    }

    /// Prints a line above the bar (or plainly when there is no bar).
    pub fn println(&mut self, line: &str, suppress: bool) {
        if suppress {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}
