//! A YAML document straight into a JSON value, in one pass over the events of
//! [saphyr-parser](https://docs.rs/saphyr-parser) (a maintained, pure-Rust YAML 1.2 parser): no
//! YAML tree is built and converted afterwards. It replaced libyaml (through serde_norway) for the
//! board's files because the first scan of 10 000 task files spent four fifths of its time in
//! libyaml's scanner (BENCHMARKS.md, 2026-12-03).
//!
//! The rules are those of the board's documents, as they were with serde_norway:
//! - scalars resolve by YAML 1.2's core schema: `~`, `null` and nothing are null; `true`/`false`
//!   (also `True`, `TRUE`…) booleans; decimal, `0x`, `0o` and `0b` integers; floats, with `.inf`,
//!   `-.inf` and `.nan` kept as those strings (JSON has no such numbers); `0123` stays text; quoted
//!   and block scalars are text;
//! - tags are dropped, except the core schema's scalar tags (`!!str 5` is text, `!!int "5"` a
//!   number, and an `!!int` that is not one is an error);
//! - keys become text (`1` → `"1"`, `~` → `"null"`, a list or mapping key → its JSON text); a key
//!   repeated in one mapping is an error, as YAML says, but `1` and `"1"` are two keys (the later
//!   wins in JSON);
//! - limits: one document per file; nesting at most [`MAX_DEPTH`] deep ("recursion limit
//!   exceeded"); aliases expand to at most [`MAX_ALIASED_NODES`] nodes in all ("repetition limit
//!   exceeded", the billion-laughs bomb).

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

/// Mappings and lists nested deeper than this are refused.
pub(crate) const MAX_DEPTH: usize = 128;

/// The nodes that aliases may add to one document, all aliases together.
pub(crate) const MAX_ALIASED_NODES: usize = 100_000;

/// Why a text is not a document of the board, and where (1-based line and column).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message} at line {line} column {column}")]
pub(crate) struct YamlError {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) message: String,
}

impl YamlError {
    fn at(mark: &Marker, message: impl Into<String>) -> YamlError {
        YamlError {
            line: mark.line() as u32,
            column: mark.col() as u32 + 1,
            message: message.into(),
        }
    }
}

impl From<ScanError> for YamlError {
    fn from(error: ScanError) -> YamlError {
        YamlError::at(error.marker(), error.info())
    }
}

/// Parses one YAML document into JSON (an empty text is `null`).
pub(crate) fn parse(text: &str) -> Result<Value, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next?;
        builder.take(event, &span)?;
    }
    Ok(builder.document.unwrap_or(Value::Null))
}

/// Builds the document from the parser's events.
#[derive(Default)]
struct Builder {
    /// The lists and mappings being read, outermost first.
    open: Vec<Open>,
    /// Anchored values by the parser's anchor id, with their node counts.
    anchors: HashMap<usize, (Value, usize)>,
    /// Nodes added by aliases so far.
    aliased_nodes: usize,
    documents: usize,
    document: Option<Value>,
}

/// A list or mapping not closed yet.
struct Open {
    collection: Collection,
    anchor: usize,
    /// Nodes inside it so far (for the alias limit).
    nodes: usize,
    start: Marker,
}

enum Collection {
    List(Vec<Value>),
    Mapping {
        entries: Map<String, Value>,
        /// The key read, waiting for its value.
        key: Option<Key>,
        /// Keys that were not strings in the YAML: `1` and `"1"` are two keys there (the later
        /// wins in JSON), while `1` twice is a duplicate.
        non_string_keys: Vec<String>,
    },
}

struct Key {
    text: String,
    was_string: bool,
    at: Marker,
}

