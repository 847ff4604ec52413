//! Property tests of the pure guest logic: every parser survives arbitrary
//! input, and each module's promises hold for every input proptest can build,
//! not only for the examples of its unit tests.

use std::fmt;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::config::{self, TrackerBinding};
use crate::error::{ErrorKind, Result};
use crate::meta::{self, Meta};
use crate::model::OriginTicket;
use crate::wire::{self, Endpoint, ErrorEnvelope};
use crate::{mission_dir, python_json, slug, timestamps};

/// Fewer cases for the properties that write files.
const FILE_CASES: u32 = 64;

// ---------------------------------------------------------------------------
// JSON values
// ---------------------------------------------------------------------------

/// Object keys: anything, short identifiers, and the keys the guest reads.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "[a-z_]{1,12}",
        1 => prop::sample::select(vec![
            meta::ORIGIN_KEY, "message", "error_code", "user_action_required", "retry_after_seconds", "candidates", "", "$ref",
        ])
        .prop_map(str::to_string),
    ]
}

/// Numbers as JSON has them: integers of both signs, finite floats, and
/// decimals longer than any machine type (`arbitrary_precision` keeps them).
fn json_number() -> impl Strategy<Value = Value> {
    use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO).prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,12})?([eE][-+]?[0-9]{1,3})?"
            .prop_map(|text| serde_json::from_str::<Value>(&text).expect("a JSON number")),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        any::<String>().prop_map(Value::String),
        "[ -~]{0,16}".prop_map(Value::String),
        // Control characters, DEL and the C1 block, which `\\PC` leaves out.
        "[\\x00-\\x7f\\u0080-\\u00a0\\u2028\\u2029]{0,8}".prop_map(Value::String),
        any::<char>().prop_map(|c| Value::String(c.to_string())),
    ]
}

/// Any JSON value, nested a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(json_key(), inner, 0..6).prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Any JSON object.
fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(json_key(), json_value(), 0..8).prop_map(|map| map.into_iter().collect())
}

/// Deserializes any JSON document and tells whether the keys of every
/// object in it come in strictly increasing order, as written.
struct KeysSorted(bool);

impl<'de> Deserialize<'de> for KeysSorted {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(KeysSortedVisitor)
    }
}

struct KeysSortedVisitor;

