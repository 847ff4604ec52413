//! Reading the YAML files of `.kittify/` within bounds: a file that nests
//! too deep, or that holds too much once its aliases are expanded (a
//! "billion laughs"), is refused by a first pass over the parser's events,
//! before the (recursive) loader builds a tree: no file can exhaust the
//! guest's stack, time or memory.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

/// The deepest nesting accepted in a YAML file: flow collections (`[`, `{`)
/// and block indentation (in columns). Spec Kitty's own files nest a few
/// levels; a parser fed thousands of levels takes seconds to minutes.
pub const MAX_YAML_DEPTH: usize = 64;

/// The most values the documents may hold once their aliases are expanded.
/// Spec Kitty's own files have a few dozen.
pub const MAX_YAML_NODES: u64 = 100_000;

/// The most scalar text the documents may hold once their aliases are
/// expanded (the files themselves are read up to 1 MiB).
pub const MAX_YAML_TEXT_BYTES: u64 = 4 * 1024 * 1024;

/// Why a YAML text was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlError {
    /// It nests deeper than [`MAX_YAML_DEPTH`].
    TooDeep,
    /// Expanded, it holds more than [`MAX_YAML_NODES`] values or
    /// [`MAX_YAML_TEXT_BYTES`] of text.
    TooLarge,
    /// It is not YAML: the parser's message, with where.
    Invalid(String),
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooDeep => write!(f, "it nests deeper than {MAX_YAML_DEPTH} levels"),
            Self::TooLarge => write!(
                f,
                "with its aliases expanded it holds more than {MAX_YAML_NODES} values or {} MiB of text",
                MAX_YAML_TEXT_BYTES / (1024 * 1024)
            ),
            Self::Invalid(why) => f.write_str(why),
        }
    }
}

/// The first document of the YAML `text` (an empty text is `null`).
///
/// # Errors
///
/// [`YamlError`]: too deep, too large once expanded, or not YAML.
pub fn load(text: &str) -> Result<Yaml, YamlError> {
    if !nesting_ok(text) {
        return Err(YamlError::TooDeep);
    }
    check_expansion(text)?;
    let docs = YamlLoader::load_from_str(text).map_err(|err| YamlError::Invalid(err.to_string()))?;
    Ok(docs.into_iter().next().filter(|doc| !doc.is_badvalue()).unwrap_or(Yaml::Null))
}

/// The first pass: the parser's events one by one (no recursion), their
/// nesting and their size once expanded, within the bounds.
fn check_expansion(text: &str) -> Result<(), YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut budget = ExpansionBudget::default();
    // Each event consumes input; the bound only guards against a parser that would not end.
    for _ in 0..text.len().saturating_mul(4).saturating_add(64) {
        let (event, _) = parser.next_token().map_err(|err| YamlError::Invalid(err.to_string()))?;
        if event == Event::StreamEnd {
            return Ok(());
        }
        budget.take(event)?;
    }
    Err(YamlError::Invalid("the YAML parser did not reach the end of the text".into()))
}