impl Builder {
    fn take(&mut self, event: Event<'_>, span: &Span) -> Result<(), YamlError> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError::at(
                        &span.start,
                        "deserializing from YAML containing more than one document is not supported",
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(text, style, tag.as_deref())
                    .map_err(|message| YamlError::at(&span.start, message))?;
                self.close_node(value, 1, anchor, span.start)?;
            }
            Event::Alias(id) => {
                let Some((value, nodes)) = self.anchors.get(&id) else {
                    return Err(YamlError::at(&span.start, "unknown anchor"));
                };
                self.aliased_nodes += nodes;
                if self.aliased_nodes > MAX_ALIASED_NODES {
                    return Err(YamlError::at(&span.start, "repetition limit exceeded"));
                }
                let (value, nodes) = (value.clone(), *nodes);
                self.close_node(value, nodes, 0, span.start)?;
            }
            Event::SequenceStart(anchor, _tag) => {
                self.open(Collection::List(Vec::new()), anchor, span)?;
            }
            Event::MappingStart(anchor, _tag) => {
                let mapping = Collection::Mapping {
                    entries: Map::new(),
                    key: None,
                    non_string_keys: Vec::new(),
                };
                self.open(mapping, anchor, span)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = self.open.pop() else {
                    return Ok(());
                };
                let value = match open.collection {
                    Collection::List(items) => Value::Array(items),
                    Collection::Mapping { entries, .. } => Value::Object(entries),
                };
                self.close_node(value, open.nodes + 1, open.anchor, open.start)?;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn open(
        &mut self,
        collection: Collection,
        anchor: usize,
        span: &Span,
    ) -> Result<(), YamlError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(YamlError::at(&span.start, "recursion limit exceeded"));
        }
        self.open.push(Open {
            collection,
            anchor,
            nodes: 0,
            start: span.start,
        });
        Ok(())
    }

    /// A whole node was read (`nodes` of them, counting what it holds): into its list, as a
    /// mapping's key or value, or as the document.
    fn close_node(
        &mut self,
        value: Value,
        nodes: usize,
        anchor: usize,
        start: Marker,
    ) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), nodes));
        }
        let Some(parent) = self.open.last_mut() else {
            self.document = Some(value);
            return Ok(());
        };
        parent.nodes += nodes;
        match &mut parent.collection {
            Collection::List(items) => items.push(value),
            Collection::Mapping {
                entries,
                key,
                non_string_keys,
            } => match key.take() {
                None => {
                    *key = Some(Key {
                        was_string: value.is_string(),
                        text: key_text(value),
                        at: start,
                    });
                }
                Some(Key {
                    text,
                    was_string,
                    at,
                }) => {
                    let seen_as_non_string = non_string_keys.contains(&text);
                    if entries.insert(text.clone(), value).is_some()
                        && was_string != seen_as_non_string
                    {
                        return Err(YamlError::at(&at, duplicate(&text, was_string)));
                    }
                    if !was_string && !seen_as_non_string {
                        non_string_keys.push(text);
                    }
                }
            },
        }
        Ok(())
    }
}

/// A scalar's value, by its style and tag.
fn scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag.filter(|tag| tag.is_yaml_core_schema()) {
        let invalid =
            |expected: &str| format!("invalid value: string {text:?}, expected {expected}");
        return match tag.suffix.as_str() {
            "bool" => parse_bool(&text)
                .map(Value::Bool)
                .ok_or_else(|| invalid("a boolean")),
            "int" => integer(&text).ok_or_else(|| invalid("an integer")),
            "float" => parse_f64(&text)
                .map(float)
                .ok_or_else(|| invalid("a float")),
            "null" if is_null(&text) => Ok(Value::Null),
            "null" => Err(invalid("null")),
            _ => Ok(Value::String(text.into_owned())),
        };
    }
    Ok(match style {
        ScalarStyle::Plain => plain(text),
        _ => Value::String(text.into_owned()),
    })
}

/// An untagged plain scalar, by the core schema.
fn plain(text: Cow<'_, str>) -> Value {
    if text.is_empty() || is_null(&text) {
        return Value::Null;
    }
    if let Some(boolean) = parse_bool(&text) {
        return Value::Bool(boolean);
    }
    if let Some(number) = integer(&text) {
        return number;
    }
    if !digits_but_not_number(&text) {
        if let Some(f) = parse_f64(&text) {
            return float(f);
        }
    }
    Value::String(text.into_owned())
}

fn is_null(text: &str) -> bool {
    matches!(text, "null" | "Null" | "NULL" | "~")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A decimal, `0x`, `0o` or `0b` integer with an optional sign that fits 64 bits.
fn integer(text: &str) -> Option<Value> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = unsigned.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = unsigned.strip_prefix("0o") {
        (8, octal)
    } else if let Some(binary) = unsigned.strip_prefix("0b") {
        (2, binary)
    } else if digits_but_not_number(unsigned) {
        return None;
    } else {
        (10, unsigned)
    };
    // `from_str_radix` takes a sign of its own: one sign only, before any prefix.
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(Value::from(magnitude));
    }
    i64::try_from(-i128::from(magnitude)).ok().map(Value::from)
}

