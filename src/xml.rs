//! A small XML element tree (quick-xml underneath): parsing answers, selecting elements by
//! path for captures, and printing the canonical form that snapshots hold.

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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not well-formed XML: {0}")]
pub struct XmlError(pub String);

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
            .map_err(|e| XmlError(format!("{e} (at byte {})", reader.error_position())))?;
        match event {
            Event::Start(s) => {
                if root.is_some() {
                    return Err(XmlError("content after the root element".into()));
                }
                stack.push(start_element(&s)?);
            }
            Event::Empty(s) => {
                let el = start_element(&s)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None if root.is_none() => root = Some(el),
                    None => return Err(XmlError("content after the root element".into())),
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                // References arrive as their own events, so the text holds none.
                let decoded = t.decode().map_err(|e| XmlError(e.to_string()))?;
                push_text(&mut stack, &root, &decoded)?;
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| XmlError(e.to_string()))?;
                let decoded =
                    if let Some(ch) = r.resolve_char_ref().map_err(|e| XmlError(e.to_string()))? {
                        ch.to_string()
                    } else {
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| XmlError(format!("unknown entity `&{name};`")))?
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
        return Err(XmlError(format!(
            "element `{}` is not closed",
            stack.last().map_or("", |e| e.name.as_str())
        )));
    }
    let mut root = root.ok_or_else(|| XmlError("no root element".into()))?;
    drop_blank_text(&mut root);
    Ok(root)
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
        None if root.is_some() => Err(XmlError("text after the root element".into())),
        None => Err(XmlError("text before the root element".into())),
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
        let a = a.map_err(|e| XmlError(e.to_string()))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a
            .unescape_value()
            .map_err(|e| XmlError(e.to_string()))?
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

fn escape_into(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
}

/// An XPath-like path: `A/B[2]/C` below the root (a leading `/Root/` is accepted), or
/// `//Name` for the first element of that name anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementPath {
    descendant: bool,
    steps: Vec<PathStep>,
    /// The root element name when the path was written absolute (`/AssumeRoleResponse/...`).
    root: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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
}
