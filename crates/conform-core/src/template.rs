//! `{{name}}` templates: parsed once when a scenario loads, rendered per run against the
//! target's variables and the captures of earlier steps.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Variables visible to a step: the target's, then the captures of earlier steps.
pub type Vars = HashMap<String, String>;

/// Most templates a suite holds are plain text (a parameter's value), and a suite holds
/// tens of thousands: those are one allocation, their text; only a template with variables
/// keeps its pieces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template(Repr);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Repr {
    Text(Box<str>),
    Parts(Box<[Part]>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Part {
    Lit(Box<str>),
    Var(Box<str>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("`{{{{` is not closed by `}}}}`")]
    Unclosed,
    #[error("`{{{{{0}}}}}` is not a variable name: use letters, digits, `_`, `-` and `.`")]
    BadName(String),
    #[error("`{{{{{0}}}}}`: write `{{{{repeat COUNT TEXT}}}}` with COUNT from 0 to 1000000")]
    BadRepeat(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variable `{{{{{name}}}}}`")]
pub struct UnknownVariable {
    pub name: String,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        if !text.contains("{{") {
            return Ok(Template(Repr::Text(text.into())));
        }
        let mut parts: Vec<Part> = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                push_lit(&mut parts, &rest[..start]);
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
            let inner = &after[..end];
            if let Some(args) = inner.trim_start().strip_prefix("repeat ") {
                // Long values for length limits, expanded once here so they cost nothing
                // per run and their length is known when the suite loads.
                let bad = || TemplateError::BadRepeat(inner.to_owned());
                let (count, text) = args.trim_start().split_once(' ').ok_or_else(bad)?;
                let count: usize = count
                    .parse()
                    .ok()
                    .filter(|c| *c <= 1_000_000)
                    .ok_or_else(bad)?;
                if text.is_empty() {
                    return Err(bad());
                }
                push_lit(&mut parts, &text.repeat(count));
                rest = &after[end + 2..];
                continue;
            }
            let name = inner.trim();
            if !is_variable_name(name) {
                return Err(TemplateError::BadName(after[..end].to_owned()));
            }
            parts.push(Part::Var(name.into()));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() || parts.is_empty() {
            push_lit(&mut parts, rest);
        }
        Ok(Template(match parts.as_mut_slice() {
            [Part::Lit(text)] => Repr::Text(std::mem::take(text)),
            _ => Repr::Parts(parts.into_boxed_slice()),
        }))
    }

    fn parts(&self) -> &[Part] {
        match &self.0 {
            Repr::Text(_) => &[],
            Repr::Parts(parts) => parts,
        }
    }

    /// The text when the template has no variables.
    pub fn as_literal(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text(text) => Some(text),
            Repr::Parts(_) => None,
        }
    }

    /// A template that is only text (no variables).
    pub fn literal(text: impl Into<String>) -> Template {
        Template(Repr::Text(text.into().into_boxed_str()))
    }

    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts().iter().filter_map(|p| match p {
            Part::Var(v) => Some(&**v),
            Part::Lit(_) => None,
        })
    }

    pub fn has_variables(&self) -> bool {
        self.variables().next().is_some()
    }

    pub fn render(&self, vars: &Vars) -> Result<String, UnknownVariable> {
        if let Repr::Text(text) = &self.0 {
            return Ok(text.to_string());
        }
        let mut out = String::new();
        for p in self.parts() {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => match vars.get(&**v) {
                    Some(value) => out.push_str(value),
                    None => {
                        return Err(UnknownVariable {
                            name: v.to_string(),
                        });
                    }
                },
            }
        }
        Ok(out)
    }
}

/// Letters, digits, `_`, `-` and `.`: what a `{{name}}` and a capture may be called.
pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn push_lit(parts: &mut Vec<Part>, text: &str) {
    if let Some(Part::Lit(prev)) = parts.last_mut() {
        *prev = format!("{prev}{text}").into_boxed_str();
    } else {
        parts.push(Part::Lit(text.into()));
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Repr::Text(text) = &self.0 {
            return f.write_str(text);
        }
        for p in self.parts() {
            match p {
                Part::Lit(s) => f.write_str(s)?,
                Part::Var(v) => write!(f, "{{{{{v}}}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_variables_and_literals() {
        let t = Template::parse("arn:aws:iam::{{account_id}}:role/{{ role }}").unwrap();
        let vars: Vars = [("account_id", "123456789012"), ("role", "demo")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(
            t.render(&vars).unwrap(),
            "arn:aws:iam::123456789012:role/demo"
        );
        assert_eq!(t.to_string(), "arn:aws:iam::{{account_id}}:role/{{role}}");
        assert_eq!(t.variables().collect::<Vec<_>>(), ["account_id", "role"]);
    }

    #[test]
    fn text_reads_the_same_however_it_was_written() {
        // A suite holds plain text as one piece: parsed, built or expanded, it compares equal.
        let expanded = Template::parse("a{{repeat 2 b}}c").unwrap();
        assert_eq!(expanded, Template::literal("abbc"));
        assert_eq!(Template::parse("abbc").unwrap(), expanded);
        assert_eq!(expanded.to_string(), "abbc");
        assert!(!expanded.has_variables());
        let mixed = Template::parse("x{{repeat 2 y}}{{v}}z").unwrap();
        assert_eq!(mixed.as_literal(), None);
        assert_eq!(mixed.to_string(), "xyy{{v}}z");
    }

    #[test]
    fn repeat_expands_when_parsed() {
        let t = Template::parse("ab{{repeat 3 xy}}c{{repeat 2 é}}").unwrap();
        assert_eq!(t.as_literal(), Some("abxyxyxycéé"));
        let t = Template::parse("{{repeat 64 s}}").unwrap();
        assert_eq!(t.as_literal().unwrap().chars().count(), 64);
        for bad in ["{{repeat x a}}", "{{repeat 2}}", "{{repeat 99999999 a}}"] {
            assert!(
                matches!(Template::parse(bad), Err(TemplateError::BadRepeat(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn reports_unknown_and_malformed_variables() {
        let t = Template::parse("{{nope}}").unwrap();
        assert_eq!(
            t.render(&Vars::new()).unwrap_err().to_string(),
            "unknown variable `{{nope}}`"
        );
        assert_eq!(
            Template::parse("a {{b").unwrap_err(),
            TemplateError::Unclosed
        );
        assert!(matches!(
            Template::parse("{{a b}}"),
            Err(TemplateError::BadName(_))
        ));
        assert_eq!(
            Template::parse("").unwrap().render(&Vars::new()).unwrap(),
            ""
        );
    }
}
