//! `conform cleanup`: finds what recordings created (it carries the tag `conform=<run id>`,
//! or for a kind that takes no tags, a name setup steps give it) and deletes it, with what it
//! holds first. Which kinds of resource, and how each is listed and deleted, is data:
//! `models/<service>.resources.yaml` (`resources`).

use crate::record_mode::CONFORM_TAG;
use crate::resources::{Found, Kind, Pagination};
use crate::runner::Runner;
use crate::scenario::ParamValue;
use crate::template::Template;
use crate::xml::{Element, ElementPath};

/// What cleanup found and did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Cleanup {
    /// Each resource deleted, as its kind shows it (`role/NAME`, a provider ARN).
    pub deleted: Vec<String>,
    /// What could not be deleted, with why.
    pub failed: Vec<String>,
}

fn s(v: &str) -> ParamValue {
    ParamValue::Str(Template::literal(v))
}

/// The text of every element `name` at any depth, but for one with a sibling `unless`
/// saying `true` (a policy's default version).
fn all(doc: &Element, name: &str, unless: Option<&str>) -> Vec<String> {
    fn walk(e: &Element, name: &str, unless: Option<&str>, out: &mut Vec<String>) {
        let kept = || {
            unless.is_none_or(|u| {
                !e.elements()
                    .any(|c| c.local_name() == u && c.text().trim() == "true")
            })
        };
        for c in e.elements() {
            if c.local_name() == name && kept() {
                out.push(c.text());
            }
            walk(c, name, unless, out);
        }
    }
    let mut out = Vec::new();
    walk(doc, name, unless, &mut out);
    out
}

fn tagged(doc: &Option<Element>) -> bool {
    let Some(doc) = doc else { return false };
    all(doc, "Key", None).iter().any(|k| k == CONFORM_TAG)
}

async fn call(
    runner: &Runner,
    service: &str,
    op: &str,
    params: Vec<(String, ParamValue)>,
) -> Result<Option<Element>, String> {
    let (status, doc) = crate::call::call(runner, service, op, params)
        .await
        .map_err(|e| e.to_string())?;
    if (200..300).contains(&status) {
        Ok(doc)
    } else {
        let code = doc
            .as_ref()
            .and_then(|d| ElementPath::parse("//Code").ok()?.select(d))
            .unwrap_or_default();
        Err(format!("{op}: HTTP {status} {code}"))
    }
}

/// Deletes every resource of conform's (tagged, or named as setup names what takes no tags)
/// of every kind the project's `models/<service>.resources.yaml` files list, what each holds
/// first, kind after kind in the file's order. Listing failures end it; a resource that
/// cannot be deleted is reported.
pub async fn run(runner: &Runner, dry_run: bool) -> Result<Cleanup, String> {
    let mut out = Cleanup::default();
    for resources in runner.suite().resources.values() {
        for kind in &resources.kinds {
            let service = resources.service.as_str();
            let paged = resources.pagination.as_ref().filter(|_| kind.paged);
            let params = kind
                .list_params
                .iter()
                .map(|(m, v)| (m.clone(), s(v)))
                .collect();
            let listing = Listing {
                op: &kind.list,
                item: &kind.item,
                unless: None,
                paged,
            };
            let items = list(runner, service, &listing, params).await?;
            let wanted = items
                .into_iter()
                .filter(|i| kind.name_prefix.as_deref().is_none_or(|p| i.starts_with(p)));
            for item in wanted {
                let ours = match &kind.found {
                    Found::Named(pattern) => pattern.is_match(&item),
                    Found::Tagged(tags) => {
                        let params = vec![(kind.param.clone(), s(&item))];
                        tagged(&call(runner, service, tags, params).await?)
                    }
                };
                if !ours {
                    continue;
                }
                if dry_run {
                    out.deleted.push(kind.shown(&item));
                    continue;
                }
                match delete(runner, service, resources.pagination.as_ref(), kind, &item).await {
                    Ok(()) => out.deleted.push(kind.shown(&item)),
                    Err(e) => out.failed.push(format!("{}: {e}", kind.shown(&item))),
                }
            }
        }
    }
    Ok(out)
}

/// A listing: the operation, the element naming each listed thing (skipped when its sibling
/// `unless` says `true`), and how it pages, if it does.
struct Listing<'a> {
    op: &'a str,
    item: &'a str,
    unless: Option<&'a str>,
    paged: Option<&'a Pagination>,
}

/// Every item a listing names, page after page when it is paged.
async fn list(
    runner: &Runner,
    service: &str,
    listing: &Listing<'_>,
    params: Vec<(String, ParamValue)>,
) -> Result<Vec<String>, String> {
    let Listing {
        op,
        item,
        unless,
        paged,
    } = *listing;
    let mut items = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut p = params.clone();
        if let (Some(m), Some(paging)) = (&marker, paged) {
            p.push((paging.marker.clone(), s(m)));
        }
        let Some(doc) = call(runner, service, op, p).await? else {
            break;
        };
        items.extend(all(&doc, item, unless));
        let Some(paging) = paged else { break };
        let first = |name: &str| {
            ElementPath::parse(&format!("//{name}"))
                .ok()
                .and_then(|p| p.select(&doc))
        };
        marker = first(&paging.marker).filter(|m| !m.is_empty());
        let more = match &paging.truncated {
            Some(flag) => first(flag).as_deref() == Some("true"),
            None => true,
        };
        if marker.is_none() || !more {
            break;
        }
    }
    Ok(items)
}

/// What the resource holds, then the resource.
async fn delete(
    runner: &Runner,
    service: &str,
    pagination: Option<&Pagination>,
    kind: &Kind,
    item: &str,
) -> Result<(), String> {
    let own = (kind.param.clone(), s(item));
    for held in &kind.holds {
        let listing = Listing {
            op: &held.list,
            item: &held.item,
            unless: held.unless.as_deref(),
            paged: pagination.filter(|_| held.paged),
        };
        for h in list(runner, service, &listing, vec![own.clone()]).await? {
            let params = vec![own.clone(), (held.param.clone(), s(&h))];
            call(runner, service, &held.delete, params).await?;
        }
    }
    let named = (kind.delete_param().to_owned(), s(item));
    call(runner, service, &kind.delete, vec![named]).await?;
    Ok(())
}
