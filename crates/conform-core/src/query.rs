//! The awsQuery serializer: scenario parameters plus the model's shapes in, decoded
//! key/value pairs and the form body out.
//!
//! Rules (Smithy awsQuery, as STS and IAM use them): `Action` and `Version` first; structure
//! members as `Parent.Member`; lists as `Name.member.N` (N from 1), or `Name.N` when the
//! model flattens them; maps as `Name.entry.N.key` / `.value`; an empty list as `Name=`;
//! booleans `true`/`false`; timestamps ISO 8601 UTC; blobs base64.

use base64::Engine;
use time::OffsetDateTime;

use crate::model::{Member, Model, Operation, ShapeKind};
use crate::scenario::ParamValue;
use crate::template::{UnknownVariable, Vars};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Variable(#[from] UnknownVariable),
    #[error("{0}")]
    Value(String),
}

/// A serialized call.
#[derive(Debug, Clone, PartialEq)]
pub struct Serialized {
    /// The decoded pairs, in the order they are sent.
    pub pairs: Vec<(String, String)>,
    /// Values of members the model marks sensitive (tokens, assertions, secrets): the
    /// runner keeps them out of everything it writes.
    pub sensitive: Vec<String>,
}

pub fn serialize(
    model: &Model,
    op: &Operation,
    params: &[(String, ParamValue)],
    vars: &Vars,
) -> Result<Serialized, QueryError> {
    let mut out = Vec::with_capacity(params.len() + 2);
    out.push(("Action".to_owned(), op.name.clone()));
    out.push(("Version".to_owned(), model.api_version.clone()));
    let Some(input) = op.input.as_deref() else {
        return Ok(Serialized {
            pairs: out,
            sensitive: Vec::new(),
        });
    };
    let ShapeKind::Structure { members, .. } = &model.shape(input).kind else {
        return Err(QueryError::Value(format!(
            "{} input is not a structure",
            op.name
        )));
    };
    let mut w = Writer {
        model,
        vars,
        out,
        sensitive: Vec::new(),
    };
    for (name, value) in params {
        let member = members
            .get(name)
            .ok_or_else(|| QueryError::Value(format!("unknown parameter {name}")))?;
        let key = member.location_name.clone().unwrap_or_else(|| name.clone());
        w.value(&key, member, value)?;
    }
    Ok(Serialized {
        pairs: w.out,
        sensitive: w.sensitive,
    })
}

/// `application/x-www-form-urlencoded` text of the pairs.
pub fn encode(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::with_capacity(256));
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

struct Writer<'a> {
    model: &'a Model,
    vars: &'a Vars,
    out: Vec<(String, String)>,
    sensitive: Vec<String>,
}