impl<'de> Visitor<'de> for KeysSortedVisitor {
    type Value = KeysSorted;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<KeysSorted, E> {
        Ok(KeysSorted(true))
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<KeysSorted, E> {
        Ok(KeysSorted(true))
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<KeysSorted, E> {
        Ok(KeysSorted(true))
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<KeysSorted, E> {
        Ok(KeysSorted(true))
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<KeysSorted, E> {
        Ok(KeysSorted(true))
    }

    fn visit_unit<E>(self) -> std::result::Result<KeysSorted, E> {
        Ok(KeysSorted(true))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<KeysSorted, A::Error> {
        let mut sorted = true;
        while let Some(KeysSorted(inner)) = seq.next_element()? {
            sorted &= inner;
        }
        Ok(KeysSorted(sorted))
    }

    // With `arbitrary_precision` a number arrives as a one-key map, which is sorted.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<KeysSorted, A::Error> {
        let mut sorted = true;
        let mut previous: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let KeysSorted(inner) = map.next_value()?;
            sorted &= inner && previous.as_ref().is_none_or(|p| *p < key);
            previous = Some(key);
        }
        Ok(KeysSorted(sorted))
    }
}

fn keys_sorted(bytes: &[u8]) -> bool {
    serde_json::from_slice::<KeysSorted>(bytes).expect("valid JSON").0
}

#[test]
fn keys_sorted_sees_the_order_as_written() {
    assert!(keys_sorted(br#"{"a": 1, "b": [{"c": 1.50, "d": null}], "e": {}}"#));
    assert!(!keys_sorted(br#"{"b": 1, "a": 2}"#));
    assert!(!keys_sorted(br#"{"a": [1, {"z": true, "y": "x"}]}"#));
    assert!(!keys_sorted(br#"{"a": {"b": {"d": 1, "c": 2}}}"#));
}

// ---------------------------------------------------------------------------
// config: YAML-ish documents
// ---------------------------------------------------------------------------

/// A YAML node, rendered in block style.
#[derive(Debug, Clone)]
enum Yaml {
    /// A scalar, already written as YAML (plain or quoted).
    Scalar(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

/// Scalars as a hand-written config has them.
fn yaml_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9_ .-]{0,12}",
        "-?[0-9]{1,6}(\\.[0-9]{1,3})?",
        prop::sample::select(vec![
            "null",
            "~",
            "true",
            "false",
            "''",
            "\"\"",
            "' '",
            "jira",
            "linear",
            "Jira",
            "LINEAR",
            "' linear '",
            "github",
            "gitlab",
            "[]",
            "{}",
        ])
        .prop_map(str::to_string),
        "[ -~\u{e0}-\u{ff}\u{4e00}-\u{4e20}]{0,12}".prop_map(|s| serde_json::to_string(&s).expect("a string")),
        "[ -&(-~]{0,12}".prop_map(|s| format!("'{s}'")),
    ]
}

/// Keys of nested mappings: the ones the guest reads and random identifiers.
fn yaml_key() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-z][a-z0-9_]{0,8}_",
        1 => prop::sample::select(vec!["provider", "project_slug", "binding_ref", "tracker", "team", "display_label"]).prop_map(str::to_string),
    ]
}

/// Keeps the first entry of each key.
fn dedup(entries: Vec<(String, Yaml)>) -> Vec<(String, Yaml)> {
    let mut seen = std::collections::HashSet::new();
    entries.into_iter().filter(|(key, _)| seen.insert(key.clone())).collect()
}

fn yaml_node() -> impl Strategy<Value = Yaml> {
    yaml_scalar().prop_map(Yaml::Scalar).prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Yaml::Seq),
            prop::collection::vec((yaml_key(), inner), 0..4).prop_map(|entries| Yaml::Map(dedup(entries))),
        ]
    })
}

/// A `tracker:` field: absent, mostly a `likely` value, else any scalar or node.
fn tracker_field(name: &'static str, likely: BoxedStrategy<String>) -> impl Strategy<Value = Option<(String, Yaml)>> {
    let value = prop_oneof![6 => likely.prop_map(Yaml::Scalar), 2 => yaml_scalar().prop_map(Yaml::Scalar), 1 => yaml_node()];
    prop::option::weighted(0.85, value).prop_map(move |v| v.map(|v| (name.to_string(), v)))
}

fn likely_provider() -> BoxedStrategy<String> {
    prop::sample::select(vec!["jira", "linear", "Jira", "LINEAR", "\" jira \"", "'Linear'"]).prop_map(str::to_string).boxed()
}

fn likely_slug() -> BoxedStrategy<String> {
    prop_oneof!["[a-z][a-z0-9-]{0,15}", "[ -&(-~]{0,10}".prop_map(|s| format!("'{s}'"))].boxed()
}

/// The value of `tracker:`: mostly a mapping with the three fields among
/// random others, in any order; sometimes anything else.
fn tracker_block() -> impl Strategy<Value = Yaml> {
    let mapping = (
        tracker_field("provider", likely_provider()),
        tracker_field("project_slug", likely_slug()),
        tracker_field("binding_ref", likely_slug()),
        prop::collection::vec(("[a-z][a-z0-9_]{0,8}_", yaml_node()), 0..3),
    )
        .prop_flat_map(|(provider, project_slug, binding_ref, others)| {
            let mut entries: Vec<(String, Yaml)> = [provider, project_slug, binding_ref].into_iter().flatten().collect();
            entries.extend(dedup(others));
            Just(entries).prop_shuffle()
        })
        .prop_map(Yaml::Map);
    prop_oneof![4 => mapping, 1 => yaml_node()]
}

/// Top-level keys that are not `tracker`: Spec Kitty's own and random ones.
fn unrelated_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["agents", "vcs", "project", "mission_type_activations", "protection", "language", "trackers", "Tracker"])
            .prop_map(str::to_string),
        "[a-z][a-z0-9_]{0,8}_",
    ]
}

