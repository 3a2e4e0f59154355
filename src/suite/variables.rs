//! Declared variables (`scenarios/<service>/variables.yaml`: what a target must provide,
//! what clients choose, which parameters are free) and the check that every `{{variable}}`
//! a case uses is built in, declared or captured before.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::SuiteError;
use crate::diagnostic::{Diagnostic, did_you_mean, span_at, yaml_error};
use crate::model::{Model, ShapeKind};
use crate::scenario::{Case, Role};

/// A variable a target provides, with a stand-in for local targets.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// What the target must provide, for people setting one up.
    pub description: String,
    /// The value used unless the target sets one (fine for local emulators, not for AWS).
    pub default: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VariablesFile {
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
    /// Variable name to the shape of the values a client may send for it.
    #[serde(default)]
    client_chosen: BTreeMap<String, String>,
    /// Operation name to the parameters a success answer repeats.
    #[serde(default)]
    free_parameters: BTreeMap<String, Vec<String>>,
}

/// A variable whose value a client chooses (the role it assumes): the replay server accepts
/// any value of its shape where a scenario sends it, and takes the variables the shape's
/// named groups name from that value (the role's name and account).
#[derive(Debug, Clone)]
pub struct ClientChosen {
    /// Anchored: a value has the shape or not. Compiled when a value is first held against
    /// it: the bounded repetitions of these shapes (`{1,64}`, `{9,256}`) made compiling all of
    /// them a sixth of running one case, most of whose shapes a run never uses.
    shape: OnceLock<Option<regex::Regex>>,
    anchored: String,
    /// Where the shape is written, for the error of a shape the regex crate cannot build
    /// (past its size limit): `conform check` and `conform serve` build every shape first.
    place: ShapePlace,
    /// The shape as written, for messages.
    pub written: String,
    /// The variables its named groups set.
    pub derived: Vec<String>,
}

impl ClientChosen {
    /// The shape as written, checked (a mistake is the regex crate's own message) and with
    /// the names of its groups; nothing is compiled yet.
    fn parse(written: &str, place: ShapePlace) -> Result<ClientChosen, String> {
        let anchored = format!("^(?:{written})$");
        let hir = regex_syntax::Parser::new()
            .parse(&anchored)
            .map_err(|e| e.to_string())?;
        let mut groups = Vec::new();
        capture_names(&hir, &mut groups);
        groups.sort();
        Ok(ClientChosen {
            shape: OnceLock::new(),
            anchored,
            place,
            written: written.to_owned(),
            derived: groups.into_iter().map(|(_, name)| name).collect(),
        })
    }

    fn regex(&self) -> Option<&regex::Regex> {
        // Checked at load; only a shape past the regex crate's size limit fails here: it
        // matches nothing in a run, and `built` gives its located error.
        self.shape
            .get_or_init(|| regex::Regex::new(&self.anchored).ok())
            .as_ref()
    }

    /// Builds the shape now: the error, at its place, of one the regex crate cannot build.
    pub fn built(&self) -> Result<(), Box<Diagnostic>> {
        if self.regex().is_some() {
            return Ok(());
        }
        let why = regex::Regex::new(&self.anchored)
            .err()
            .map_or_else(String::new, |e| e.to_string());
        let mut d = self.place.diagnostic();
        d.message = format!("{}: {why}", d.message);
        Err(d)
    }

    /// Whether a value has the shape.
    pub fn is_match(&self, value: &str) -> bool {
        self.regex().is_some_and(|re| re.is_match(value))
    }

    /// The variables a value sets when it has the shape (the value itself under `name`).
    pub fn bind(&self, name: &str, value: &str) -> Option<Vec<(String, String)>> {
        let c = self.regex()?.captures(value)?;
        let mut out = vec![(name.to_owned(), value.to_owned())];
        for d in &self.derived {
            if let Some(m) = c.name(d) {
                out.push((d.clone(), m.as_str().to_owned()));
            }
        }
        Some(out)
    }
}

/// Where a client-chosen shape is written. Its line is looked for only when its error is
/// shown: finding every shape's line at load was a twentieth of running one case.
#[derive(Debug, Clone)]
struct ShapePlace {
    shown: PathBuf,
    source: Arc<str>,
    name: String,
}

impl ShapePlace {
    fn diagnostic(&self) -> Box<Diagnostic> {
        let file = Written {
            shown: &self.shown,
            text: &self.source,
            source: self.source.clone(),
        };
        file.at_in(
            "client_chosen:",
            &format!("{}:", self.name),
            format!("the shape of `{}` cannot be built", self.name),
            "write a smaller shape: fewer or shorter bounded repetitions, or ASCII classes ((?-u:\\w)) in place of Unicode ones",
        )
    }
}

/// The named groups of a parsed regex with their index, in no order.
fn capture_names(hir: &regex_syntax::hir::Hir, out: &mut Vec<(u32, String)>) {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) => {
            if let Some(name) = &c.name {
                out.push((c.index, name.to_string()));
            }
            capture_names(&c.sub, out);
        }
        HirKind::Repetition(r) => capture_names(&r.sub, out),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            for sub in subs {
                capture_names(sub, out);
            }
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
    }
}