impl Writer<'_> {
    fn value(
        &mut self,
        prefix: &str,
        member: &Member,
        value: &ParamValue,
    ) -> Result<(), QueryError> {
        let shape = self.model.shape(&member.shape);
        let before = self.out.len();
        self.scalar_or_nested(prefix, member, shape, value)?;
        if shape.sensitive {
            let added: Vec<String> = self.out[before..].iter().map(|(_, v)| v.clone()).collect();
            self.sensitive.extend(added);
        }
        Ok(())
    }

    fn scalar_or_nested(
        &mut self,
        prefix: &str,
        member: &Member,
        shape: &crate::model::Shape,
        value: &ParamValue,
    ) -> Result<(), QueryError> {
        match (&shape.kind, value) {
            (ShapeKind::Structure { members, .. }, ParamValue::Map(entries)) => {
                for (k, v) in entries {
                    let name = k.render(self.vars)?;
                    let m = members.get(&name).ok_or_else(|| {
                        QueryError::Value(format!("unknown member {prefix}.{name}"))
                    })?;
                    let wire = m.location_name.as_deref().unwrap_or(&name);
                    self.value(&format!("{prefix}.{wire}"), m, v)?;
                }
            }
            (ShapeKind::List { member: item }, ParamValue::List(items)) => {
                if items.is_empty() {
                    self.out.push((prefix.to_owned(), String::new()));
                    return Ok(());
                }
                let flattened = member.flattened || shape.flattened;
                let base = if flattened {
                    // A flattened list repeats under its own name (or the member's wire name).
                    match &item.location_name {
                        Some(n) => replace_last(prefix, n),
                        None => prefix.to_owned(),
                    }
                } else {
                    format!(
                        "{prefix}.{}",
                        item.location_name.as_deref().unwrap_or("member")
                    )
                };
                for (i, v) in items.iter().enumerate() {
                    self.value(&format!("{base}.{}", i + 1), item, v)?;
                }
            }
            (ShapeKind::Map { key, value: val }, ParamValue::Map(entries)) => {
                let flattened = member.flattened || shape.flattened;
                let base = if flattened {
                    prefix.to_owned()
                } else {
                    format!("{prefix}.entry")
                };
                let kname = key.location_name.as_deref().unwrap_or("key");
                let vname = val.location_name.as_deref().unwrap_or("value");
                for (i, (k, v)) in entries.iter().enumerate() {
                    let n = i + 1;
                    self.out
                        .push((format!("{base}.{n}.{kname}"), k.render(self.vars)?));
                    self.value(&format!("{base}.{n}.{vname}"), val, v)?;
                }
            }
            (ShapeKind::Timestamp, ParamValue::Int(secs)) => {
                let t = OffsetDateTime::from_unix_timestamp(*secs)
                    .map_err(|e| QueryError::Value(format!("{prefix}: {e}")))?;
                self.out.push((prefix.to_owned(), iso8601(t)));
            }
            (ShapeKind::Blob, ParamValue::Str(t)) => {
                let raw = t.render(self.vars)?;
                let enc = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
                self.out.push((prefix.to_owned(), enc));
            }
            (_, ParamValue::Str(t)) => self.out.push((prefix.to_owned(), t.render(self.vars)?)),
            (_, ParamValue::Int(i)) => self.out.push((prefix.to_owned(), i.to_string())),
            (_, ParamValue::Float(f)) => self.out.push((prefix.to_owned(), format_float(*f))),
            (_, ParamValue::Bool(b)) => self.out.push((prefix.to_owned(), b.to_string())),
            (kind, v) => {
                return Err(QueryError::Value(format!(
                    "{prefix}: a {} cannot hold {v:?}",
                    shape_kind_name(kind)
                )));
            }
        }
        Ok(())
    }
}

fn replace_last(prefix: &str, name: &str) -> String {
    match prefix.rsplit_once('.') {
        Some((head, _)) => format!("{head}.{name}"),
        None => name.to_owned(),
    }
}

/// An awsQuery error document as AWS's query services write a client's mistake (`Sender`):
/// the one form the replay server, the generator and the STS reference answer with.
pub fn error_document(
    namespace: Option<&str>,
    code: &str,
    message: &str,
    request_id: &str,
) -> String {
    let xmlns = namespace.map_or(String::new(), |n| format!(" xmlns=\"{n}\""));
    format!(
        "<ErrorResponse{xmlns}><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        quick_xml::escape::partial_escape(code),
        quick_xml::escape::partial_escape(message),
    )
}