/// Whether `text` nests within [`MAX_YAML_DEPTH`] (flow brackets, counted
/// outside quotes) and [`MAX_YAML_DEPTH`] × 4 columns of indentation.
pub fn nesting_ok(text: &str) -> bool {
    let mut depth = 0usize;
    let mut quote = None;
    for line in text.lines() {
        if line.len() - line.trim_start().len() > MAX_YAML_DEPTH * 4 {
            return false;
        }
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_YAML_DEPTH {
                        return false;
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    true
}

/// What a node holds once expanded: values, and bytes of scalar text.
#[derive(Debug, Default, Clone, Copy)]
struct Size {
    values: u64,
    bytes: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.values = self.values.saturating_add(other.values);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

/// Counts what the documents would hold with their aliases expanded, as the
/// loader expands them (each alias a copy of its anchored node), and how
/// deep they nest.
#[derive(Default)]
struct ExpansionBudget {
    /// The open collections: their size so far (themselves included), and
    /// their anchor id (0: none).
    open: Vec<(Size, usize)>,
    /// The size of each anchored node.
    anchored: HashMap<usize, Size>,
    /// Materialised so far.
    total: Size,
}

impl ExpansionBudget {
    /// Accounts for `event`.
    fn take(&mut self, event: Event) -> Result<(), YamlError> {
        match event {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.open.len() >= MAX_YAML_DEPTH {
                    return Err(YamlError::TooDeep);
                }
                let node = Size { values: 1, bytes: 0 };
                self.total.add(node);
                self.open.push((node, anchor));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                // Its contents are in `total` already: only the parent grows.
                if let Some((size, anchor)) = self.open.pop() {
                    if anchor > 0 {
                        self.anchored.insert(anchor, size);
                    }
                    if let Some((parent, _)) = self.open.last_mut() {
                        parent.add(size);
                    }
                }
            }
            Event::Scalar(value, _, anchor, _) => {
                let node = Size { values: 1, bytes: value.len() as u64 };
                if anchor > 0 {
                    self.anchored.insert(anchor, node);
                }
                self.materialise(node);
            }
            Event::Alias(id) => self.materialise(self.anchored.get(&id).copied().unwrap_or(Size { values: 1, bytes: 0 })),
            _ => {}
        }
        if self.total.values > MAX_YAML_NODES || self.total.bytes > MAX_YAML_TEXT_BYTES {
            return Err(YamlError::TooLarge);
        }
        Ok(())
    }

    /// `size` more materialised in the innermost open collection.
    fn materialise(&mut self, size: Size) {
        if let Some((parent, _)) = self.open.last_mut() {
            parent.add(size);
        }
        self.total.add(size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_document_and_an_empty_text_as_null() {
        assert_eq!(load("a: [1, b]\n").unwrap()["a"][1].as_str(), Some("b"));
        assert_eq!(load("").unwrap(), Yaml::Null);
        assert_eq!(load("# only a comment\n").unwrap(), Yaml::Null);
        assert!(matches!(load("a: [\n"), Err(YamlError::Invalid(_))));
        assert!(matches!(load("a: 1\na: 2\n"), Err(YamlError::Invalid(why)) if why.contains("duplicated key")));
    }

    #[test]
    fn nesting_is_counted_outside_quotes_and_comments() {
        assert!(nesting_ok("a: '[[[[' # {{{{\nb: \"]]\"\n"));
        assert!(!nesting_ok(&format!("a: {}\n", "[".repeat(MAX_YAML_DEPTH + 1))));
        assert_eq!(load(&format!("a: {}\n", "{".repeat(1000))), Err(YamlError::TooDeep));
    }

    #[test]
    fn aliases_are_expanded_within_the_budget() {
        let ok = load("base: &b {x: 1, y: [2, 3]}\nfirst: *b\nsecond: *b\n").unwrap();
        assert_eq!(ok["second"]["y"][1].as_i64(), Some(3));
        // A billion laughs: nine levels of ten aliases each.
        let mut laughs = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let previous = format!("*l{}", level - 1);
            laughs.push_str(&format!("l{level}: &l{level} [{}]\n", vec![previous; 10].join(", ")));
        }
        assert_eq!(load(&laughs), Err(YamlError::TooLarge));
        // Just under the budget still loads.
        let wide = format!("a: &a [{}]\nb: [*a, *a, *a]\n", vec!["x"; 20_000].join(", "));
        assert_eq!(load(&wide).unwrap()["b"][2].as_vec().map(Vec::len), Some(20_000));
        // Few values, but long ones: the text is counted too.
        let long = format!("a: &a \"{}\"\nb: [{}]\n", "x".repeat(100_000), vec!["*a"; 50].join(", "));
        assert_eq!(load(&long), Err(YamlError::TooLarge));
    }

    #[test]
    fn block_nesting_on_one_line_is_refused_before_the_loader_recurses() {
        // `- - - …`: nested sequences the indentation check cannot see.
        let deep = format!("z:\n{}x\n", "- ".repeat(5_000));
        assert!(nesting_ok(&deep), "the text check alone misses it");
        assert_eq!(load(&deep), Err(YamlError::TooDeep));
        let fine = format!("z:\n{}x\n", "- ".repeat(MAX_YAML_DEPTH - 1));
        assert!(load(&fine).is_ok());
    }
}
