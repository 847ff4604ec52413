//! The canonical `meta.json` writer (`write_meta`) and its mutation helper
//! `set_origin_ticket`: sorted keys, 2-space indent, UTF-8 unescaped, one
//! trailing newline, written to a temporary file, fsynced and renamed.

use std::path::Path;

use serde_json::{Map, Value};

use crate::capabilities::FileWriter;
use crate::error::{ErrorKind, OriginError, Result};
use crate::model::OriginTicket;

/// The file name of mission metadata.
pub const META_FILE: &str = "meta.json";

/// The most bytes of `meta.json` read: Spec Kitty's are under 4 KiB.
pub const MAX_META_BYTES: u64 = 1024 * 1024;

/// The key of the origin block.
pub const ORIGIN_KEY: &str = "origin_ticket";

/// A mission's metadata: a JSON object, keys kept sorted.
pub type Meta = Map<String, Value>;

/// The canonical bytes of `meta`.
pub fn canonical_bytes(meta: &Meta) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"  ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing a map of JSON values into a Vec cannot fail.
    serde::Serialize::serialize(meta, &mut serializer).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Reads `feature_dir/meta.json`; missing or not a JSON object is `invalid-metadata`.
pub fn read_meta(feature_dir: &Path) -> Result<Meta> {
    let path = feature_dir.join(META_FILE);
    let bytes = match crate::files::read_bounded(&path, MAX_META_BYTES) {
        Ok(Some(text)) => text.into_bytes(),
        Ok(None) => {
            return Err(OriginError::new(
                ErrorKind::InvalidMetadata,
                format!(
                    "{} does not exist: {} is not a mission directory. Pass a mission directory (kitty-specs/<mission>).",
                    path.display(),
                    feature_dir.display()
                ),
            ));
        }
        Err(err) => return Err(invalid_meta(&path, &format!("it cannot be read ({err})"))),
    };
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(meta)) => Ok(meta),
        Ok(_) => Err(invalid_meta(&path, "it is not a JSON object")),
        Err(err) => Err(invalid_meta(&path, &format!("it is not valid JSON ({err})"))),
    }
}

fn invalid_meta(path: &Path, why: &str) -> OriginError {
    OriginError::new(ErrorKind::InvalidMetadata, format!("{} is malformed: {why}. Repair it, then retry.", path.display()))
}

/// The `origin_ticket` already recorded in `meta`, if any.
pub fn origin_ticket(meta: &Meta, feature_dir: &Path) -> Result<Option<OriginTicket>> {
    match meta.get(ORIGIN_KEY) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|err| invalid_meta(&feature_dir.join(META_FILE), &format!("its origin_ticket block is incomplete ({err})"))),
    }
}

/// Sets the additive `origin_ticket` block, leaving every other field as it is.
pub fn set_origin_ticket(meta: &mut Meta, ticket: &OriginTicket) {
    let value = serde_json::to_value(ticket).unwrap_or(Value::Null);
    meta.insert(ORIGIN_KEY.to_string(), value);
}

/// Writes `meta` canonically and atomically to `feature_dir/meta.json`;
/// `unique` names the temporary file, which `files` creates. Returns the
/// bytes written.
pub fn write_meta(files: &dyn FileWriter, feature_dir: &Path, meta: &Meta, unique: u128) -> Result<Vec<u8>> {
    let bytes = canonical_bytes(meta);
    let target = feature_dir.join(META_FILE);
    let temp = feature_dir.join(format!(".{META_FILE}.{unique:032x}.tmp"));
    let written = files.create_new(&temp, &bytes).and_then(|()| std::fs::rename(&temp, &target));
    if let Err(err) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(OriginError::io("write", &target, &err));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::StdFiles;
    use serde_json::json;

    fn ticket() -> OriginTicket {
        OriginTicket {
            provider: "linear".into(),
            resource_type: "linear_team".into(),
            resource_id: "team-uuid".into(),
            external_issue_id: "issue-uuid".into(),
            external_issue_key: "WEB-123".into(),
            external_issue_url: "https://linear.app/acme/issue/WEB-123/add-clerk-auth".into(),
            title: "Add Clerk auth — über".into(),
        }
    }

    #[test]
    fn canonical_bytes_are_sorted_indented_unescaped_with_newline() {
        let Value::Object(meta) = json!({"b": [1, {"z": 1, "a": []}], "a": "é😀", "c": {}}) else { unreachable!() };
        let text = String::from_utf8(canonical_bytes(&meta)).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": \"é😀\",\n  \"b\": [\n    1,\n    {\n      \"a\": [],\n      \"z\": 1\n    }\n  ],\n  \"c\": {}\n}\n"
        );
    }

    #[test]
    fn set_origin_ticket_is_additive_and_written_exactly() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(META_FILE),
            "{\"mission_slug\": \"001-x\", \"ratio\": 1.10, \"big\": 123456789012345678901234567890, \"nested\": {\"k\": \"v\"}}",
        )
        .unwrap();
        let mut meta = read_meta(dir.path()).unwrap();
        set_origin_ticket(&mut meta, &ticket());
        write_meta(&StdFiles, dir.path(), &meta, 7).unwrap();
        let written = std::fs::read_to_string(dir.path().join(META_FILE)).unwrap();
        assert_eq!(
            written,
            "{\n  \"big\": 123456789012345678901234567890,\n  \"mission_slug\": \"001-x\",\n  \"nested\": {\n    \"k\": \"v\"\n  },\n  \"origin_ticket\": {\n    \"external_issue_id\": \"issue-uuid\",\n    \"external_issue_key\": \"WEB-123\",\n    \"external_issue_url\": \"https://linear.app/acme/issue/WEB-123/add-clerk-auth\",\n    \"provider\": \"linear\",\n    \"resource_id\": \"team-uuid\",\n    \"resource_type\": \"linear_team\",\n    \"title\": \"Add Clerk auth — über\"\n  },\n  \"ratio\": 1.10\n}\n"
        );
        assert_eq!(origin_ticket(&read_meta(dir.path()).unwrap(), dir.path()).unwrap(), Some(ticket()));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from(META_FILE)]);
    }

    #[test]
    fn missing_and_malformed_meta_are_invalid_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_meta(dir.path()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidMetadata);
        assert!(err.message().contains("not a mission directory"), "{}", err.message());
        for bad in ["{", "[1]", "\"x\""] {
            std::fs::write(dir.path().join(META_FILE), bad).unwrap();
            let err = read_meta(dir.path()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidMetadata, "{bad}");
            assert!(err.message().contains("malformed"), "{}", err.message());
        }
        std::fs::write(dir.path().join(META_FILE), "{\"origin_ticket\": {\"provider\": \"jira\"}}").unwrap();
        let meta = read_meta(dir.path()).unwrap();
        assert_eq!(origin_ticket(&meta, dir.path()).unwrap_err().kind(), ErrorKind::InvalidMetadata);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(META_FILE), "{}").unwrap();
        // The target is a directory: the rename fails.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir_all(blocked.join(META_FILE).join("x")).unwrap();
        let err = write_meta(&StdFiles, &blocked, &Meta::new(), 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        let names: Vec<_> = std::fs::read_dir(&blocked).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(META_FILE)]);
        assert_eq!(std::fs::read_to_string(dir.path().join(META_FILE)).unwrap(), "{}");
    }
}
