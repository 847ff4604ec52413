//! JSON as Python's `json.dumps(value, sort_keys=True)` writes it: one line,
//! `", "` and `": "` separators, keys sorted, non-ASCII escaped as `\uXXXX`
//! (surrogate pairs above the BMP). Spec Kitty writes `status.events.jsonl`
//! this way; `meta.json` has its own writer in `meta`.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

/// The formatter: serde_json's compact one with Python's separators and ASCII output.
struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut units = [0u16; 2];
        for c in fragment.chars() {
            // Python's ensure_ascii keeps ' '..='~' and escapes the rest, DEL too.
            if (' '..='~').contains(&c) {
                writer.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }

    fn write_char_escape<W: ?Sized + Write>(&mut self, writer: &mut W, escape: CharEscape) -> io::Result<()> {
        // Python writes the same short escapes as serde_json, and `\u00XX` for
        // the other control characters.
        let short: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"\\/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => return write!(writer, "\\u{:04x}", u16::from(byte)),
        };
        writer.write_all(short)
    }
}

/// `value` as one line of Python `json.dumps(value, sort_keys=True)`. Keys
/// come out sorted because `serde_json::Map` keeps them sorted.
pub fn dumps(value: &impl Serialize) -> String {
    let mut out = Vec::with_capacity(512);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // Serializing JSON values into a Vec cannot fail; an error would leave `out` short.
    let _ = value.serialize(&mut serializer);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps_sort_keys() {
        // python3 -c 'import json; print(json.dumps({"b": [1, None, True], "a": "Café – ü 😀\n\u0001\"\\", "c": {}}, sort_keys=True))'
        let value = json!({"b": [1, null, true], "a": "Café – ü 😀\n\u{1}\"\\", "c": {}});
        assert_eq!(dumps(&value), r#"{"a": "Caf\u00e9 \u2013 \u00fc \ud83d\ude00\n\u0001\"\\", "b": [1, null, true], "c": {}}"#);
    }

    #[test]
    fn del_is_escaped_like_python() {
        // python3 -c 'import json; print(json.dumps(["\x7f"]))' (found by properties.rs)
        assert_eq!(dumps(&json!([["\u{7f}"]])), r#"[["\u007f"]]"#);
    }
}
