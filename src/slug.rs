//! Mission slugs from a ticket: `[a-z0-9]` words joined by single hyphens,
//! which is Spec Kitty's kebab-case rule (`^[a-z0-9][a-z0-9]*(-[a-z0-9]+)*$`).

/// The longest slug: with `-` and the 8-character mission id prefix, a
/// mission directory name stays within 64 characters.
pub const MAX_SLUG_LEN: usize = 55;

/// The slug used when the key and title leave nothing usable.
pub const FALLBACK_SLUG: &str = "mission";

/// Lower-case ASCII words `[a-z0-9]+` of `text`: Latin with diacritics,
/// Greek and Cyrillic are transliterated ([`crate::translit`]), everything
/// else separates words.
fn ascii_words(text: &str) -> Vec<String> {
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        match crate::translit::ascii_of(c) {
            Some(letters) => ascii.push_str(letters),
            None if c.is_ascii() => ascii.push(c),
            None => ascii.push(' '),
        }
    }
    ascii.to_ascii_lowercase().split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty()).map(str::to_string).collect()
}

/// The slug of a ticket: its key and title as lower-case ASCII words joined
/// by single hyphens, cut at a word boundary to at most `max_len` characters.
///
/// ```
/// use spec_kitty_origin::slug::derive_slug;
/// assert_eq!(derive_slug("WEB-123", "Add Clerk auth", 60), "web-123-add-clerk-auth");
/// assert_eq!(derive_slug("../../x", "Über café 🚀", 60), "x-uber-cafe");
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

/// The slug without a leading `NNN-` (three digits), when something
/// remains: Spec Kitty 3.2 drops that legacy number from directory names.
pub fn strip_numeric_prefix(slug: &str) -> &str {
    match slug.as_bytes() {
        [a, b, c, b'-', _, ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => &slug[4..],
        _ => slug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example() {
        assert_eq!(derive_slug("WEB-123", "Add Clerk auth", MAX_SLUG_LEN), "web-123-add-clerk-auth");
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
        assert_eq!(derive_slug("..", "..", 60), "mission");
    }

    #[test]
    fn empty_key_and_title_fall_back() {
        assert_eq!(derive_slug("", "", 60), "mission");
        assert_eq!(derive_slug("", "Fix it", 60), "fix-it");
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary() {
        let title = "word ".repeat(100) + &"x".repeat(300);
        let slug = derive_slug("WEB-1", &title, MAX_SLUG_LEN);
        assert!(slug.len() <= MAX_SLUG_LEN, "{slug}");
        assert!(slug.starts_with("web-1-word-word") && slug.ends_with("-word"), "cut mid-word: {slug}");
        assert_eq!(derive_slug(&"k".repeat(500), "", MAX_SLUG_LEN).len(), MAX_SLUG_LEN);
    }

    #[test]
    fn a_legacy_number_prefix_is_dropped_like_spec_kitty_does() {
        assert_eq!(strip_numeric_prefix("057-numbered-slug"), "numbered-slug");
        assert_eq!(strip_numeric_prefix("069"), "069");
        assert_eq!(strip_numeric_prefix("069-"), "069-");
        assert_eq!(strip_numeric_prefix("web-123"), "web-123");
        assert_eq!(strip_numeric_prefix("1234-x"), "1234-x");
    }
}
