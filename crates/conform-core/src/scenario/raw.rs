//! The serde layer: a scenario file as written, every node with its place in the file, so
//! the checks that follow can point at it. Nothing here knows the model.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Reads a scenario file (`cases:` and its list), handing each case to `each` as soon as it
/// is read: the raw tree of a file (every node with its place) is many times the size of its
/// text, so only one case's is held at a time. Anything else in the file is refused as a
/// derived `struct { cases: Vec<RawCase> }` would refuse it, in the same words.
pub(super) fn read_cases(
    text: &str,
    each: &mut dyn FnMut(RawCase),
) -> Result<(), serde_saphyr::Error> {
    serde_saphyr::with_deserializer_from_str(text, |d| {
        d.deserialize_struct("RawFile", FILE_FIELDS, FileVisitor { each })
    })
}

const FILE_FIELDS: &[&str] = &["cases"];

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum FileField {
    Cases,
}

struct FileVisitor<'a> {
    each: &'a mut dyn FnMut(RawCase),
}

impl<'de> Visitor<'de> for FileVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct RawFile")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match seq.next_element_seed(CasesSeed { each: self.each })? {
            Some(()) => Ok(()),
            None => Err(de::Error::invalid_length(
                0,
                &"struct RawFile with 1 element",
            )),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(FileField::Cases) = map.next_key::<FileField>()? {
            if seen {
                return Err(de::Error::duplicate_field("cases"));
            }
            seen = true;
            map.next_value_seed(CasesSeed {
                each: &mut *self.each,
            })?;
        }
        if seen {
            Ok(())
        } else {
            Err(de::Error::missing_field("cases"))
        }
    }
}

/// The `cases:` list, read one case at a time.
struct CasesSeed<'a> {
    each: &'a mut dyn FnMut(RawCase),
}

impl<'de> de::DeserializeSeed<'de> for CasesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CasesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(case) = seq.next_element::<RawCase>()? {
            (self.each)(case);
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    pub provenance: Spanned<String>,
    pub description: Spanned<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub pin: Option<Spanned<Vec<Spanned<String>>>>,
    pub steps: Spanned<Vec<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    #[serde(default)]
    pub name: Option<String>,
    pub service: Option<Spanned<String>>,
    #[serde(default)]
    pub setup: bool,
    #[serde(default)]
    pub cleanup: bool,
    pub operation: Option<Spanned<String>>,
    pub params: Option<Spanned<RawNode>>,
    pub credentials: Option<Spanned<RawNode>>,
    pub capture: Option<Spanned<RawNode>>,
    pub raw: Option<Spanned<RawHttp>>,
}

/// A step's `raw:` mapping: the request written by hand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    pub method: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub query: Option<Spanned<String>>,
    pub body: Option<Spanned<String>>,
    pub headers: Option<Spanned<RawNode>>,
}

/// Any YAML value, with the location of every node: parameters, credentials and captures
/// are read this way because their shape depends on the model or on what is written.
#[derive(Debug, Clone)]
pub(super) enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<String>, Spanned<RawNode>)>),
}

impl RawNode {
    /// What was written, in the words an error message uses.
    pub fn describe(&self) -> String {
        match self {
            RawNode::Null => "nothing (null)".into(),
            RawNode::Bool(b) => format!("the boolean {b}"),
            RawNode::Int(i) => format!("the number {i}"),
            RawNode::Float(f) => format!("the number {f}"),
            RawNode::Str(s) => format!("the text {s:?}"),
            RawNode::Seq(_) => "a list".into(),
            RawNode::Map(_) => "a mapping".into(),
        }
    }

    pub fn as_scalar_text(&self) -> Option<String> {
        match self {
            RawNode::Bool(b) => Some(b.to_string()),
            RawNode::Int(i) => Some(i.to_string()),
            RawNode::Float(f) => Some(f.to_string()),
            RawNode::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
        i64::try_from(v)
            .map(RawNode::Int)
            .map_err(|_| E::custom(format!("the number {v} is too large")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
            out.push(item);
        }
        Ok(RawNode::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<Spanned<String>>()? {
            let v = map.next_value::<Spanned<RawNode>>()?;
            out.push((k, v));
        }
        Ok(RawNode::Map(out))
    }
}