/// Top-level entries without `tracker`, and the `tracker:` entry if any.
fn config_doc() -> impl Strategy<Value = (Vec<(String, Yaml)>, Option<Yaml>)> {
    (prop::collection::vec((unrelated_key(), yaml_node()), 0..4).prop_map(dedup), prop::option::weighted(0.85, tracker_block()))
}

fn render_entries(entries: &[(String, Yaml)], indent: usize, out: &mut String) {
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(key);
        out.push(':');
        render_after(value, indent, out);
    }
}

/// Renders `value` after a `key:` or `-` at `indent`.
fn render_after(value: &Yaml, indent: usize, out: &mut String) {
    match value {
        Yaml::Scalar(text) => {
            out.push(' ');
            out.push_str(text);
            out.push('\n');
        }
        Yaml::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Yaml::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Yaml::Seq(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&" ".repeat(indent + 2));
                out.push('-');
                render_after(item, indent + 2, out);
            }
        }
        Yaml::Map(entries) => {
            out.push('\n');
            render_entries(entries, indent + 2, out);
        }
    }
}

/// The document of `entries` with `tracker` inserted at `at`.
fn render_doc(entries: &[(String, Yaml)], tracker: Option<&Yaml>, at: Index) -> String {
    let mut all = entries.to_vec();
    if let Some(tracker) = tracker {
        all.insert(at.index(all.len() + 1), ("tracker".to_string(), tracker.clone()));
    }
    let mut out = String::new();
    render_entries(&all, 0, &mut out);
    out
}

const CONFIG: &str = "/r/.kittify/config.yaml";

fn check_binding(text: &str, result: &Result<TrackerBinding>) -> std::result::Result<(), TestCaseError> {
    if let Ok(binding) = result {
        prop_assert!(config::SUPPORTED_PROVIDERS.contains(&binding.provider.as_str()), "{binding:?} from {text:?}");
        let non_empty = |field: &Option<String>| field.as_deref().is_some_and(|s| !s.trim().is_empty());
        prop_assert!(non_empty(&binding.project_slug) || non_empty(&binding.binding_ref), "{binding:?} from {text:?}");
        prop_assert!(binding.project_slug.as_deref() != Some("") && binding.binding_ref.as_deref() != Some(""), "{binding:?}");
    }
    Ok(())
}

/// Text that looks a little like YAML: indicators, indentation, line breaks.
fn yaml_soup() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z:\\- \n\t\\[\\]{}'\"#&*!|>%@`,?0-9.~]{0,200}",
        "[ -~\n]{0,200}".prop_map(|s| format!("tracker:\n  {s}")),
        "[a-z: \n\\-]{0,80}".prop_map(|s| format!("tracker:\n  provider: linear\n  project_slug: x\n{s}")),
    ]
}