/// What `variables.yaml` files declare.
#[derive(Default)]
pub(super) struct Declared {
    pub variables: BTreeMap<String, Variable>,
    pub client_chosen: BTreeMap<String, ClientChosen>,
    pub free_parameters: BTreeMap<(String, String), Vec<String>>,
}

impl Declared {
    /// Adds what one service's file declares; the first mistake in it is the error.
    pub fn add(
        &mut self,
        service: &str,
        model: &Model,
        shown: &Path,
        text: &str,
    ) -> Result<(), Box<Diagnostic>> {
        let file = Written {
            shown,
            text,
            source: Arc::from(text),
        };
        let f = serde_saphyr::from_str::<VariablesFile>(text).map_err(|e| {
            Box::new(yaml_error(shown, file.source.clone(), &e)
                .with_help("each variable has a `description` (what the target must provide) and a `default` (a stand-in for local targets); `client_chosen` maps a variable to a regex, `free_parameters` an operation to parameter names"))
        })?;
        self.add_client_chosen(&f, &file)?;
        self.add_free_parameters(service, model, &f, &file)?;
        self.variables.extend(f.variables);
        Ok(())
    }

    fn add_client_chosen(
        &mut self,
        f: &VariablesFile,
        file: &Written,
    ) -> Result<(), Box<Diagnostic>> {
        let builtin = crate::target::default_vars("us-east-1");
        let known = |v: &str| builtin.contains_key(v) || f.variables.contains_key(v);
        for (name, written) in &f.client_chosen {
            let needle = format!("{name}:");
            if !known(name) {
                return Err(file.at_in(
                    "client_chosen:",
                    &needle,
                    format!("client_chosen names `{name}`, which is no variable"),
                    "name a built-in target variable or one declared under `variables`",
                ));
            }
            let place = ShapePlace {
                shown: file.shown.to_owned(),
                source: file.source.clone(),
                name: name.clone(),
            };
            let chosen = ClientChosen::parse(written, place).map_err(|e| {
                file.at_in(
                "client_chosen:",
                    &needle,
                    format!("the shape of `{name}` is not a regex: {e}"),
                    "write the values a client may send as a regex; named groups set other variables",
                )
            })?;
            if let Some(d) = chosen.derived.iter().find(|d| !known(d)) {
                return Err(file.at_in(
                "client_chosen:",
                    &needle,
                    format!("the shape of `{name}` sets `{d}`, which is no variable"),
                    "a named group sets the variable of its name: a built-in one or one declared under `variables`",
                ));
            }
            self.client_chosen.insert(name.clone(), chosen);
        }
        Ok(())
    }

    fn add_free_parameters(
        &mut self,
        service: &str,
        model: &Model,
        f: &VariablesFile,
        file: &Written,
    ) -> Result<(), Box<Diagnostic>> {
        for (op_name, params) in &f.free_parameters {
            let Some(op) = model.operation(op_name) else {
                return Err(file.at(
                    &format!("{op_name}:"),
                    format!("free_parameters names `{op_name}`, which is no {service} operation"),
                    &format!("the operations are: {}", model.operation_list()),
                ));
            };
            let members: Vec<&str> = match model.input_members(op).map(|s| &s.kind) {
                Some(ShapeKind::Structure { members, .. }) => {
                    members.keys().map(String::as_str).collect()
                }
                _ => Vec::new(),
            };
            if let Some(p) = params.iter().find(|p| !members.contains(&p.as_str())) {
                return Err(file.at(
                    p,
                    format!("free_parameters: {op_name} has no parameter `{p}`"),
                    &format!("its parameters are: {}", members.join(", ")),
                ));
            }
            self.free_parameters
                .insert((service.to_owned(), op_name.clone()), params.clone());
        }
        Ok(())
    }
}

/// A variables file as written, for pointing at a mistake in a value the parser accepted.
struct Written<'a> {
    shown: &'a Path,
    text: &'a str,
    source: Arc<str>,
}

impl Written<'_> {
    /// At the first line that holds `needle`: the parser keeps no place for map keys here.
    fn at(&self, needle: &str, message: String, help: &str) -> Box<Diagnostic> {
        self.at_in("", needle, message, help)
    }

    /// At the first line that holds `needle` after the line that starts `section` (a
    /// variable's name is a key both under `variables` and under `client_chosen`).
    fn at_in(&self, section: &str, needle: &str, message: String, help: &str) -> Box<Diagnostic> {
        let from = self
            .text
            .lines()
            .position(|l| !section.is_empty() && l.starts_with(section))
            .unwrap_or(0);
        let (line, col) = self
            .text
            .lines()
            .enumerate()
            .skip(from)
            .find_map(|(i, l)| l.find(needle).map(|c| (i as u32 + 1, c as u32 + 1)))
            .unwrap_or((1, 1));
        let span = span_at(self.text, line, col, needle.len());
        let d = Diagnostic::new(self.shown, self.source.clone(), span, message);
        Box::new(d.with_help(help.to_owned()))
    }
}