/// ISO 8601 in UTC with whole seconds, as awsQuery timestamps and STS expirations are written.
pub fn iso8601(t: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

/// Whole numbers without a fraction, others as Rust writes them.
fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn shape_kind_name(k: &ShapeKind) -> &'static str {
    match k {
        ShapeKind::Structure { .. } => "structure",
        ShapeKind::List { .. } => "list",
        ShapeKind::Map { .. } => "map",
        _ => "scalar",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;
    use std::path::Path;

    fn sts() -> Model {
        crate::model::sts_for_tests()
    }

    fn s(v: &str) -> ParamValue {
        ParamValue::Str(Template::parse(v).unwrap())
    }

    fn map(entries: &[(&str, ParamValue)]) -> ParamValue {
        ParamValue::Map(
            entries
                .iter()
                .map(|(k, v)| (Template::literal(*k), v.clone()))
                .collect(),
        )
    }

    fn run(
        model: &Model,
        op: &str,
        params: Vec<(&str, ParamValue)>,
        vars: &Vars,
    ) -> Vec<(String, String)> {
        let params: Vec<(String, ParamValue)> =
            params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        serialize(model, model.operation(op).unwrap(), &params, vars)
            .unwrap()
            .pairs
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn lists_of_structures_and_strings_use_member_n_from_one() {
        let m = sts();
        let vars: Vars = [("account_id".to_owned(), "123456789012".to_owned())].into();
        let got = run(
            &m,
            "AssumeRole",
            vec![
                ("RoleArn", s("arn:aws:iam::{{account_id}}:role/demo")),
                ("RoleSessionName", s("testAssumeRoleSession")),
                (
                    "Tags",
                    ParamValue::List(vec![
                        map(&[("Key", s("Project")), ("Value", s("Unicorn"))]),
                        map(&[("Key", s("Team")), ("Value", s("Automation"))]),
                    ]),
                ),
                ("TransitiveTagKeys", ParamValue::List(vec![s("Project")])),
                (
                    "PolicyArns",
                    ParamValue::List(vec![map(&[(
                        "arn",
                        s("arn:aws:iam::aws:policy/ReadOnlyAccess"),
                    )])]),
                ),
                ("DurationSeconds", ParamValue::Int(1600)),
            ],
            &vars,
        );
        assert_eq!(
            got,
            pairs(&[
                ("Action", "AssumeRole"),
                ("Version", "2011-06-15"),
                ("RoleArn", "arn:aws:iam::123456789012:role/demo"),
                ("RoleSessionName", "testAssumeRoleSession"),
                ("Tags.member.1.Key", "Project"),
                ("Tags.member.1.Value", "Unicorn"),
                ("Tags.member.2.Key", "Team"),
                ("Tags.member.2.Value", "Automation"),
                ("TransitiveTagKeys.member.1", "Project"),
                (
                    "PolicyArns.member.1.arn",
                    "arn:aws:iam::aws:policy/ReadOnlyAccess"
                ),
                ("DurationSeconds", "1600"),
            ])
        );
    }

    #[test]
    fn empty_lists_are_sent_as_the_bare_name() {
        let m = sts();
        let got = run(
            &m,
            "AssumeRole",
            vec![("Tags", ParamValue::List(vec![]))],
            &Vars::new(),
        );
        assert_eq!(got[2], ("Tags".to_owned(), String::new()));
        assert_eq!(encode(&got), "Action=AssumeRole&Version=2011-06-15&Tags=");
    }

    #[test]
    fn encoding_escapes_reserved_characters() {
        let body = encode(&pairs(&[("Policy", "{\"a\": \"b+c\"}"), ("X", "a&b=c")]));
        assert_eq!(body, "Policy=%7B%22a%22%3A+%22b%2Bc%22%7D&X=a%26b%3Dc");
        let back: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            back,
            pairs(&[("Policy", "{\"a\": \"b+c\"}"), ("X", "a&b=c")])
        );
    }

    #[test]
    fn sensitive_members_are_reported_for_scrubbing() {
        let m = sts();
        let params = vec![
            ("RoleArn".to_owned(), s("arn:aws:iam::1:role/r")),
            ("WebIdentityToken".to_owned(), s("eyJhbGciOi.token")),
        ];
        let op = m.operation("AssumeRoleWithWebIdentity").unwrap();
        let call = serialize(&m, op, &params, &Vars::new()).unwrap();
        assert_eq!(call.sensitive, ["eyJhbGciOi.token"]);
    }

    #[test]
    fn unknown_variables_are_errors() {
        let m = sts();
        let params = vec![("RoleArn".to_owned(), s("{{role_arn}}"))];
        let err = serialize(
            &m,
            m.operation("AssumeRole").unwrap(),
            &params,
            &Vars::new(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "unknown variable `{{role_arn}}`");
    }

    /// A synthetic model for the rules STS does not exercise: maps, flattened lists,
    /// wire names, booleans, timestamps, blobs, nested structures.
    fn synthetic() -> Model {
        let json = r#"{
          "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "syn", "protocol": "query"},
          "operations": {"Op": {"name": "Op", "input": {"shape": "In"}}},
          "shapes": {
            "In": {"type": "structure", "members": {
              "Attrs": {"shape": "AttrMap"},
              "Flat": {"shape": "FlatList", "flattened": true},
              "FlatNamed": {"shape": "NamedList", "flattened": true},
              "Named": {"shape": "NamedList"},
              "Flag": {"shape": "Bool"},
              "When": {"shape": "Time"},
              "Data": {"shape": "Bytes"},
              "Ratio": {"shape": "Dbl"},
              "Outer": {"shape": "Outer"},
              "FlatMap": {"shape": "AttrMap", "flattened": true}
            }},
            "AttrMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
            "FlatList": {"type": "list", "member": {"shape": "Str"}},
            "NamedList": {"type": "list", "member": {"shape": "Str", "locationName": "Item"}},
            "Outer": {"type": "structure", "members": {"Inner": {"shape": "Inner", "locationName": "In"}}},
            "Inner": {"type": "structure", "members": {"Leaf": {"shape": "Str"}}},
            "Str": {"type": "string"}, "Bool": {"type": "boolean"}, "Time": {"type": "timestamp"},
            "Bytes": {"type": "blob"}, "Dbl": {"type": "double"}
          }
        }"#;
        Model::from_json(json, Path::new("syn.json")).unwrap()
    }

    #[test]
    fn maps_flattened_lists_wire_names_and_scalars() {
        let m = synthetic();
        let got = run(
            &m,
            "Op",
            vec![
                ("Attrs", map(&[("color", s("red")), ("size", s("L"))])),
                ("Flat", ParamValue::List(vec![s("a"), s("b")])),
                ("FlatNamed", ParamValue::List(vec![s("c")])),
                ("Named", ParamValue::List(vec![s("d")])),
                ("Flag", ParamValue::Bool(false)),
                ("When", ParamValue::Int(1_700_000_000)),
                ("Data", s("hi")),
                ("Ratio", ParamValue::Float(0.5)),
                ("Outer", map(&[("Inner", map(&[("Leaf", s("x"))]))])),
                ("FlatMap", map(&[("k", s("v"))])),
            ],
            &Vars::new(),
        );
        assert_eq!(
            got[2..],
            pairs(&[
                ("Attrs.entry.1.key", "color"),
                ("Attrs.entry.1.value", "red"),
                ("Attrs.entry.2.key", "size"),
                ("Attrs.entry.2.value", "L"),
                ("Flat.1", "a"),
                ("Flat.2", "b"),
                ("Item.1", "c"),
                ("Named.Item.1", "d"),
                ("Flag", "false"),
                ("When", "2023-11-14T22:13:20Z"),
                ("Data", "aGk="),
                ("Ratio", "0.5"),
                ("Outer.In.Leaf", "x"),
                ("FlatMap.1.key", "k"),
                ("FlatMap.1.value", "v"),
            ])[..]
        );
    }

    #[test]
    fn an_error_document_escapes_its_message_and_parses_back() {
        let doc = error_document(
            Some("https://iam.amazonaws.com/doc/2010-05-08/"),
            "ValidationError",
            "Value at 'policyDocument' failed: <&>",
            "00000000-0000-4000-8000-000000000000",
        );
        assert!(doc.starts_with(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
        ));
        let tree = crate::xml::parse(&doc).unwrap();
        let message = crate::xml::ElementPath::parse("Error/Message").unwrap();
        assert_eq!(
            tree.select(&message).as_deref(),
            Some("Value at 'policyDocument' failed: <&>")
        );
        assert!(!error_document(None, "C", "m", "r").contains("xmlns"));
    }
}
