//! Mission slugs and numbers: `kitty-specs/NNN-slug` names.

/// The longest a mission directory name (`NNN-slug`) may be.
pub const MAX_DIR_NAME: usize = 64;

/// The slug used when the key and title leave nothing usable.
pub const FALLBACK_SLUG: &str = "mission";

/// Lower-case ASCII words `[a-z0-9]+` of `text`: other scripts are
/// transliterated, everything else separates words.
fn ascii_words(text: &str) -> Vec<String> {
    deunicode::deunicode_with_tofu(text, " ")
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect()
}

/// The slug of a ticket: its key and title as lower-case ASCII words joined
/// by single hyphens, cut at a word boundary to at most `max_len` characters.
///
/// ```
/// use spec_kitty_origin::slug::derive_slug;
/// assert_eq!(derive_slug("WEB-123", "Add Clerk auth", 60), "web-123-add-clerk-auth");
/// assert_eq!(derive_slug("../../x", "Über café 🚀", 60), "x-uber-cafe-rocket");
/// ```
pub fn derive_slug(key: &str, title: &str, max_len: usize) -> String {
    let mut slug = String::new();
    for word in ascii_words(key).into_iter().chain(ascii_words(title)) {
        let extra = if slug.is_empty() { word.len() } else { word.len() + 1 };
        if slug.len() + extra > max_len {
            if slug.is_empty() {
                // A single word longer than the budget: cut the word itself.
                slug.push_str(&word[..max_len]);
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    if slug.is_empty() { FALLBACK_SLUG[..FALLBACK_SLUG.len().min(max_len)].to_string() } else { slug }
}

/// The numeric prefix of a mission directory name (`061-x` gives 61).
pub fn number_prefix(name: &str) -> Option<u64> {
    let digits: &str = &name[..name.find(|c: char| !c.is_ascii_digit()).unwrap_or(name.len())];
    if digits.is_empty() {
        return None;
    }
    let rest = &name[digits.len()..];
    if !(rest.is_empty() || rest.starts_with('-')) {
        return None;
    }
    digits.parse().ok()
}

/// One more than the highest numeric prefix among `names` (1 when none).
pub fn next_number<'a>(names: impl IntoIterator<Item = &'a str>) -> u64 {
    names.into_iter().filter_map(number_prefix).max().map_or(1, |n| n.saturating_add(1))
}

/// The directory name for mission `number` of ticket `key` / `title`:
/// `NNN-slug`, at least three digits, at most [`MAX_DIR_NAME`] characters.
pub fn mission_dir_name(number: u64, key: &str, title: &str) -> String {
    let number = format!("{number:03}");
    let budget = MAX_DIR_NAME.saturating_sub(number.len() + 1).max(1);
    format!("{number}-{}", derive_slug(key, title, budget))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example() {
        assert_eq!(derive_slug("WEB-123", "Add Clerk auth", 60), "web-123-add-clerk-auth");
        assert_eq!(mission_dir_name(61, "WEB-123", "Add Clerk auth"), "061-web-123-add-clerk-auth");
    }

    #[test]
    fn unicode_is_transliterated_and_emoji_dropped_or_spelled() {
        assert_eq!(derive_slug("IAM-42", "Überprüfung der Anmeldung für Café", 60), "iam-42-uberprufung-der-anmeldung-fur-cafe");
        assert_eq!(derive_slug("IAM-7", "Ошибка входа", 60), "iam-7-oshibka-vkhoda");
        let emoji = derive_slug("WEB-9", "🚀 Launch 🎉 day!!", 60);
        assert!(emoji.starts_with("web-9-") && emoji.contains("launch") && emoji.contains("day"), "{emoji}");
        assert!(emoji.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{emoji}");
    }

    #[test]
    fn separators_collapse_and_trim() {
        assert_eq!(derive_slug("--WEB--1--", "  a  --  b__c  ", 60), "web-1-a-b-c");
    }

    #[test]
    fn hostile_keys_cannot_escape_the_directory() {
        assert_eq!(derive_slug("../../x", "", 60), "x");
        assert_eq!(derive_slug("/etc/passwd", "..", 60), "etc-passwd");
        assert_eq!(mission_dir_name(1, "..", ".."), "001-mission");
    }

    #[test]
    fn empty_key_and_title_fall_back() {
        assert_eq!(derive_slug("", "", 60), "mission");
        assert_eq!(derive_slug("", "Fix it", 60), "fix-it");
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary_within_64() {
        let title = "word ".repeat(100) + &"x".repeat(300);
        assert_eq!(title.len(), 800);
        let name = mission_dir_name(7, "WEB-1", &title[..500]);
        assert!(name.len() <= MAX_DIR_NAME, "{name}");
        assert!(name.starts_with("007-web-1-word-word"), "{name}");
        assert!(name.ends_with("-word"), "cut mid-word: {name}");
        let one_word = mission_dir_name(7, &"k".repeat(500), "");
        assert_eq!(one_word.len(), MAX_DIR_NAME);
        let big = mission_dir_name(12345, "WEB-1", &title);
        assert!(big.starts_with("12345-") && big.len() <= MAX_DIR_NAME, "{big}");
    }

    #[test]
    fn numbering_follows_the_highest_prefix() {
        assert_eq!(next_number([]), 1);
        assert_eq!(next_number(["001-a", "003-b", "notes", "002"]), 4);
        assert_eq!(next_number(["061-x", "1000-y", "12abc", ".lock"]), 1001);
        assert_eq!(mission_dir_name(1000, "A-1", "t"), "1000-a-1-t");
    }
}