proptest! {
    #[test]
    fn parse_binding_never_panics_on_text(text in yaml_soup()) {
        let result = config::parse_binding(&text, Path::new(CONFIG));
        check_binding(&text, &result)?;
    }

    #[test]
    fn parse_binding_on_documents_gives_a_supported_binding_or_an_error(
        (entries, tracker) in config_doc(),
        at in any::<Index>(),
        cut in any::<Index>(),
    ) {
        let text = render_doc(&entries, tracker.as_ref(), at);
        let result = config::parse_binding(&text, Path::new(CONFIG));
        check_binding(&text, &result)?;
        if let Err(err) = &result {
            prop_assert!(!err.message().is_empty());
        }
        // Any prefix of it too, cut anywhere (on a char boundary).
        let cut = text.char_indices().map(|(i, _)| i).nth(cut.index(text.chars().count() + 1)).unwrap_or(text.len());
        let result = config::parse_binding(&text[..cut], Path::new(CONFIG));
        check_binding(&text[..cut], &result)?;
    }

    #[test]
    fn unrelated_top_level_keys_never_change_the_binding(
        (entries, tracker) in config_doc(),
        extra in prop::collection::vec((unrelated_key(), yaml_node(), any::<Index>()), 1..4),
        at in any::<Index>(),
    ) {
        let text = render_doc(&entries, tracker.as_ref(), at);
        let mut more = entries.clone();
        for (key, value, position) in extra {
            if !more.iter().any(|(k, _)| *k == key) {
                more.insert(position.index(more.len() + 1), (key, value));
            }
        }
        let more_text = render_doc(&more, tracker.as_ref(), at);
        let before = config::parse_binding(&text, Path::new(CONFIG));
        let after = config::parse_binding(&more_text, Path::new(CONFIG));
        prop_assert_eq!(&before, &after, "{:?}\nvs\n{:?}", text, more_text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(FILE_CASES))]

    #[test]
    fn load_repo_config_reads_what_parse_binding_parses(
        text in prop_oneof![(config_doc(), any::<Index>()).prop_map(|((entries, tracker), at)| render_doc(&entries, tracker.as_ref(), at)), yaml_soup()],
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let path = dir.path().join(config::CONFIG_PATH);
        std::fs::write(&path, &text).unwrap();
        let loaded = config::load_repo_config(dir.path()).map(|c| c.binding);
        prop_assert_eq!(loaded, config::parse_binding(&text, &path));
    }

    #[test]
    fn load_repo_config_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        std::fs::write(dir.path().join(config::CONFIG_PATH), &bytes).unwrap();
        let result = config::load_repo_config(dir.path());
        check_binding(&String::from_utf8_lossy(&bytes), &result.map(|c| c.binding))?;
    }
}

// ---------------------------------------------------------------------------
// wire
// ---------------------------------------------------------------------------

/// Bodies a control plane (or something else at its URL) might answer.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|v| wire::to_body(&v)),
        any::<String>().prop_map(String::into_bytes),
    ]
}

/// A field of a search candidate: mostly a string, sometimes anything.
fn candidate_field() -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(0.9, prop_oneof![4 => any::<String>().prop_map(Value::String), 1 => json_value()])
}

/// Search answers close to the real shape, so that they often parse.
fn search_body() -> impl Strategy<Value = Value> {
    let candidate = (
        prop::collection::vec(candidate_field(), 7),
        prop::option::of(prop::sample::select(vec!["exact", "text", "EXACT", ""])),
        json_object(),
    )
        .prop_map(|(fields, match_type, mut extra)| {
            let names = ["external_issue_id", "external_issue_key", "title", "status", "url", "body", "match_type"];
            for (name, value) in names.into_iter().zip(fields) {
                match value {
                    Some(value) => extra.insert(name.to_string(), value),
                    None => extra.remove(name),
                };
            }
            if let Some(match_type) = match_type {
                extra.insert("match_type".into(), match_type.into());
            }
            Value::Object(extra)
        });
    (prop::collection::vec(candidate, 0..4), candidate_field(), candidate_field()).prop_map(|(candidates, resource_type, resource_id)| {
        let mut body = Map::new();
        body.insert("candidates".into(), Value::Array(candidates));
        for (name, value) in [("resource_type", resource_type), ("resource_id", resource_id)] {
            if let Some(value) = value {
                body.insert(name.into(), value);
            }
        }
        Value::Object(body)
    })
}

