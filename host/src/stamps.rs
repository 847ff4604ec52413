//! Stamps: what the compile cache knows of a component file without reading
//! it. A stamp is named by the file's identity (device, inode, size,
//! modification and change times) and holds its content hash; any write to
//! the file changes its change time, so a stamp never outlives the bytes it
//! names. A stamp is only made for a file that has not changed for
//! [`SETTLED`] (as git does for its index: a rewrite within one tick of the
//! file system's clock would otherwise keep the identity).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::cache::{forget_old, write_atomically};

/// How long a file must have been left alone before it is stamped: more
/// than the coarsest timestamp granularity of the file systems in use.
pub const SETTLED: Duration = Duration::from_secs(2);

/// The stamp of one component file in a cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    file: PathBuf,
    changed: SystemTime,
}

impl Stamp {
    /// The stamp of the component at `path` in `cache_dir` (one `stat`), or
    /// none where file identities are not known (not Unix) or `path` is missing.
    pub fn of(cache_dir: &Path, path: &Path) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(path).ok()?;
            let identity =
                format!("{:x}-{:x}-{:x}-{}.{}-{}.{}", m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec());
            let at = |secs: i64, nanos: i64| {
                let secs = u64::try_from(secs).unwrap_or(0);
                SystemTime::UNIX_EPOCH + Duration::new(secs, u32::try_from(nanos).unwrap_or(0))
            };
            let changed = at(m.mtime(), m.mtime_nsec()).max(at(m.ctime(), m.ctime_nsec()));
            Some(Self { file: cache_dir.join("stamps").join(identity), changed })
        }
        #[cfg(not(unix))]
        {
            let _ = (cache_dir, path);
            None
        }
    }

    /// The content hash the stamp holds, if it was made.
    pub fn content(&self) -> Option<String> {
        let text = spec_kitty_origin::files::read_bounded(&self.file, 64).ok()??;
        let hash = text.trim();
        (hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hash.to_string())
    }

    /// Records `content` as the hash of the file, unless it changed within
    /// [`SETTLED`] of now; removes stamps forgotten for a month. Whether it
    /// was recorded.
    pub fn record(&self, content: &str) -> bool {
        let settled = SystemTime::now().duration_since(self.changed).is_ok_and(|age| age > SETTLED);
        if !settled || write_atomically(&self.file, content.as_bytes()).is_err() {
            return false;
        }
        if let Some(dir) = self.file.parent() {
            forget_old(dir, |_| true);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_changed_just_now_is_not_stamped_and_a_settled_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let component = dir.path().join("c.wasm");
        std::fs::write(&component, b"one").unwrap();
        let cache = dir.path().join("cache");
        let fresh = Stamp::of(&cache, &component).unwrap();
        assert!(!fresh.record("0123456789abcdef0123456789abcdef"), "a file written within the last tick is not stamped");
        assert_eq!(fresh.content(), None);
        let settled = Stamp { changed: SystemTime::now() - SETTLED - Duration::from_secs(1), ..fresh.clone() };
        assert!(settled.record("0123456789abcdef0123456789abcdef"));
        assert_eq!(Stamp::of(&cache, &component).unwrap().content().as_deref(), Some("0123456789abcdef0123456789abcdef"));
        // Any write changes the identity: the stamp no longer applies.
        std::fs::write(&component, b"two").unwrap();
        assert_eq!(Stamp::of(&cache, &component).unwrap().content(), None);
    }
}
