//! Two XML answers compared as trees, without recursion: elements by local name and
//! occurrence, namespaces, attributes, order and text.

use std::collections::HashMap;

use super::value::text_kind;
use super::{Deviation, Kind};
use crate::xml::{Element, Node};

pub(super) fn compare_trees(step: usize, e: &Element, a: &Element, out: &mut Vec<Deviation>) {
    if e.local_name() != a.local_name() {
        out.push(Deviation::new(
            step,
            Kind::MissingElement,
            e.local_name(),
            None,
            None,
        ));
        out.push(Deviation::new(
            step,
            Kind::UnexpectedElement,
            a.local_name(),
            None,
            None,
        ));
        return;
    }
    // An explicit stack: an answer nested thousands deep must not exhaust the thread's stack.
    let mut work: Vec<(String, &Element, &Element)> = vec![(e.local_name().to_owned(), e, a)];
    while let Some((path, e, a)) = work.pop() {
        compare_element(step, &path, e, a, out);
        let (ek, ak) = (keyed(e), keyed(a));
        if ek.is_empty() && ak.is_empty() {
            continue;
        }
        // A name that occurs more than once among the children, on either side, is indexed
        // in paths. Few children are scanned; many get a map, so the cost stays linear.
        const FEW: usize = 16;
        let many: Option<HashMap<&str, usize>> = (ek.len() + ak.len() > FEW).then(|| {
            let mut counts = HashMap::with_capacity(ek.len().max(ak.len()));
            for k in ek.iter().chain(&ak) {
                let c = counts.entry(k.0).or_insert(0);
                *c = std::cmp::max(*c, k.1);
            }
            counts
        });
        let repeated = |name: &str| match &many {
            Some(counts) => counts.get(name).is_some_and(|c| *c > 1),
            None => ek.iter().chain(&ak).any(|k| k.0 == name && k.1 > 1),
        };
        let child_path = |(name, occ): (&str, usize)| {
            if repeated(name) {
                format!("{path}/{name}[{occ}]")
            } else {
                format!("{path}/{name}")
            }
        };
        let mut pairs = Vec::new();
        // The usual case, the same children in the same order: equal leaves cost nothing.
        if ek.len() == ak.len() && ek.iter().zip(&ak).all(|(x, y)| x.0 == y.0) {
            for (x, y) in ek.iter().zip(&ak) {
                let leaves = is_leaf(x.2) && is_leaf(y.2);
                if !(leaves && x.2 == y.2) {
                    pairs.push((child_path((x.0, x.1)), x.2, y.2));
                }
            }
            work.extend(pairs.into_iter().rev());
            continue;
        }
        let a_index: HashMap<(&str, usize), usize> = ak
            .iter()
            .enumerate()
            .map(|(i, k)| ((k.0, k.1), i))
            .collect();
        let e_index: HashMap<(&str, usize), usize> = ek
            .iter()
            .enumerate()
            .map(|(i, k)| ((k.0, k.1), i))
            .collect();
        let mut common_in_e = Vec::new();
        for k in &ek {
            match a_index.get(&(k.0, k.1)) {
                Some(&j) => {
                    common_in_e.push((k.0, k.1));
                    pairs.push((child_path((k.0, k.1)), k.2, ak[j].2));
                }
                None => out.push(Deviation::new(
                    step,
                    Kind::MissingElement,
                    &child_path((k.0, k.1)),
                    leaf_text(k.2).as_deref(),
                    None,
                )),
            }
        }
        let mut common_in_a = Vec::new();
        for k in &ak {
            if e_index.contains_key(&(k.0, k.1)) {
                common_in_a.push((k.0, k.1));
            } else {
                out.push(Deviation::new(
                    step,
                    Kind::UnexpectedElement,
                    &child_path((k.0, k.1)),
                    None,
                    leaf_text(k.2).as_deref(),
                ));
            }
        }
        if common_in_e != common_in_a {
            let names = |v: &[(&str, usize)]| {
                v.iter()
                    .map(|&(n, o)| {
                        if repeated(n) {
                            format!("{n}[{o}]")
                        } else {
                            n.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(Deviation::new(
                step,
                Kind::ElementOrder,
                &path,
                Some(&names(&common_in_e)),
                Some(&names(&common_in_a)),
            ));
        }
        // Reversed, so that deviations come out in document order.
        work.extend(pairs.into_iter().rev());
    }
}

/// Child elements keyed by local name and occurrence (from 1).
fn keyed(e: &Element) -> Vec<(&str, usize, &Element)> {
    let mut out: Vec<(&str, usize, &Element)> = Vec::with_capacity(e.children.len());
    let mut seen: Option<HashMap<&str, usize>> = (e.children.len() > 16).then(HashMap::new);
    for c in e.elements() {
        let name = c.local_name();
        let n = match &mut seen {
            Some(map) => {
                let n = map.entry(name).or_insert(0);
                *n += 1;
                *n
            }
            None => 1 + out.iter().filter(|k| k.0 == name).count(),
        };
        out.push((name, n, c));
    }
    out
}

fn is_leaf(e: &Element) -> bool {
    e.children.iter().all(|n| matches!(n, Node::Text(_)))
}

/// The text of an element without child elements.
fn leaf_text(e: &Element) -> Option<String> {
    is_leaf(e).then(|| e.text())
}

fn compare_element(step: usize, path: &str, e: &Element, a: &Element, out: &mut Vec<Deviation>) {
    if e.name != a.name {
        out.push(Deviation::new(
            step,
            Kind::Namespace,
            path,
            Some(&e.name),
            Some(&a.name),
        ));
    }
    let is_ns = |k: &str| k == "xmlns" || k.starts_with("xmlns:");
    for (k, v) in &e.attrs {
        let other = a
            .attrs
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.as_str());
        let kind = if is_ns(k) {
            Kind::Namespace
        } else {
            Kind::ValueText
        };
        match other {
            Some(o) if o == v => {}
            Some(o) => out.push(Deviation::new(
                step,
                kind,
                &format!("{path}/@{k}"),
                Some(v),
                Some(o),
            )),
            None if is_ns(k) => out.push(Deviation::new(
                step,
                kind,
                &format!("{path}/@{k}"),
                Some(v),
                None,
            )),
            None => out.push(Deviation::new(
                step,
                Kind::MissingElement,
                &format!("{path}/@{k}"),
                Some(v),
                None,
            )),
        }
    }
    for (k, v) in &a.attrs {
        if e.attrs.iter().any(|(x, _)| x == k) {
            continue;
        }
        let kind = if is_ns(k) {
            Kind::Namespace
        } else {
            Kind::UnexpectedElement
        };
        out.push(Deviation::new(
            step,
            kind,
            &format!("{path}/@{k}"),
            None,
            Some(v),
        ));
    }
    let mixed = |x: &Element| x.elements().next().is_some();
    let (et, at) = (e.text(), a.text());
    let (et, at) = if mixed(e) || mixed(a) {
        (et.trim().to_owned(), at.trim().to_owned())
    } else {
        (et, at)
    };
    if et != at {
        out.push(Deviation::new(
            step,
            text_kind(path, &et, &at),
            path,
            Some(&et),
            Some(&at),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{CREDS, ERR, OK, dev, one};
    use super::*;
    use crate::deviation::between;
    use crate::xml;

    #[test]
    fn error_type_code_and_message() {
        assert_eq!(
            one(ERR, &ERR.replace("<Type>Sender", "<Type>Receiver")),
            dev(
                1,
                Kind::ErrorType,
                "ErrorResponse/Error/Type",
                Some("Sender"),
                Some("Receiver")
            )
        );
        assert_eq!(
            one(
                ERR,
                &ERR.replace("ValidationError", "InvalidParameterValue")
            ),
            dev(
                1,
                Kind::ErrorCode,
                "ErrorResponse/Error/Code",
                Some("ValidationError"),
                Some("InvalidParameterValue")
            )
        );
        assert_eq!(
            one(ERR, &ERR.replace("1 validation", "2 validation")).kind,
            Kind::ErrorMessage
        );
    }

    #[test]
    fn missing_unexpected_and_reordered_elements() {
        let missing = OK.replace("      <Expiration>[expiration:+3600s]</Expiration>\n", "");
        assert_eq!(
            one(OK, &missing),
            dev(
                1,
                Kind::MissingElement,
                &format!("{CREDS}/Expiration"),
                Some("[expiration:+3600s]"),
                None
            )
        );
        let extra = OK.replace(
            "  </AssumeRoleResult>",
            "    <PackedPolicySize>6</PackedPolicySize>\n  </AssumeRoleResult>",
        );
        assert_eq!(
            one(OK, &extra),
            dev(
                1,
                Kind::UnexpectedElement,
                "AssumeRoleResponse/AssumeRoleResult/PackedPolicySize",
                None,
                Some("6")
            )
        );
        // A whole subtree gone is one deviation, not one per leaf.
        let no_user = OK.replace(
            "    <AssumedRoleUser>\n      <Arn>arn:aws:sts::[account-id]:assumed-role/[role-name]/s</Arn>\n      <AssumedRoleId>[role-id:1]:s</AssumedRoleId>\n    </AssumedRoleUser>\n",
            "",
        );
        assert_eq!(
            one(OK, &no_user),
            dev(
                1,
                Kind::MissingElement,
                "AssumeRoleResponse/AssumeRoleResult/AssumedRoleUser",
                None,
                None
            )
        );
        let swapped = OK.replace(
            "      <AccessKeyId>[access-key-id:ASIA:1]</AccessKeyId>\n      <Expiration>[expiration:+3600s]</Expiration>\n",
            "      <Expiration>[expiration:+3600s]</Expiration>\n      <AccessKeyId>[access-key-id:ASIA:1]</AccessKeyId>\n",
        );
        assert_eq!(
            one(OK, &swapped),
            dev(
                1,
                Kind::ElementOrder,
                CREDS,
                Some("AccessKeyId, Expiration"),
                Some("Expiration, AccessKeyId")
            )
        );
        // Another root: the expected document is missing, another one is there.
        let d = between(ERR, &OK.replace("HTTP 200 OK", "HTTP 400 Bad Request"));
        assert_eq!(
            d,
            [
                dev(1, Kind::MissingElement, "ErrorResponse", None, None),
                dev(1, Kind::UnexpectedElement, "AssumeRoleResponse", None, None),
            ]
        );
    }

    #[test]
    fn namespaces_by_declaration_and_by_prefix() {
        assert_eq!(
            one(ERR, &ERR.replace("2011-06-15/", "2011-06-15")),
            dev(
                1,
                Kind::Namespace,
                "ErrorResponse/@xmlns",
                Some("https://sts.amazonaws.com/doc/2011-06-15/"),
                Some("https://sts.amazonaws.com/doc/2011-06-15")
            )
        );
        let prefixed = ERR.replace(
            "<Code>ValidationError</Code>",
            "<a:Code xmlns:a=\"urn:x\">ValidationError</a:Code>",
        );
        let d = between(ERR, &prefixed);
        assert_eq!(
            d,
            [
                dev(
                    1,
                    Kind::Namespace,
                    "ErrorResponse/Error/Code",
                    Some("Code"),
                    Some("a:Code")
                ),
                dev(
                    1,
                    Kind::Namespace,
                    "ErrorResponse/Error/Code/@xmlns:a",
                    None,
                    Some("urn:x")
                ),
            ]
        );
    }

    #[test]
    fn repeated_names_are_indexed() {
        let list = |a: &str, b: &str| {
            format!(
                "=== step 1: X\nHTTP 200 OK\ncontent-type: text/xml\n<R>\n  <member>{a}</member>\n  <member>{b}</member>\n</R>\n"
            )
        };
        assert_eq!(
            one(&list("a", "b"), &list("a", "c")),
            dev(1, Kind::ValueText, "R/member[2]", Some("b"), Some("c"))
        );
        let three = list("a", "b").replace("</R>", "  <member>c</member>\n</R>");
        assert_eq!(
            one(&list("a", "b"), &three),
            dev(1, Kind::UnexpectedElement, "R/member[3]", None, Some("c"))
        );
        // Many children take the map, with the same paths.
        let long = |changed: usize| {
            let mut t = String::from("=== step 1: X\nHTTP 200 OK\ncontent-type: text/xml\n<R>\n");
            for i in 1..=5000 {
                let v = if i == changed {
                    "x".to_owned()
                } else {
                    i.to_string()
                };
                t.push_str(&format!("  <member>{v}</member>\n"));
            }
            t + "</R>\n"
        };
        assert_eq!(
            one(&long(0), &long(2500)),
            dev(
                1,
                Kind::ValueText,
                "R/member[2500]",
                Some("2500"),
                Some("x")
            )
        );
    }

    #[test]
    fn deep_answers_do_not_exhaust_the_stack() {
        let deep = |depth: usize, leaf: &str| {
            format!("{}{leaf}{}", "<a>".repeat(depth), "</a>".repeat(depth))
        };
        // As deep as `parse` builds trees: compared without recursion.
        let (e, a) = (
            xml::parse(&deep(xml::MAX_DEPTH, "x")).unwrap(),
            xml::parse(&deep(xml::MAX_DEPTH, "y")).unwrap(),
        );
        let mut out = Vec::new();
        compare_trees(1, &e, &a, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, Kind::ValueText);
        assert_eq!(out[0].path.split('/').count(), xml::MAX_DEPTH);

        // Deeper than that, on either side of a comparison: never a tree, still a deviation.
        let step = |body: &str| {
            format!("=== step 1: GetCallerIdentity\nHTTP 200 OK\ncontent-type: text/xml\n{body}\n")
        };
        let hostile = step(&deep(100_000, "x"));
        let fine = step(&deep(3, "x"));
        let d = between(&fine, &hostile);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, Kind::NotXml);
        let d = between(&hostile, &step(&deep(100_000, "y")));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, Kind::Other);
        assert!(between(&hostile, &hostile).is_empty());
    }
}