/// An error envelope that says the user must act, with any other fields.
fn user_action_body() -> impl Strategy<Value = Vec<u8>> {
    (json_object(), prop::option::of(json_value()), prop::option::of(json_value()), prop::option::of(json_value())).prop_map(
        |(mut fields, message, error_code, retry_after)| {
            for (name, value) in [("message", message), ("error_code", error_code), ("retry_after_seconds", retry_after)] {
                if let Some(value) = value {
                    fields.insert(name.into(), value);
                }
            }
            fields.insert("user_action_required".into(), Value::Bool(true));
            wire::to_body(&Value::Object(fields))
        },
    )
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop_oneof![Just(Endpoint::Search), Just(Endpoint::Bind)]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![any::<u16>(), prop::sample::select(vec![400, 401, 403, 404, 409, 418, 422, 429, 500, 502, 503, 599, 600])]
}

proptest! {
    #[test]
    fn answers_never_panic_on_arbitrary_bodies(body in body(), endpoint in endpoint(), status in status(), provider in ".*", project in ".*") {
        let _ = wire::parse_search(&body);
        let _ = wire::parse_bind(&body);
        let envelope = ErrorEnvelope::parse(&body);
        prop_assert!(!envelope.message_or_status(status).is_empty());
        let err = wire::map_error(endpoint, status, &body, &provider, &project);
        prop_assert!(!err.message().is_empty());
    }

    #[test]
    fn search_answers_keep_their_promises(body in search_body()) {
        let bytes = wire::to_body(&body);
        if let Ok(answer) = wire::parse_search(&bytes) {
            let sent = body["candidates"].as_array().unwrap();
            prop_assert_eq!(answer.candidates.len(), sent.len());
            for (candidate, sent) in answer.candidates.iter().zip(sent) {
                prop_assert_eq!(candidate.match_type == crate::model::MatchType::Exact, sent.get("match_type") == Some(&Value::from("exact")));
                prop_assert!(candidate.body.as_deref().is_none_or(|b| !b.trim().is_empty()));
                prop_assert_eq!(Some(candidate.title.as_str()), sent["title"].as_str());
            }
        } else {
            prop_assert_eq!(wire::parse_search(&bytes).unwrap_err().kind(), ErrorKind::UnexpectedResponse);
        }
        let _ = wire::parse_bind(&bytes);
    }

    #[test]
    fn bind_answers_parse_exactly_the_two_strings(id in json_value(), at in json_value(), extra in json_object()) {
        let mut body = extra;
        body.insert("origin_link_id".into(), id.clone());
        body.insert("bound_at".into(), at.clone());
        match wire::parse_bind(&wire::to_body(&Value::Object(body))) {
            Ok(answer) => {
                prop_assert_eq!(Some(answer.origin_link_id.as_str()), id.as_str());
                prop_assert_eq!(Some(answer.bound_at.as_str()), at.as_str());
            }
            Err(err) => {
                prop_assert!(!(id.is_string() && at.is_string()), "{err}");
                prop_assert_eq!(err.kind(), ErrorKind::UnexpectedResponse);
            }
        }
    }

    #[test]
    fn user_action_required_on_401_or_403_is_the_user_link_case(
        body in user_action_body(),
        endpoint in endpoint(),
        status in prop::sample::select(vec![401u16, 403]),
        provider in prop::sample::select(vec!["jira", "linear"]),
        project in ".*",
    ) {
        let err = wire::map_error(endpoint, status, &body, provider, &project);
        prop_assert_eq!(err.kind(), ErrorKind::UserLinkRequired, "{}", String::from_utf8_lossy(&body));
        prop_assert!(err.message().contains(provider), "{}", err.message());
    }

    #[test]
    fn the_envelope_keeps_its_message(message in "\\PC{0,40}", status in status()) {
        let body = wire::to_body(&serde_json::json!({ "message": message }));
        let said = ErrorEnvelope::parse(&body).message_or_status(status);
        if message.trim().is_empty() {
            prop_assert_eq!(said, format!("HTTP {status}"));
        } else {
            prop_assert_eq!(said, message.trim());
        }
    }
}