/// Leading zeros followed by digits are text in YAML 1.2 (`0123`).
fn digits_but_not_number(text: &str) -> bool {
    let text = text.strip_prefix(['-', '+']).unwrap_or(text);
    text.len() > 1 && text.starts_with('0') && text[1..].bytes().all(|b| b.is_ascii_digit())
}

fn parse_f64(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    match (unsigned, text) {
        (".inf" | ".Inf" | ".INF", _) => Some(f64::INFINITY),
        (_, "-.inf" | "-.Inf" | "-.INF") => Some(f64::NEG_INFINITY),
        (_, ".nan" | ".NaN" | ".NAN") => Some(f64::NAN),
        // Rust also reads `inf` and `NaN`, which YAML does not.
        _ => unsigned.parse::<f64>().ok().filter(|f| f.is_finite()),
    }
}

/// A float as JSON; the non-finite ones as YAML writes them.
fn float(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f.is_nan() => Value::String(".nan".into()),
        None if f.is_sign_negative() => Value::String("-.inf".into()),
        None => Value::String(".inf".into()),
    }
}

fn key_text(key: Value) -> String {
    match key {
        Value::String(s) => s,
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

/// The message for a repeated key, worded as serde_norway's was.
fn duplicate(text: &str, was_string: bool) -> String {
    match (was_string, text) {
        (true, _) => format!("duplicate entry with key {text:?}"),
        (false, "null") => "duplicate entry with null key".to_owned(),
        (false, "true" | "false") => format!("duplicate entry with key `{text}`"),
        (false, _) => format!("duplicate entry with key {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_rules_of_the_board_s_documents() {
        let value = parse(
            "id: a\n1: one\n~: nothing\ntrue: yes\nx: !custom 5\n[1, 2]: list\n\
             inf: .inf\nneg: -.inf\nnan: .nan\nbig: 18446744073709551615\nf: 1.5\n\
             nested: {a: [1, {b: null}]}\n",
        )
        .unwrap();
        assert_eq!(
            value,
            json!({
                "id": "a", "1": "one", "null": "nothing", "true": "yes", "x": 5,
                "[1,2]": "list", "inf": ".inf", "neg": "-.inf", "nan": ".nan",
                "big": 18446744073709551615u64, "f": 1.5, "nested": {"a": [1, {"b": null}]}
            })
        );
    }

    /// Every YAML file under `dir`, recursively.
    fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }

    /// The parser it replaced (libyaml through serde_norway) and this one read the same task
    /// files alike: the demo's, and those of `EXECDASH_YAML_CORPUS` (a folder, e.g. a real
    /// repository's `work/collaboration`) when set. serde_norway into a JSON value refuses
    /// non-string keys, which the board reads; those files are only checked to parse.
    #[test]
    fn task_files_read_as_they_did_with_libyaml() {
        let mut files = Vec::new();
        yaml_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo"),
            &mut files,
        );
        if let Some(corpus) = std::env::var_os("EXECDASH_YAML_CORPUS") {
            yaml_files(std::path::Path::new(&corpus), &mut files);
        }
        assert!(files.len() >= 15, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let ours = parse(text);
            match serde_norway::from_str::<Value>(text) {
                Ok(theirs) => assert_eq!(ours.as_ref().ok(), Some(&theirs), "{}", file.display()),
                Err(err) if err.to_string().contains("expected a string") => {}
                Err(err) => {
                    let ours = ours.expect_err(&format!("{} is broken: {err}", file.display()));
                    let line = err.location().map(|l| l.line() as u32);
                    assert_eq!(Some(ours.line), line, "{}: {ours} / {err}", file.display());
                }
            }
        }
    }

    /// What task files hold, written in the ways YAML allows, reads as it did with libyaml.
    #[test]
    fn yaml_s_forms_read_as_they_did_with_libyaml() {
        for text in [
            "id: a\r\ntitle: CRLF line ends\r\nnotes: |\r\n  one\r\n  two\r\n",
            "title: >\n  folded\n  text\n\n  para\nnext: >-\n  kept\n",
            "keep: |+\n  a\n\nstrip: |-\n  b\nindented: |2\n    c\n",
            "plain: a multi\n  line plain\n  scalar\nafter: x # a comment\n",
            "q: 'it''s'\nd: \"tab\\tnew\\nline \\u00e9 \\x41\"\nu: héllo ✓\n",
            "flow: {a: 1, b: [x, 'y', \"z\"], c: {}}\nempty: []\n",
            "list:\n- a\n- b: 1\n  c: 2\n-   - nested\n",
            "? complex key\n: value\n\"quoted key\": v\n'single': w\n",
            "base: &b\n  x: 1\nuse: *b\nlist: [&i 1, *i]\n",
            "n1: 1.0\nn2: -2.5e-3\nn3: 0.1\nn4: +7\nn5: 1e400\nn6: 12:30\nn7: 2026-11-23\n",
            "t1: yes\nt2: No\nt3: on\nt4: ~\nt5: null\nt6:\n",
            "---\nid: a\n...\n",
            "%YAML 1.2\n---\nid: a\n",
            "id: !!str 123\ntags: !!seq [a]\n",
            "long: \"a string that goes\n  on over lines\"\n",
        ] {
            let theirs = serde_norway::from_str::<Value>(text).unwrap();
            assert_eq!(parse(text).unwrap(), theirs, "{text:?}");
        }
        for broken in ["a: b: c\n", "a: [1, 2\n", "a:\n  - x\n - y\n", "a: 'open\n"] {
            assert!(
                serde_norway::from_str::<Value>(broken).is_err(),
                "{broken:?}"
            );
            assert!(parse(broken).is_err(), "{broken:?}");
        }
        // The one difference found: a tab before a top-level key, which libyaml refused.
        assert!(serde_norway::from_str::<Value>("\tid: a\n").is_err());
        assert_eq!(parse("\tid: a\n").unwrap(), serde_json::json!({"id": "a"}));
    }

    #[test]
    fn scalars_resolve_by_the_core_schema() {
        let value = parse(
            "a: ~\nb:\nc: Null\nd: TRUE\ne: False\nf: 0x1F\ng: -0o17\nh: 0b101\ni: +42\n\
             j: -9223372036854775808\nk: 0123\nl: '12'\nm: \"true\"\nn: 1e3\no: 1_000\n\
             p: inf\nq: |\n  7\nr: !!str 5\ns: !!int \"6\"\nt: !!float '2'\nu: -0\nv: .NaN\n",
        )
        .unwrap();
        assert_eq!(
            value,
            json!({
                "a": null, "b": null, "c": null, "d": true, "e": false, "f": 31, "g": -15,
                "h": 5, "i": 42, "j": i64::MIN, "k": "0123", "l": "12", "m": "true",
                "n": 1000.0, "o": "1_000", "p": "inf", "q": "7\n", "r": "5", "s": 6,
                "t": 2.0, "u": 0, "v": ".nan"
            })
        );
        let err = parse("a: !!int x\n").unwrap_err();
        assert_eq!(
            (err.line, err.message.as_str()),
            (1, "invalid value: string \"x\", expected an integer")
        );
    }

    #[test]
    fn a_repeated_key_is_an_error_but_a_string_and_a_number_are_two_keys() {
        let err = parse("id: a\ntitle: x\nid: b\n").unwrap_err();
        assert_eq!(err.message, "duplicate entry with key \"id\"");
        assert_eq!((err.line, err.column), (3, 1));
        let err = parse("1: a\n1: b\n").unwrap_err();
        assert_eq!(err.message, "duplicate entry with key 1");
        assert_eq!(parse("1: a\n'1': b\n").unwrap(), json!({"1": "b"}));
        assert_eq!(parse("'1': a\n1: b\n").unwrap(), json!({"1": "b"}));
    }

    #[test]
    fn aliases_expand_and_anchors_may_be_keys() {
        let value = parse("base: &b {x: 1}\ncopy: *b\n&k key: v\nagain: *k\n").unwrap();
        assert_eq!(
            value,
            json!({"base": {"x": 1}, "copy": {"x": 1}, "key": "v", "again": "key"})
        );
        let err = parse("a: *nowhere\n").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
    }

    #[test]
    fn limits_and_broken_documents_have_a_position() {
        let deep = format!("id: {}1{}\n", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep)
            .unwrap_err()
            .message
            .contains("recursion limit"));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (name, prev) in ["b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f"])
        {
            bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(err.message.contains("repetition limit"), "{err}");
        assert_eq!(err.line, 6, "{err}");
        let err = parse("id: a\ntitle: x\ndescription: |\n  ok\nnotes:\n* Phase 1\n").unwrap_err();
        assert_eq!(err.line, 6, "{err}");
        let err = parse("--- a\n--- b\n").unwrap_err();
        assert!(err.message.contains("more than one document"), "{err}");
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(parse("# only a comment\n").unwrap(), Value::Null);
    }
}
