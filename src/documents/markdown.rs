//! Task texts as safe HTML. A text field (a string, or a list or mapping flattened to lines) is
//! read as Markdown by pulldown-cmark (CommonMark with GFM tables, task lists and
//! strikethrough; bare URLs become links through linkify) and the HTML is sanitized by ammonia:
//! no scripts, styles, frames, forms or event handlers, only `http`, `https` and `mailto` links,
//! each with `rel="noopener noreferrer"`. Images are shown as links to them, so a task cannot
//! make the page fetch anything from another host.
//!
//! The HTML is made on the server, for the page and for `/api/board/task` alike, so a live
//! update shows exactly what a reload shows.

use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::Builder;
use app::model::RenderedText;
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use serde_json::Value;

/// The task fields shown as Markdown, in this order, with their headings.
pub(crate) const TEXT_FIELDS: [(&str, &str); 11] = [
    ("description", "Description"),
    ("context", "Context"),
    ("requirements", "Requirements"),
    ("acceptance_criteria", "Acceptance criteria"),
    ("success_criteria", "Success criteria"),
    ("notes", "Notes"),
    ("technical_notes", "Technical notes"),
    ("implementation_notes", "Implementation notes"),
    ("result", "Result"),
    ("artefacts", "Artefacts"),
    ("artifacts", "Artifacts"),
];

/// Texts longer than this are cut (with a note) before rendering: the YAML reader already
/// bounds a file, this bounds the HTML made from it.
const MAX_TEXT_BYTES: usize = 256 * 1024;

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer"))
        .rm_tags(["img"])
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .set_tag_attribute_value("input", "disabled", "")
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true);
    builder
});

/// Every text field of `document` that has content, rendered.
pub fn render_texts(document: &Value) -> Vec<RenderedText> {
    TEXT_FIELDS
        .iter()
        .filter_map(|(field, label)| {
            let markdown = field_markdown(document.get(*field)?)?;
            Some(RenderedText {
                field: (*field).to_owned(),
                label: (*label).to_owned(),
                html: render(&markdown),
            })
        })
        .collect()
}

/// `markdown` as sanitized HTML.
pub(crate) fn render(markdown: &str) -> String {
    let markdown = cut(markdown);
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_GFM;
    let events = linkified(images_as_links(Parser::new_ext(&markdown, options)));
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    SANITIZER.clean(&html).to_string()
}

/// A field's value as Markdown: a string as it is; a list as one bullet per item; a mapping as
/// one bullet per key (`**key**: value`); nested values flattened the same way, indented.
pub(crate) fn field_markdown(value: &Value) -> Option<String> {
    let mut out = String::new();
    match value {
        Value::String(text) => out.push_str(text),
        Value::Null => return None,
        Value::Bool(_) | Value::Number(_) => out.push_str(&value.to_string()),
        Value::Array(_) | Value::Object(_) => flatten(value, 0, &mut out),
    }
    (!out.trim().is_empty()).then_some(out)
}

fn flatten(value: &Value, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    match value {
        Value::Array(items) => {
            for item in items {
                out.push_str(&indent);
                out.push_str("- ");
                bullet_body(item, depth, out);
            }
        }
        Value::Object(entries) => {
            for (key, item) in entries {
                out.push_str(&indent);
                out.push_str("- **");
                out.push_str(&escape_inline(key));
                out.push_str("**:");
                if !matches!(item, Value::Array(_) | Value::Object(_)) {
                    out.push(' ');
                }
                bullet_body(item, depth, out);
            }
        }
        _ => {
            out.push_str(&indent);
            out.push_str(&scalar(value));
            out.push('\n');
        }
    }
}

/// The rest of a bullet's line: a scalar on the line (its later lines indented under it), a
/// list or mapping as nested bullets.
fn bullet_body(item: &Value, depth: usize, out: &mut String) {
    match item {
        Value::Array(_) | Value::Object(_) => {
            out.push('\n');
            flatten(item, depth + 1, out);
        }
        _ => {
            let text = scalar(item);
            let continuation = format!("\n{}  ", "  ".repeat(depth));
            out.push_str(text.trim_end().replace('\n', &continuation).as_str());
            out.push('\n');
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A mapping key shown in bold: Markdown's own markup characters in it are escaped.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>#!|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn cut(markdown: &str) -> std::borrow::Cow<'_, str> {
    if markdown.len() <= MAX_TEXT_BYTES {
        return markdown.into();
    }
    let mut end = MAX_TEXT_BYTES;
    while !markdown.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n\n*(cut here: the text is {} KB; the whole of it is in the file)*",
        &markdown[..end],
        markdown.len() / 1024
    )
    .into()
}

/// An image becomes a link to it, its alt text the link's text.
fn images_as_links<'a>(events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    events.map(|event| match event {
        Event::Start(Tag::Image {
            dest_url, title, ..
        }) => Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url,
            title,
            id: CowStr::Borrowed(""),
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    })
}

