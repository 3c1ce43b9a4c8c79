//! Scoring a pair of video files: probe, decode both on their own threads, score, report.

pub fn placeholder() {}
