//! The Spec Kitty installation outside the repo, whose spec templates a
//! start may read (Spec Kitty's tiers 4 to 6): `~/.kittify/missions/<type>/templates`,
//! `~/.kittify/templates` (`$SPEC_KITTY_HOME` replaces `~/.kittify`), and the
//! package's built-in templates (`$SPEC_KITTY_PACKS_ROOT/built-in/...`, else
//! the `packs/` of the Python environment that runs the `spec-kitty` found on
//! `PATH`). Each is granted to the guest read-only, and only when it exists.

use std::path::{Path, PathBuf};

/// The template directories for `mission_type`, in tier order, that exist.
pub fn template_dirs(mission_type: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = kittify_home() {
        dirs.push(home.join("missions").join(mission_type).join("templates"));
        dirs.push(home.join("templates"));
    }
    if let Some(packs) = packs_root() {
        dirs.push(packs.join("built-in/missions").join(mission_type).join("templates"));
    }
    dirs.retain(|dir| dir.is_dir());
    dirs
}

/// `$SPEC_KITTY_HOME`, else `~/.kittify`.
fn kittify_home() -> Option<PathBuf> {
    std::env::var_os("SPEC_KITTY_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".kittify")))
}

/// `$SPEC_KITTY_PACKS_ROOT`, else the `packs/` beside the installed `specify_cli`.
fn packs_root() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("SPEC_KITTY_PACKS_ROOT").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(root));
    }
    let interpreter = shebang_interpreter(&find_on_path("spec-kitty")?)?;
    // A venv (pip, pipx, uv tool): <venv>/bin/python → <venv>/lib/python3.X/site-packages/packs.
    let venv = interpreter.parent()?.parent()?;
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages/packs"))
        .find(|packs| packs.is_dir())
}

/// The first `name` on `PATH` that is a file.
fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|path| path.is_file())
}

/// The interpreter named by the `#!` line of the script at `path` (read within 4 KiB).
fn shebang_interpreter(path: &Path) -> Option<PathBuf> {
    use std::io::Read;
    let mut head = [0u8; 4096];
    let read = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let first = std::str::from_utf8(&head[..read]).ok()?.lines().next()?;
    let command = first.strip_prefix("#!")?.split_whitespace().next()?;
    Some(PathBuf::from(command))
}
