//! Service models in botocore's `service-2` JSON form, loaded once and queried by the
//! scenario loader (validation), the query serializer and the coverage tooling.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model {path} is not a valid botocore service model: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("model {path}: shape `{shape}` refers to unknown shape `{target}`")]
    DanglingShape {
        path: PathBuf,
        shape: String,
        target: String,
    },
    #[error("model {path}: protocol `{protocol}` is not supported (conform speaks awsQuery)")]
    Protocol { path: PathBuf, protocol: String },
}

/// One AWS service: its metadata, operations and shapes.
#[derive(Debug, Clone)]
pub struct Model {
    /// The short name used in paths and test names (`sts`, `iam`): the endpoint prefix.
    pub service: String,
    pub api_version: String,
    pub signing_name: String,
    pub xml_namespace: Option<String>,
    pub operations: BTreeMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub input: Option<String>,
    pub output: Option<String>,
    pub result_wrapper: Option<String>,
    /// Error shape names, in model order.
    pub errors: Vec<String>,
    /// True when the model says the operation takes no SigV4 signature.
    pub unsigned: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ShapeKind {
    Structure {
        members: BTreeMap<String, Member>,
        required: Vec<String>,
        /// Member names in model order: AWS validates and answers in this order.
        order: Vec<String>,
    },
    List {
        member: Member,
    },
    Map {
        key: Member,
        value: Member,
    },
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub shape: String,
    /// The wire name when it differs from the member name.
    pub location_name: Option<String>,
    pub flattened: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub name: String,
    pub kind: ShapeKind,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    pub enum_values: Vec<String>,
    pub flattened: bool,
    pub sensitive: bool,
    /// Present on exception shapes.
    pub error: Option<ErrorInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    pub code: String,
    pub status: u16,
    pub sender_fault: bool,
}

impl Model {
    /// Parses a model; `path` is only used in error messages.
    pub fn from_json(text: &str, path: &Path) -> Result<Model, ModelError> {
        let raw: RawModel = serde_json::from_str(text).map_err(|source| ModelError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let protocol = raw.metadata.protocol.clone();
        if protocol != "query" {
            return Err(ModelError::Protocol {
                path: path.to_owned(),
                protocol,
            });
        }
        let shapes: HashMap<String, Shape> = raw
            .shapes
            .into_iter()
            .map(|(name, s)| {
                let shape = s.into_shape(&name);
                (name, shape)
            })
            .collect();
        for shape in shapes.values() {
            for target in shape.references() {
                if !shapes.contains_key(target) {
                    return Err(ModelError::DanglingShape {
                        path: path.to_owned(),
                        shape: shape.name.clone(),
                        target: target.to_owned(),
                    });
                }
            }
        }
        let operations = raw
            .operations
            .into_iter()
            .map(|(name, op)| {
                let unsigned = op.authtype.as_deref() == Some("none")
                    || op
                        .auth
                        .as_ref()
                        .is_some_and(|a| a.iter().all(|x| x == "smithy.api#noAuth"));
                let operation = Operation {
                    name: name.clone(),
                    input: op.input.map(|r| r.shape),
                    result_wrapper: op.output.as_ref().and_then(|r| r.result_wrapper.clone()),
                    output: op.output.map(|r| r.shape),
                    errors: op.errors.into_iter().map(|r| r.shape).collect(),
                    unsigned,
                };
                (name, operation)
            })
            .collect();
        let md = raw.metadata;
        Ok(Model {
            service: md.endpoint_prefix.clone(),
            signing_name: md.signing_name.unwrap_or(md.endpoint_prefix),
            api_version: md.api_version,
            xml_namespace: md.xml_namespace,
            operations,
            shapes,
        })
    }

    /// The operation names, comma-separated, for messages that list them.
    pub fn operation_list(&self) -> String {
        self.operations
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    pub fn shape(&self, name: &str) -> &Shape {
        // Every reference was checked at load time, so a miss is a bug in conform.
        self.shapes
            .get(name)
            .unwrap_or_else(|| panic!("shape `{name}` was checked at load time"))
    }

    /// The input structure's members of an operation (empty when it takes none).
    pub fn input_members(&self, op: &Operation) -> Option<&Shape> {
        op.input.as_deref().map(|s| self.shape(s))
    }

    /// The exception shapes an operation may return, with their wire codes.
    pub fn errors_of<'a>(&'a self, op: &'a Operation) -> impl Iterator<Item = &'a Shape> + 'a {
        op.errors.iter().map(|e| self.shape(e))
    }
}

impl Shape {
    fn references(&self) -> Vec<&str> {
        match &self.kind {
            ShapeKind::Structure { members, .. } => {
                members.values().map(|m| m.shape.as_str()).collect()
            }
            ShapeKind::List { member } => vec![member.shape.as_str()],
            ShapeKind::Map { key, value } => vec![key.shape.as_str(), value.shape.as_str()],
            _ => Vec::new(),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ShapeKind::Structure { .. } => "structure",
            ShapeKind::List { .. } => "list",
            ShapeKind::Map { .. } => "map",
            ShapeKind::String => "string",
            ShapeKind::Integer => "integer",
            ShapeKind::Long => "long",
            ShapeKind::Float => "float",
            ShapeKind::Double => "double",
            ShapeKind::Boolean => "boolean",
            ShapeKind::Timestamp => "timestamp",
            ShapeKind::Blob => "blob",
        }
    }
}

#[derive(Deserialize)]
struct RawModel {
    metadata: RawMetadata,
    operations: BTreeMap<String, RawOperation>,
    shapes: BTreeMap<String, RawShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    api_version: String,
    endpoint_prefix: String,
    protocol: String,
    signing_name: Option<String>,
    xml_namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOperation {
    input: Option<RawRef>,
    output: Option<RawRef>,
    #[serde(default)]
    errors: Vec<RawRef>,
    authtype: Option<String>,
    auth: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRef {
    shape: String,
    result_wrapper: Option<String>,
    location_name: Option<String>,
    #[serde(default)]
    flattened: bool,
}

impl RawRef {
    fn into_member(self) -> Member {
        Member {
            shape: self.shape,
            location_name: self.location_name,
            flattened: self.flattened,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "ordered")]
    members: Vec<(String, RawRef)>,
    #[serde(default)]
    required: Vec<String>,
    member: Option<RawRef>,
    key: Option<RawRef>,
    value: Option<RawRef>,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<String>,
    #[serde(rename = "enum", default)]
    enum_values: Vec<String>,
    #[serde(default)]
    flattened: bool,
    #[serde(default)]
    sensitive: bool,
    error: Option<RawError>,
    #[serde(default)]
    exception: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawError {
    code: Option<String>,
    http_status_code: Option<u16>,
    #[serde(default)]
    sender_fault: bool,
}

/// A JSON object as its entries in document order (serde_json's map would sort them).
fn ordered<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, RawRef)>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<(String, RawRef)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of members")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut m: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = m.next_entry::<String, RawRef>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

impl RawShape {
    fn into_shape(self, name: &str) -> Shape {
        let fallback = |r: Option<RawRef>| {
            r.map(RawRef::into_member).unwrap_or(Member {
                shape: "String".into(),
                location_name: None,
                flattened: false,
            })
        };
        let kind = match self.kind.as_str() {
            "structure" => ShapeKind::Structure {
                order: self.members.iter().map(|(k, _)| k.clone()).collect(),
                members: self
                    .members
                    .into_iter()
                    .map(|(k, v)| (k, v.into_member()))
                    .collect(),
                required: self.required,
            },
            "list" => ShapeKind::List {
                member: fallback(self.member),
            },
            "map" => ShapeKind::Map {
                key: fallback(self.key),
                value: fallback(self.value),
            },
            "integer" => ShapeKind::Integer,
            "long" => ShapeKind::Long,
            "float" => ShapeKind::Float,
            "double" => ShapeKind::Double,
            "boolean" => ShapeKind::Boolean,
            "timestamp" => ShapeKind::Timestamp,
            "blob" => ShapeKind::Blob,
            _ => ShapeKind::String,
        };
        // An exception without an `error` entry (IAM's Organizations errors) is still an
        // error: botocore answers its shape name as the code, with status 400.
        let error = match self.error {
            Some(e) => Some(ErrorInfo {
                code: e.code.unwrap_or_else(|| name.to_owned()),
                status: e.http_status_code.unwrap_or(400),
                sender_fault: e.sender_fault,
            }),
            None if self.exception => Some(ErrorInfo {
                code: name.to_owned(),
                status: 400,
                sender_fault: false,
            }),
            None => None,
        };
        Shape {
            name: name.to_owned(),
            kind,
            min: self.min,
            max: self.max,
            pattern: self.pattern,
            enum_values: self.enum_values,
            flattened: self.flattened,
            sensitive: self.sensitive,
            error,
        }
    }
}

/// The project's STS model, for the core's unit tests (which read no file).
#[cfg(test)]
pub(crate) fn sts_for_tests() -> Model {
    Model::from_json(
        include_str!("../../../models/sts-2011-06-15.json"),
        Path::new("models/sts-2011-06-15.json"),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts() -> Model {
        sts_for_tests()
    }

    #[test]
    fn sts_has_twelve_operations_and_knows_which_are_unsigned() {
        let m = sts();
        assert_eq!(m.service, "sts");
        assert_eq!(m.api_version, "2011-06-15");
        // botocore 1.44.8 added GetScopedCredentials.
        assert_eq!(m.operations.len(), 12);
        let unsigned: Vec<_> = m
            .operations
            .values()
            .filter(|o| o.unsigned)
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(
            unsigned,
            ["AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"]
        );
    }

    #[test]
    fn constraints_and_error_codes_come_from_the_model() {
        let m = sts();
        let s = m.shape("roleSessionNameType");
        assert_eq!((s.min, s.max), (Some(2.0), Some(64.0)));
        assert_eq!(s.pattern.as_deref(), Some(r"[\w+=,.@-]*"));
        let op = m.operation("AssumeRole").unwrap();
        let codes: Vec<_> = m
            .errors_of(op)
            .map(|e| e.error.as_ref().unwrap().code.as_str())
            .collect();
        assert_eq!(
            codes,
            [
                "MalformedPolicyDocument",
                "PackedPolicyTooLarge",
                "RegionDisabledException",
                "ExpiredTokenException",
                "InvalidContextAssertion"
            ]
        );
    }

    #[test]
    fn an_exception_without_an_error_entry_answers_its_shape_name() {
        let text = r#"{"metadata": {"protocol": "query", "apiVersion": "2010-05-08",
            "endpointPrefix": "iam", "xmlNamespace": "https://iam.amazonaws.com/doc/2010-05-08/"},
          "operations": {"Op": {"name": "Op", "input": {"shape": "In"},
            "errors": [{"shape": "OrgNotFound"}, {"shape": "Plain"}]}},
          "shapes": {"In": {"type": "structure", "members": {}},
            "OrgNotFound": {"type": "structure", "members": {}, "exception": true},
            "Plain": {"type": "structure", "members": {}}}}"#;
        let m = Model::from_json(text, Path::new("m.json")).unwrap();
        let op = m.operation("Op").unwrap();
        let errors: Vec<_> = m.errors_of(op).map(|s| s.error.clone()).collect();
        assert_eq!(
            errors[0].as_ref().map(|e| (e.code.as_str(), e.status)),
            Some(("OrgNotFound", 400))
        );
        assert!(
            errors[1].is_none(),
            "a structure that is no exception is no error"
        );
    }

    #[test]
    fn structures_remember_the_model_order_of_their_members() {
        let m = sts();
        let ShapeKind::Structure { order, .. } = &m.shape("AssumeRoleRequest").kind else {
            panic!("a structure")
        };
        assert_eq!(&order[..3], ["RoleArn", "RoleSessionName", "PolicyArns"]);
    }

    #[test]
    fn a_non_query_protocol_is_refused() {
        let text = r#"{"metadata":{"apiVersion":"1","endpointPrefix":"x","protocol":"json"},"operations":{},"shapes":{}}"#;
        let err = Model::from_json(text, Path::new("x.json")).unwrap_err();
        assert!(err.to_string().contains("protocol `json`"), "{err}");
    }
}
