//! A small XML element tree (quick-xml underneath): parsing answers, selecting elements by
//! path for captures, and printing the canonical form that snapshots hold.
//!
//! Depth is bounded where the tree is built, not where it is used: `parse` refuses a document
//! nesting deeper than [`MAX_DEPTH`] before building anything that deep. Everything a tree
//! goes through afterwards (printing, captures, the derived `Clone`, `PartialEq` and `Drop`,
//! code in other modules) may then recurse freely, and the canonical form's indentation
//! stays linear in the answer's size. Making every one of those iterative instead would
//! still leave the indentation quadratic and each new consumer a fresh way to overflow.

use quick_xml::Reader;
use quick_xml::events::Event;

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// The qualified name as written (`ErrorResponse`, `a:Thing`).
    pub name: String,
    /// Attributes in document order, values decoded; `xmlns` declarations included.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    /// Decoded text. Whitespace-only runs between elements are not kept.
    Text(String),
}

/// How deeply elements may nest in a document `parse` accepts. Real AWS XML answers nest
/// fewer than 20 levels; this leaves room for any real API while keeping recursion over a
/// tree and the canonical form's indentation (two spaces a level) small.
pub const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    /// `depth` is how deep the document nests; when the rest of the document was not
    /// well-formed, it is how deep it got before that (`at_least`).
    #[error(
        "elements nest {}{depth} levels deep, more than the {MAX_DEPTH} levels an answer may have",
        if *at_least { "at least " } else { "" }
    )]
    TooDeep { depth: usize, at_least: bool },
}

fn malformed(message: impl Into<String>) -> XmlError {
    XmlError::Malformed(message.into())
}

impl Element {
    /// The local name (without a prefix).
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The concatenated text directly inside this element.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out
    }

    /// The text of the first element the path selects.
    pub fn select(&self, path: &ElementPath) -> Option<String> {
        if path.descendant {
            return find_descendant(self, &path.steps[0].name).map(Element::text);
        }
        let mut cur = self;
        for step in &path.steps {
            cur = cur
                .elements()
                .filter(|e| e.local_name() == step.name)
                .nth(step.index - 1)?;
        }
        Some(cur.text())
    }
}

fn find_descendant<'a>(e: &'a Element, name: &str) -> Option<&'a Element> {
    for child in e.elements() {
        if child.local_name() == name {
            return Some(child);
        }
        if let Some(found) = find_descendant(child, name) {
            return Some(found);
        }
    }
    None
}

/// Parses a document into its root element. Comments, processing instructions and the
/// declaration are dropped; entities and character references are decoded.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(format!("{e} (at byte {})", reader.error_position())))?;
        match event {
            Event::Start(s) => {
                if root.is_some() {
                    return Err(malformed("content after the root element"));
                }
                if stack.len() == MAX_DEPTH {
                    return Err(too_deep(&mut reader, MAX_DEPTH + 1, MAX_DEPTH + 1));
                }
                stack.push(start_element(&s)?);
            }
            Event::Empty(s) => {
                if stack.len() == MAX_DEPTH {
                    return Err(too_deep(&mut reader, MAX_DEPTH, MAX_DEPTH + 1));
                }
                let el = start_element(&s)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None if root.is_none() => root = Some(el),
                    None => return Err(malformed("content after the root element")),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                // References arrive as their own events, so the text holds none.
                let decoded = t.decode().map_err(|e| malformed(e.to_string()))?;
                push_text(&mut stack, &root, &decoded)?;
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| malformed(e.to_string()))?;
                let decoded =
                    if let Some(ch) = r.resolve_char_ref().map_err(|e| malformed(e.to_string()))? {
                        ch.to_string()
                    } else {
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| malformed(format!("unknown entity `&{name};`")))?
                            .to_owned()
                    };
                push_text(&mut stack, &root, &decoded)?;
            }
            Event::CData(c) => {
                let text = String::from_utf8_lossy(&c.into_inner()).into_owned();
                push_text(&mut stack, &root, &text)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed(format!(
            "element `{}` is not closed",
            stack.last().map_or("", |e| e.name.as_str())
        )));
    }
    let mut root = root.ok_or_else(|| malformed("no root element"))?;
    drop_blank_text(&mut root);
    Ok(root)
}

/// The error for a document that just went past `MAX_DEPTH` (`open` elements open, `deepest`
/// levels seen). The rest is only scanned, building nothing, so the message can say how deep
/// the document really goes; a document that breaks off is reported as "at least".
fn too_deep(reader: &mut Reader<&[u8]>, mut open: usize, mut deepest: usize) -> XmlError {
    let complete = loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                open += 1;
                deepest = deepest.max(open);
            }
            Ok(Event::Empty(_)) => deepest = deepest.max(open + 1),
            Ok(Event::End(_)) => open = open.saturating_sub(1),
            Ok(Event::Eof) => break open == 0,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    XmlError::TooDeep {
        depth: deepest,
        at_least: !complete,
    }
}

fn push_text(stack: &mut [Element], root: &Option<Element>, text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            // quick-xml splits text around references; join the pieces back.
            if let Some(Node::Text(prev)) = parent.children.last_mut() {
                prev.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None if root.is_some() => Err(malformed("text after the root element")),
        None => Err(malformed("text before the root element")),
    }
}

