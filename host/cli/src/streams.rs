//! Writing to stdout and stderr without panicking: `println!` panics when a
//! reader went away (`kitty-origin search | head -1`) or the disk is full.

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout and flushes it. A reader that went away is no
/// error (the pipeline wanted no more, as with any Unix tool); any other
/// failure is returned, for the caller to report.
pub fn say(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `line` and a newline to stderr; a closed stderr is ignored, as
/// there is nowhere left to tell.
pub fn warn(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