/// Every `{{variable}}` must be a built-in target variable, a declared one, or a capture of
/// an earlier step: a typo is a load error, not a failure in the middle of a run. `texts`
/// are the scenario files by the name cases give them.
pub(super) fn check_variables(
    cases: &[Case],
    declared: &BTreeMap<String, Variable>,
    texts: &HashMap<&str, &str>,
) -> Result<(), SuiteError> {
    let builtin = crate::target::default_vars("us-east-1");
    let mut errors = Vec::new();
    for case in cases {
        let text = texts.get(case.file.as_str()).copied().unwrap_or_default();
        let at = |span, message: String, help: String| {
            Diagnostic::new(Path::new(&case.file), Arc::from(text), span, message).with_help(help)
        };
        for r in &case.requires {
            if !builtin.contains_key(r) && !declared.contains_key(r) {
                errors.push(at(
                    span_at(text, case.line, case.col, case.id.len()),
                    format!("case `{}` requires `{r}`, which is not a declared variable", case.id),
                    format!("declare it in scenarios/{}/variables.yaml with what the target must provide", case.service),
                ));
            }
        }
        let mut captured: Vec<&str> = Vec::new();
        let all_captures: Vec<&str> = case
            .steps
            .iter()
            .flat_map(|s| s.captures.iter().map(|c| c.variable.as_str()))
            .collect();
        for step in &case.steps {
            let cleanup = step.role == Role::Cleanup;
            for v in step.variables() {
                let known = builtin.contains_key(v)
                    || declared.contains_key(v)
                    || captured.contains(&v)
                    // Cleanup runs last, after any step that may have captured.
                    || (cleanup && all_captures.contains(&v));
                if known {
                    continue;
                }
                let candidates = builtin
                    .keys()
                    .chain(declared.keys())
                    .map(String::as_str)
                    .chain(captured.iter().copied());
                let mut help = format!(
                    "declare it in scenarios/{}/variables.yaml (what the target must provide, and a default for local targets), or capture it in an earlier step",
                    case.service
                );
                if let Some(s) = did_you_mean(v, candidates) {
                    help = format!("did you mean `{{{{{s}}}}}`? Otherwise {help}");
                }
                errors.push(at(
                    span_at(text, step.line.max(1), 1, 0),
                    format!("case `{}` uses the unknown variable `{{{{{v}}}}}`", case.id),
                    help,
                ));
            }
            captured.extend(step.captures.iter().map(|c| c.variable.as_str()));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SuiteError::Scenarios(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(text: &str) -> ShapePlace {
        ShapePlace {
            shown: PathBuf::from("sts/variables.yaml"),
            source: Arc::from(text),
            name: "role_arn".into(),
        }
    }

    #[test]
    fn a_client_chosen_shape_is_checked_at_once_and_binds_its_groups_in_order() {
        let c = ClientChosen::parse("(?P<b>[a-z]+)-(?:(?P<a>[0-9]{1,3})|x)", place("")).unwrap();
        // In the order the groups open, as the regex crate numbers them.
        assert_eq!(c.derived, ["b", "a"]);
        assert!(
            c.shape.get().is_none(),
            "nothing compiled before a value is asked"
        );
        assert!(c.is_match("ab-12") && !c.is_match("ab-1234") && !c.is_match("x ab-1"));
        assert_eq!(
            c.bind("v", "ab-12").unwrap(),
            [
                ("v".to_owned(), "ab-12".to_owned()),
                ("b".to_owned(), "ab".to_owned()),
                ("a".to_owned(), "12".to_owned())
            ]
        );
        assert_eq!(c.bind("v", "ab-x").unwrap().len(), 2);
        let written = "arn:(.*";
        let e = ClientChosen::parse(written, place("")).unwrap_err();
        assert_eq!(
            e,
            regex::Regex::new(&format!("^(?:{written})$"))
                .unwrap_err()
                .to_string(),
            "the regex crate's own words"
        );
    }

    #[test]
    fn a_shape_too_big_to_build_is_an_error_at_its_place_when_built() {
        let text = "client_chosen:\n  role_arn: '\\w{1,5000}\\w{1,5000}'\n";
        let c = ClientChosen::parse(r"\w{1,5000}\w{1,5000}", place(text)).unwrap();
        assert!(
            !c.is_match("a"),
            "a shape that cannot be built matches nothing"
        );
        let e = c.built().unwrap_err();
        assert_eq!((e.span.line, e.span.col), (2, 3));
        assert!(
            e.message
                .starts_with("the shape of `role_arn` cannot be built: ")
                && e.message.contains("size limit"),
            "{}",
            e.message
        );
        let small = ClientChosen::parse("[a-z]{1,3}", place(text)).unwrap();
        assert!(small.built().is_ok());
    }
}