/// Indentation between elements is not content: drop whitespace-only text in elements that
/// also hold elements.
fn drop_blank_text(e: &mut Element) {
    let has_elements = e.children.iter().any(|n| matches!(n, Node::Element(_)));
    if has_elements {
        e.children
            .retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    }
    for n in &mut e.children {
        if let Node::Element(c) = n {
            drop_blank_text(c);
        }
    }
}

fn start_element(s: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
    let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| malformed(e.to_string()))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        // Attribute values as an XML 1.0 parser (an SDK's) reads them: entities decoded,
        // whitespace characters normalized to spaces.
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| malformed(e.to_string()))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

/// Prints the canonical form: two-space indentation, one element per line, text inline,
/// `<A/>` for empty elements, only `&`, `<` and `>` escaped in text. `text_of` may rewrite
/// the text of an element (redaction); it gets the element path and the text.
pub fn canonical(root: &Element, text_of: &mut dyn FnMut(&[&str], &str) -> String) -> String {
    let mut out = String::with_capacity(512);
    let mut path: Vec<&str> = Vec::with_capacity(8);
    write_element(root, 0, &mut path, &mut out, text_of);
    out
}

fn write_element<'a>(
    e: &'a Element,
    depth: usize,
    path: &mut Vec<&'a str>,
    out: &mut String,
    text_of: &mut dyn FnMut(&[&str], &str) -> String,
) {
    path.push(e.local_name());
    indent(out, depth);
    out.push('<');
    out.push_str(&e.name);
    for (k, v) in &e.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape_into(out, v, true);
        out.push('"');
    }
    let only_text = e.children.iter().all(|n| matches!(n, Node::Text(_)));
    if e.children.is_empty() {
        out.push_str("/>\n");
    } else if only_text {
        out.push('>');
        let text = text_of(path, &e.text());
        escape_into(out, &text, false);
        out.push_str("</");
        out.push_str(&e.name);
        out.push_str(">\n");
    } else {
        out.push_str(">\n");
        for n in &e.children {
            match n {
                Node::Element(c) => write_element(c, depth + 1, path, out, text_of),
                Node::Text(t) => {
                    indent(out, depth + 1);
                    let text = text_of(path, t);
                    escape_into(out, &text, false);
                    out.push('\n');
                }
            }
        }
        indent(out, depth);
        out.push_str("</");
        out.push_str(&e.name);
        out.push_str(">\n");
    }
    path.pop();
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Text escapes `&`, `<` and `>` only; an attribute value also `"` (its quote). Attribute
/// values come normalized (no newline left to escape).
fn escape_into(out: &mut String, s: &str, attr: bool) {
    let text = quick_xml::escape::partial_escape(s);
    if attr && text.contains('"') {
        out.push_str(&text.replace('"', "&quot;"));
    } else {
        out.push_str(&text);
    }
}

/// Element text as the canonical form and the harness's own documents write it.
pub fn escape_text(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::partial_escape(s)
}

/// An XPath-like path: `A/B[2]/C` below the root (a leading `/Root/` is accepted), or
/// `//Name` for the first element of that name anywhere.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ElementPath {
    descendant: bool,
    steps: Vec<PathStep>,
    /// The root element name when the path was written absolute (`/AssumeRoleResponse/...`).
    root: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct PathStep {
    name: String,
    /// 1-based, as in XPath.
    index: usize,
}

impl ElementPath {
    pub fn parse(text: &str) -> Result<ElementPath, String> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("//") {
            check_name(name)?;
            return Ok(ElementPath {
                descendant: true,
                steps: vec![PathStep {
                    name: name.to_owned(),
                    index: 1,
                }],
                root: None,
            });
        }
        let (root, rest) = match text.strip_prefix('/') {
            Some(abs) => match abs.split_once('/') {
                Some((root, rest)) => (Some(root.to_owned()), rest),
                None => {
                    return Err(
                        "an absolute path names the root and at least one element below it".into(),
                    );
                }
            },
            None => (None, text),
        };
        let mut steps = Vec::new();
        for part in rest.split('/') {
            let (name, index) = match part.split_once('[') {
                Some((name, idx)) => {
                    let idx = idx
                        .strip_suffix(']')
                        .and_then(|i| i.parse::<usize>().ok())
                        .filter(|i| *i >= 1)
                        .ok_or_else(|| format!("`{part}`: an index is a number from 1 in brackets, like `member[2]`"))?;
                    (name, idx)
                }
                None => (part, 1),
            };
            check_name(name)?;
            steps.push(PathStep {
                name: name.to_owned(),
                index,
            });
        }
        Ok(ElementPath {
            descendant: false,
            steps,
            root,
        })
    }

    /// Selects from a parsed document, checking the root name of an absolute path.
    pub fn select(&self, doc: &Element) -> Option<String> {
        if let Some(root) = &self.root
            && root != doc.local_name()
        {
            return None;
        }
        doc.select(self)
    }
}

