//! The kinds of deviation and the levels of agreement they fall at, from the HTTP status to
//! every value.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of difference a deviation is. The order is the order of [`Level`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Another HTTP status (or no answer to that step at all).
    Status,
    ContentType,
    /// XML was expected and something else came (or the other way round).
    NotXml,
    /// The snapshot has a step the run never reached (a capture failed before it).
    MissingStep,
    /// The run has a step the snapshot does not.
    UnexpectedStep,
    /// `Error/Type`: Sender or Receiver.
    ErrorType,
    /// `Error/Code`.
    ErrorCode,
    /// `Error/Message`.
    ErrorMessage,
    MissingElement,
    UnexpectedElement,
    /// An element's namespace (its `xmlns` or its prefix).
    Namespace,
    /// The same child elements in another order.
    ElementOrder,
    /// A placeholder of the wrong kind: the value did not have the shape its rule checks
    /// (`[request-id]` against a literal, `[expiration:+3600s]` against
    /// `[expiration:+3600s:subsecond]`).
    ValueShape,
    /// Other text in an element or attribute.
    ValueText,
    /// The texts differ in a way none of the kinds above describes (a safety net: a
    /// mismatch never goes without a deviation).
    Other,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Status,
        Kind::ContentType,
        Kind::NotXml,
        Kind::MissingStep,
        Kind::UnexpectedStep,
        Kind::ErrorType,
        Kind::ErrorCode,
        Kind::ErrorMessage,
        Kind::MissingElement,
        Kind::UnexpectedElement,
        Kind::Namespace,
        Kind::ElementOrder,
        Kind::ValueShape,
        Kind::ValueText,
        Kind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Status => "status",
            Kind::ContentType => "content-type",
            Kind::NotXml => "not-xml",
            Kind::MissingStep => "missing-step",
            Kind::UnexpectedStep => "unexpected-step",
            Kind::ErrorType => "error-type",
            Kind::ErrorCode => "error-code",
            Kind::ErrorMessage => "error-message",
            Kind::MissingElement => "missing-element",
            Kind::UnexpectedElement => "unexpected-element",
            Kind::Namespace => "namespace",
            Kind::ElementOrder => "element-order",
            Kind::ValueShape => "value-shape",
            Kind::ValueText => "value-text",
            Kind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == text)
    }

    pub fn level(self) -> Level {
        match self {
            Kind::Status
            | Kind::ContentType
            | Kind::NotXml
            | Kind::MissingStep
            | Kind::UnexpectedStep => Level::Status,
            Kind::ErrorType | Kind::ErrorCode => Level::Code,
            Kind::ErrorMessage => Level::Message,
            Kind::MissingElement | Kind::UnexpectedElement | Kind::Namespace => Level::Structure,
            Kind::ElementOrder => Level::Order,
            Kind::ValueShape | Kind::ValueText | Kind::Other => Level::Values,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The levels of agreement a case is graded on, from the coarsest. A case agrees at a level
/// when it has no judged deviation at that level or any level before it, so the last level
/// is a full pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// The HTTP status, content type and steps.
    Status,
    /// The error code and type.
    Code,
    /// The error message.
    Message,
    /// The same element paths, order aside (namespaces included).
    Structure,
    /// The elements in the same order.
    Order,
    /// Every value.
    Values,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Status,
        Level::Code,
        Level::Message,
        Level::Structure,
        Level::Order,
        Level::Values,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Level::Status => "status",
            Level::Code => "code",
            Level::Message => "message",
            Level::Structure => "structure",
            Level::Order => "order",
            Level::Values => "values",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The highest level at which deviations of these kinds still agree: `None` when not even
/// the status does.
pub fn grade(kinds: impl IntoIterator<Item = Kind>) -> Option<Level> {
    let first_off = kinds.into_iter().map(Kind::level).min();
    match first_off {
        None => Some(Level::Values),
        Some(Level::Status) => None,
        Some(l) => Level::ALL.into_iter().take_while(|x| *x < l).last(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_are_cumulative() {
        assert_eq!(grade([]), Some(Level::Values));
        assert_eq!(grade([Kind::ValueShape]), Some(Level::Order));
        assert_eq!(
            grade([Kind::ElementOrder, Kind::ValueText]),
            Some(Level::Structure)
        );
        assert_eq!(grade([Kind::ErrorMessage]), Some(Level::Code));
        assert_eq!(
            grade([Kind::ErrorCode, Kind::ValueText]),
            Some(Level::Status)
        );
        assert_eq!(grade([Kind::Status, Kind::ValueText]), None);
        assert_eq!(grade([Kind::MissingStep]), None);
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
    }
}
