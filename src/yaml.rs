//! Reading the YAML files of `.kittify/` within bounds: a file that nests
//! too deep or whose aliases expand too far (a "billion laughs") is refused
//! before a tree is built, so no file can make the guest run out of time or
//! memory.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;
use yaml_rust2::{Yaml, YamlLoader};

/// The deepest nesting accepted in a YAML file: flow collections (`[`, `{`)
/// and block indentation (in columns). Spec Kitty's own files nest a few
/// levels; a parser fed thousands of levels takes seconds to minutes.
pub const MAX_YAML_DEPTH: usize = 64;

/// The most nodes a document may have once its aliases are expanded.
/// Spec Kitty's own files have a few dozen.
pub const MAX_YAML_NODES: u64 = 100_000;

/// Why a YAML text was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlError {
    /// It nests deeper than [`MAX_YAML_DEPTH`].
    TooDeep,
    /// Its aliases expand to more than [`MAX_YAML_NODES`] nodes.
    TooLarge,
    /// It is not YAML: the parser's message, with where.
    Invalid(String),
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooDeep => write!(f, "it nests deeper than {MAX_YAML_DEPTH} levels"),
            Self::TooLarge => write!(f, "its aliases expand to more than {MAX_YAML_NODES} nodes"),
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
    let mut budget = ExpansionBudget::default();
    Parser::new_from_str(text).load(&mut budget, true).map_err(|err| YamlError::Invalid(err.to_string()))?;
    if budget.exceeded {
        return Err(YamlError::TooLarge);
    }
    let docs = YamlLoader::load_from_str(text).map_err(|err| YamlError::Invalid(err.to_string()))?;
    Ok(docs.into_iter().next().filter(|doc| !doc.is_badvalue()).unwrap_or(Yaml::Null))
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

/// Counts the nodes the documents would have with their aliases expanded,
/// as the loader expands them (each alias a copy of its anchored node).
#[derive(Default)]
struct ExpansionBudget {
    /// The open collections: their nodes so far (themselves included), and
    /// their anchor id (0: none).
    open: Vec<(u64, usize)>,
    /// The size of each anchored node.
    anchored: HashMap<usize, u64>,
    /// Nodes materialised so far.
    total: u64,
    exceeded: bool,
}

impl ExpansionBudget {
    /// `size` more nodes materialised in the innermost open collection.
    fn materialise(&mut self, size: u64) {
        if let Some((count, _)) = self.open.last_mut() {
            *count = count.saturating_add(size);
        }
        self.total = self.total.saturating_add(size);
        self.exceeded |= self.total > MAX_YAML_NODES;
    }
}

impl MarkedEventReceiver for ExpansionBudget {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        if self.exceeded {
            return;
        }
        match event {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.total = self.total.saturating_add(1);
                self.open.push((1, anchor));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                // Its nodes are in `total` already: the parent's count grows.
                if let Some((size, anchor)) = self.open.pop() {
                    if anchor > 0 {
                        self.anchored.insert(anchor, size);
                    }
                    if let Some((count, _)) = self.open.last_mut() {
                        *count = count.saturating_add(size);
                    }
                }
            }
            Event::Scalar(_, _, anchor, _) => {
                if anchor > 0 {
                    self.anchored.insert(anchor, 1);
                }
                self.materialise(1);
            }
            Event::Alias(id) => self.materialise(self.anchored.get(&id).copied().unwrap_or(1)),
            _ => {}
        }
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
    }
}