impl std::fmt::Display for ElementPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.descendant {
            f.write_str("//")?;
        } else if let Some(root) = &self.root {
            write!(f, "/{root}/")?;
        }
        for (i, s) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            f.write_str(&s.name)?;
            if s.index > 1 {
                write!(f, "[{}]", s.index)?;
            }
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an element name is empty (two `/` in a row?)".into());
    }
    if name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
    {
        Ok(())
    } else {
        Err(format!("`{name}` is not an element name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/&quot;a&amp;b&quot;</Arn>
    <UserId>AIDA&#65;</UserId>
    <Empty/>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <!-- a comment -->
  <ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;

    #[test]
    fn canonical_form_drops_declaration_and_decodes_entities() {
        let root = parse(DOC).unwrap();
        let out = canonical(&root, &mut |_, t| t.to_owned());
        assert_eq!(
            out,
            r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/"a&amp;b"</Arn>
    <UserId>AIDAA</UserId>
    <Empty/>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>x</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
"#
        );
    }

    #[test]
    fn the_canonical_form_parses_back_to_the_same_tree() {
        let root = parse(DOC).unwrap();
        let out = canonical(&root, &mut |_, t| t.to_owned());
        assert_eq!(parse(&out).unwrap(), root);
    }

    #[test]
    fn paths_select_relative_absolute_indexed_and_descendant() {
        let root = parse(DOC).unwrap();
        let sel = |p: &str| ElementPath::parse(p).unwrap().select(&root);
        assert_eq!(
            sel("GetCallerIdentityResult/Account").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            sel("/GetCallerIdentityResponse/GetCallerIdentityResult/Account").as_deref(),
            Some("123456789012")
        );
        assert_eq!(sel("/Other/GetCallerIdentityResult/Account"), None);
        assert_eq!(sel("//RequestId").as_deref(), Some("x"));
        assert_eq!(
            sel("GetCallerIdentityResult[1]/Account").as_deref(),
            Some("123456789012")
        );
        assert_eq!(sel("GetCallerIdentityResult[2]/Account"), None);
        for p in ["//RequestId", "/R/A/member[2]/B", "A/B"] {
            assert_eq!(ElementPath::parse(p).unwrap().to_string(), p);
        }
        assert!(ElementPath::parse("a//b").is_err());
        assert!(ElementPath::parse("a[0]").is_err());
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for bad in ["", "<a>", "<a></b>", "text", "<a/><b/>", "<a>&nope;</a>"] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    fn nested(depth: usize, leaf: &str) -> String {
        format!("{}{leaf}{}", "<a>".repeat(depth), "</a>".repeat(depth))
    }

    #[test]
    fn a_document_deeper_than_the_limit_is_refused_with_its_depth() {
        for (doc, depth, at_least) in [
            (nested(100_000, "x"), 100_000, false),
            (nested(MAX_DEPTH + 1, ""), MAX_DEPTH + 1, false),
            // The level past the limit is an empty element.
            (nested(MAX_DEPTH, "<b/>"), MAX_DEPTH + 1, false),
            // Deep, then it breaks off: how deep it got.
            ("<a>".repeat(100_000), 100_000, true),
            (format!("{}</b>", "<a>".repeat(300)), 300, true),
        ] {
            assert_eq!(
                parse(&doc),
                Err(XmlError::TooDeep { depth, at_least }),
                "{}...",
                &doc[..40]
            );
        }
        let message = parse(&nested(100_000, "")).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "elements nest 100000 levels deep, more than the {MAX_DEPTH} levels an answer may have"
            )
        );
        assert!(
            parse(&"<a>".repeat(100_000))
                .unwrap_err()
                .to_string()
                .starts_with("elements nest at least 100000 levels deep")
        );
    }

    #[test]
    fn a_tree_as_deep_as_allowed_parses_prints_compares_and_drops_on_a_small_stack() {
        // Everything after `parse` may recurse because `parse` bounds the depth; a thread with
        // a small stack shows that bound leaves a wide margin.
        let doc = format!(
            "<r>{}{}</r>",
            nested(MAX_DEPTH - 1, "x"),
            "<e/>".repeat(1000)
        );
        let printed = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let root = parse(&doc).unwrap();
                let copy = root.clone();
                assert_eq!(copy, root);
                let printed = canonical(&root, &mut |_, t| t.to_owned());
                assert_eq!(parse(&printed).unwrap(), root);
                assert_eq!(
                    ElementPath::parse("//e").unwrap().select(&root).as_deref(),
                    Some("")
                );
                assert_eq!(ElementPath::parse("//zz").unwrap().select(&root), None);
                drop((root, copy));
                printed
            })
            .unwrap()
            .join()
            .unwrap();
        // Indentation grows with depth, but the depth is bounded: the deepest line is the
        // limit's indentation plus the element, not the document's size.
        let widest = printed.lines().map(str::len).max().unwrap();
        assert_eq!(widest, 2 * (MAX_DEPTH - 1) + "<a>x</a>".len());
        assert!(
            printed.len() < 2 * MAX_DEPTH * MAX_DEPTH + 20 * 1000,
            "{}",
            printed.len()
        );
    }
}
