//! What inputs are, remembered by path, size and modification time: a process handed the
//! same reference many times (a controller's submissions, a node's segments, a CRF search's
//! samples) probes it once. A file that changes (another size or time) is probed again.
//! [`Tools::remembering_probes`] attaches one; [`crate::probe`] then uses it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::probe::{probe_uncached, Probe, Tools};
use crate::{MediaError, RawFormat};

/// Inputs remembered at most; past this the cache starts over.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    raw: Option<String>,
    ffprobe: PathBuf,
}

#[derive(Default, Debug)]
pub struct ProbeCache {
    probes: Mutex<HashMap<Key, Probe>>,
}

impl ProbeCache {
    /// [`crate::probe`], from memory when this file (same path, size and modification time)
    /// was probed before with the same ffprobe.
    pub(crate) fn probe(
        &self,
        path: &Path,
        raw: Option<&RawFormat>,
        tools: &Tools,
    ) -> Result<Probe, MediaError> {
        let Some(key) = std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| Key {
            path: path.to_path_buf(),
            len: m.len(),
            modified: m.modified().ok(),
            raw: raw.map(|r| format!("{r:?}")),
            ffprobe: tools.ffprobe.clone(),
        }) else {
            // Not a readable file: let probe say what is wrong.
            return probe_uncached(path, raw, tools);
        };
        if let Some(known) = self.probes.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(known.clone());
        }
        let probed = probe_uncached(path, raw, tools)?;
        let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        if probes.len() >= MAX_ENTRIES {
            probes.clear();
        }
        probes.insert(key, probed.clone());
        Ok(probed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::probe;

    #[test]
    fn a_file_is_probed_again_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("a.y4m");
        crate::y4m::write_pattern(&clip, 16, 16, 3, 0).unwrap();
        let tools = Tools::default().remembering_probes();
        let cache = tools.probes.clone().unwrap();
        assert_eq!(probe(&clip, None, &tools).unwrap().frame_count, Some(3));
        assert_eq!(cache.probes.lock().unwrap().len(), 1);
        assert_eq!(probe(&clip, None, &tools).unwrap().frame_count, Some(3));
        assert_eq!(cache.probes.lock().unwrap().len(), 1, "the second probe came from memory");
        // Rewritten with more frames: another size, probed again.
        crate::y4m::write_pattern(&clip, 16, 16, 5, 0).unwrap();
        assert_eq!(probe(&clip, None, &tools).unwrap().frame_count, Some(5));
        std::fs::remove_file(&clip).unwrap();
        assert!(probe(&clip, None, &tools).is_err(), "a file gone is an error, not a memory");
        // Tools without a cache run ffprobe each time.
        assert!(Tools::default().probes.is_none());
    }
}