/// Bare URLs and e-mail addresses in text (not inside links or code) become links.
fn linkified<'a>(events: impl Iterator<Item = Event<'a>>) -> Vec<Event<'a>> {
    let finder = linkify::LinkFinder::new();
    let mut out = Vec::new();
    let mut in_link = 0usize;
    for event in events {
        match event {
            Event::Start(Tag::Link { .. }) => {
                in_link += 1;
                out.push(event);
            }
            Event::End(TagEnd::Link) => {
                in_link = in_link.saturating_sub(1);
                out.push(event);
            }
            Event::Text(text) if in_link == 0 => {
                let mut rest = 0;
                for link in finder.links(&text) {
                    if link.start() > rest {
                        out.push(Event::Text(text[rest..link.start()].to_owned().into()));
                    }
                    let url = match link.kind() {
                        linkify::LinkKind::Email => format!("mailto:{}", link.as_str()),
                        _ => link.as_str().to_owned(),
                    };
                    out.push(Event::Start(Tag::Link {
                        link_type: LinkType::Autolink,
                        dest_url: url.into(),
                        title: CowStr::Borrowed(""),
                        id: CowStr::Borrowed(""),
                    }));
                    out.push(Event::Text(link.as_str().to_owned().into()));
                    out.push(Event::End(TagEnd::Link));
                    rest = link.end();
                }
                if rest == 0 {
                    out.push(Event::Text(text));
                } else if rest < text.len() {
                    out.push(Event::Text(text[rest..].to_owned().into()));
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gfm_tables_task_lists_strikethrough_and_autolinks() {
        let html = render(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] open\n\n~~old~~ see https://example.org/x",
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<td>1</td>"), "{html}");
        assert!(
            html.contains(r#"<input type="checkbox" checked="" disabled="">"#)
                || html.contains(r#"<input disabled="" type="checkbox" checked="">"#),
            "{html}"
        );
        assert!(html.contains("<del>old</del>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.org/x" target="_blank" rel="noopener noreferrer">https://example.org/x</a>"#),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_removed() {
        for payload in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<p style=\"background:url(https://evil.example/x)\">x</p>",
            "![x](https://evil.example/pixel.png)",
        ] {
            let html = render(payload).to_ascii_lowercase();
            for banned in [
                "<script",
                "onerror",
                "onload",
                "javascript:",
                "data:",
                "<svg",
                "<iframe",
                "style=",
                "<img",
            ] {
                assert!(!html.contains(banned), "{payload:?} gave {html:?}");
            }
        }
        // The image is a link the reader may follow, not a request the page makes.
        assert!(render("![pixel](https://evil.example/pixel.png)")
            .contains(r#"<a href="https://evil.example/pixel.png""#));
    }

    #[test]
    fn lists_and_mappings_flatten_to_readable_lines() {
        let value = json!({"phase": "one", "related": ["ADR-1", "ADR-2"], "a*b": "multi\nline"});
        let markdown = field_markdown(&value).unwrap();
        assert_eq!(
            markdown,
            // (keys in alphabetical order: documents are kept as JSON objects)
            "- **a\\*b**: multi\n  line\n- **phase**: one\n- **related**:\n  - ADR-1\n  - ADR-2\n"
        );
        let html = render(&markdown);
        assert!(html.contains("<strong>a*b</strong>"), "{html}");
        assert!(html.contains("<li>ADR-1</li>"), "{html}");
        assert_eq!(field_markdown(&json!([])), None);
        assert_eq!(field_markdown(&json!(null)), None);
    }

    #[test]
    fn texts_follow_the_field_order_and_skip_empty_fields() {
        let document = json!({"notes": "n", "description": "**bold**", "context": ""});
        let texts = render_texts(&document);
        let fields: Vec<&str> = texts.iter().map(|t| t.field.as_str()).collect();
        assert_eq!(fields, ["description", "notes"]);
        assert_eq!(texts[0].html.trim(), "<p><strong>bold</strong></p>");
    }
}