// ---------------------------------------------------------------------------
// slug and mission directory
// ---------------------------------------------------------------------------

/// Ticket keys and titles: any Unicode, path tricks, and many words.
fn ticket_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-./ a-zA-Z0-9_\u{c0}-\u{ff}\u{416}\u{4e2d}\u{1f600}\u{1f680}]{0,60}",
        prop::collection::vec("[A-Za-z0-9]{1,20}|\\.\\.|/|\\PC{1,4}", 0..40).prop_map(|words| words.join(" ")),
        "\\PC{0,400}",
    ]
}

/// Spec Kitty's kebab rule `^[a-z0-9][a-z0-9]*(-[a-z0-9]+)*$`.
fn is_kebab(slug: &str) -> bool {
    slug.split('-').all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

fn ulid() -> impl Strategy<Value = String> {
    (0u64..(1 << 48), any::<u128>()).prop_map(|(ms, random)| ulid::Ulid::from_parts(ms, random).to_string())
}

proptest! {
    #[test]
    fn derived_slugs_are_short_safe_kebab_case(key in ticket_text(), title in ticket_text(), max in 1usize..=200) {
        let slug = slug::derive_slug(&key, &title, max);
        prop_assert!(!slug.is_empty());
        prop_assert!(slug.len() <= max, "{} > {}: {:?}", slug.len(), max, slug);
        prop_assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{:?}", slug);
        prop_assert!(is_kebab(&slug), "{:?} from {:?} / {:?}", slug, key, title);
        prop_assert!(!slug.contains("..") && !slug.contains('/'), "{:?}", slug);
    }

    #[test]
    fn strip_numeric_prefix_returns_a_suffix(text in prop_oneof!["\\PC*", "[0-9]{0,4}-?\\PC{0,8}", "[0-9]{3}-"]) {
        let stripped = slug::strip_numeric_prefix(&text);
        prop_assert!(text.ends_with(stripped), "{:?} -> {:?}", text, stripped);
        prop_assert!(stripped == text || (stripped == &text[4..] && !stripped.is_empty()), "{:?} -> {:?}", text, stripped);
    }

    #[test]
    fn dir_names_end_with_the_mission_id_prefix(base in prop_oneof!["\\PC*", "[0-9]{3}-[a-z0-9-]{0,20}"], id in ulid()) {
        let name = mission_dir::dir_name(&base, &id);
        prop_assert!(name.ends_with(&format!("-{}", &id[..8])), "{:?} for {:?}", name, id);
        prop_assert_eq!(mission_dir::mid8(&id), &id[..8]);
    }

    #[test]
    fn dir_names_of_derived_slugs_are_kebab_and_bounded(key in ticket_text(), title in ticket_text(), id in ulid()) {
        let name = mission_dir::dir_name(&slug::derive_slug(&key, &title, slug::MAX_SLUG_LEN), &id);
        prop_assert!(name.len() <= 64, "{:?}", name);
        prop_assert!(is_kebab(&name.to_ascii_lowercase()), "{:?}", name);
    }
}

// ---------------------------------------------------------------------------
// meta.json
// ---------------------------------------------------------------------------

fn origin_ticket() -> impl Strategy<Value = OriginTicket> {
    prop::collection::vec(any::<String>(), 7).prop_map(|f| OriginTicket {
        provider: f[0].clone(),
        resource_type: f[1].clone(),
        resource_id: f[2].clone(),
        external_issue_id: f[3].clone(),
        external_issue_key: f[4].clone(),
        external_issue_url: f[5].clone(),
        title: f[6].clone(),
    })
}

proptest! {
    #[test]
    fn set_origin_ticket_leaves_every_other_key_alone(before in json_object(), ticket in origin_ticket()) {
        let mut after: Meta = before.clone();
        meta::set_origin_ticket(&mut after, &ticket);
        for (key, value) in &before {
            if key != meta::ORIGIN_KEY {
                prop_assert_eq!(after.get(key), Some(value), "{}", key);
            }
        }
        prop_assert_eq!(after.len(), before.len() + usize::from(!before.contains_key(meta::ORIGIN_KEY)));
        prop_assert_eq!(meta::origin_ticket(&after, Path::new("/m")).unwrap(), Some(ticket));
    }

    #[test]
    fn canonical_bytes_parse_back_sorted_with_one_newline(meta in json_object()) {
        let bytes = meta::canonical_bytes(&meta);
        prop_assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), Value::Object(meta.clone()));
        prop_assert!(bytes.ends_with(b"\n") && !bytes.ends_with(b"\n\n"), "{:?}", String::from_utf8_lossy(&bytes));
        prop_assert!(keys_sorted(&bytes), "{}", String::from_utf8_lossy(&bytes));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(FILE_CASES))]

    #[test]
    fn write_meta_then_read_meta_is_the_same_object(mut meta in json_object(), ticket in prop::option::of(origin_ticket()), unique in any::<u128>()) {
        if let Some(ticket) = &ticket {
            meta::set_origin_ticket(&mut meta, ticket);
        }
        let dir = tempfile::tempdir().unwrap();
        let written = meta::write_meta(&crate::files::StdFiles, dir.path(), &meta, unique).unwrap();
        prop_assert_eq!(&written, &meta::canonical_bytes(&meta));
        prop_assert_eq!(std::fs::read(dir.path().join(meta::META_FILE)).unwrap(), written);
        let read = meta::read_meta(dir.path()).unwrap();
        prop_assert_eq!(&read, &meta);
        if ticket.is_some() {
            prop_assert_eq!(meta::origin_ticket(&read, dir.path()).unwrap(), ticket);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        prop_assert_eq!(names, vec![std::ffi::OsString::from(meta::META_FILE)]);
    }
}

