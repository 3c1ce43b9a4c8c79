//! What a run did to its inputs or may have got wrong: notes (a conversion, a rotation left
//! alone) and warnings (HDR content, interlacing, a shorter input). Reports carry them in
//! `vmafx.notes`; cluster jobs carry them in their result.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteLevel {
    /// Something changed or was decided that does not make the scores doubtful.
    Note,
    /// Something that may make the scores not what the user expects.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Note {
    pub level: NoteLevel,
    pub message: String,
}

impl Note {
    pub fn info(message: impl Into<String>) -> Self {
        Self { level: NoteLevel::Note, message: message.into() }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self { level: NoteLevel::Warning, message: message.into() }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            NoteLevel::Note => "note",
            NoteLevel::Warning => "warning",
        };
        write!(f, "{level}: {}", self.message)
    }
}