// ---------------------------------------------------------------------------
// python_json and timestamps
// ---------------------------------------------------------------------------

/// 1970-01-01 to 2200-01-01, in microseconds.
const LAST_MICROS: u64 = 7_258_118_400_000_000;

fn micros() -> impl Strategy<Value = u64> {
    prop_oneof![0..LAST_MICROS, (0..LAST_MICROS / 1_000_000).prop_map(|s| s * 1_000_000)]
}

fn parsed_micros(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|err| panic!("{text:?}: {err}")).timestamp_micros()
}

proptest! {
    #[test]
    fn python_dumps_is_one_printable_ascii_line_that_parses_back(value in json_value()) {
        let text = python_json::dumps(&value);
        prop_assert!(text.is_ascii(), "{:?}", text);
        prop_assert!(!text.contains('\n'), "{:?}", text);
        // Python's ensure_ascii escapes everything outside ' '..='~'.
        prop_assert!(text.bytes().all(|b| (b' '..=b'~').contains(&b)), "{:?}", text);
        prop_assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
        prop_assert!(keys_sorted(text.as_bytes()), "{}", text);
    }

    #[test]
    fn timestamps_parse_back_to_the_same_instant(t in micros()) {
        let micros = i64::try_from(t).unwrap();
        let iso = timestamps::python_isoformat(t);
        prop_assert_eq!(parsed_micros(&iso), micros, "{}", iso);
        prop_assert!(iso.ends_with("+00:00"));
        let pydantic = timestamps::pydantic_utc(t);
        prop_assert_eq!(parsed_micros(&pydantic), micros, "{}", pydantic);
        prop_assert!(pydantic.ends_with('Z'));
        // No fraction exactly when the microseconds are zero, six digits otherwise.
        prop_assert_eq!(iso.contains('.'), t % 1_000_000 != 0);
        prop_assert!(iso.len() == 25 || iso.len() == 32, "{}", iso);
        prop_assert_eq!(parsed_micros(&timestamps::iso_utc_seconds(t)), micros - micros % 1_000_000);
    }
}
