//! A request as it arrived, and what it says: its parameters (form body and query string,
//! decoded and sorted, so that order does not matter), its headers, and the key and service
//! of its SigV4 credential scope.

/// A request as it arrived.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub method: String,
    pub query: Option<String>,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Incoming {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The access key the request is signed with, from its Authorization header.
    pub(super) fn access_key(&self) -> Option<&str> {
        self.scope()?.next()
    }

    /// The service of the SigV4 credential scope.
    pub(super) fn signed_for(&self) -> Option<&str> {
        self.scope()?.nth(3)
    }

    /// The parts of the credential scope: key, date, region, service, `aws4_request` (what
    /// follows the first `Credential=`, up to any second one).
    fn scope(&self) -> Option<std::str::Split<'_, char>> {
        let auth = self.header("authorization")?;
        let rest = &auth[credential_at(auth)? + CREDENTIAL.len()..];
        let scope = credential_at(rest).map_or(rest, |end| &rest[..end]);
        Some(scope.split('/'))
    }

    /// Decoded parameters of the body and the query string, sorted. Public for the fuzz
    /// target of the request decoder.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            form_urlencoded::parse(&self.body).into_owned().collect();
        if let Some(q) = &self.query {
            out.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        out.sort();
        out
    }
}

/// The value of the first parameter of this name.
pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const CREDENTIAL: &str = "Credential=";

/// Where the first `Credential=` starts. Found by its first letter: every request asks, and
/// a substring search costs more to set up than this header is long.
fn credential_at(text: &str) -> Option<usize> {
    text.match_indices('C')
        .map(|(i, _)| i)
        .find(|&i| text[i..].starts_with(CREDENTIAL))
}

/// Whether two Content-Types name the same media type (case and parameters aside).
pub(super) fn same_media_type(a: &str, b: &str) -> bool {
    bare_media_type(a).eq_ignore_ascii_case(bare_media_type(b))
}

fn bare_media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// The key that files entries and requests by their parameter names, so that a request is
/// compared only with the steps that send the same names.
pub(super) fn names_key<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut key = String::new();
    for n in names {
        key.push_str(n);
        key.push('&');
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(auth: &str) -> Incoming {
        Incoming {
            method: "POST".into(),
            headers: vec![("authorization".into(), auth.into())],
            ..Incoming::default()
        }
    }

    #[test]
    fn body_and_query_decode_into_one_sorted_list() {
        let req = Incoming {
            method: "POST".into(),
            query: Some("Version=2011-06-15&B=%2Fx".into()),
            body: b"Action=AssumeRole&RoleSessionName=a+b&Tags.member.1.Key=%C3%A9".to_vec(),
            ..Incoming::default()
        };
        let p = req.params();
        let names: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Action",
                "B",
                "RoleSessionName",
                "Tags.member.1.Key",
                "Version"
            ]
        );
        assert_eq!(param(&p, "RoleSessionName"), Some("a b"));
        assert_eq!(param(&p, "B"), Some("/x"));
        assert_eq!(param(&p, "Tags.member.1.Key"), Some("é"));
        assert_eq!(param(&p, "Nope"), None);
    }

    #[test]
    fn bytes_that_are_no_utf8_still_decode() {
        let req = Incoming {
            body: vec![b'A', b'=', 0xff, b'&', b'%', b'z', b'z'],
            ..Incoming::default()
        };
        let p = req.params();
        assert_eq!(p.len(), 2);
        assert_eq!(param(&p, "A"), Some("\u{fffd}"));
    }

    #[test]
    fn the_credential_scope_names_the_key_and_the_service() {
        let req = signed(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00",
        );
        assert_eq!(req.access_key(), Some("AKIDEXAMPLE"));
        assert_eq!(req.signed_for(), Some("sts"));
        let unsigned = Incoming::default();
        assert_eq!((unsigned.access_key(), unsigned.signed_for()), (None, None));
        let odd = signed("Bearer x");
        assert_eq!((odd.access_key(), odd.signed_for()), (None, None));
        // What follows the first `Credential=`, up to a second one, as a split would give.
        let twice = signed("Cx Credential=K/d/r/s/aws4_request, Credential=L/e/q/t/aws4_request");
        assert_eq!(
            (twice.access_key(), twice.signed_for()),
            (Some("K"), Some("s"))
        );
        let cut = signed("Credential=KCredential=/d/r/s");
        assert_eq!((cut.access_key(), cut.signed_for()), (Some("K"), None));
    }

    #[test]
    fn media_types_compare_without_parameters_or_case() {
        assert!(same_media_type(
            "Application/X-WWW-Form-Urlencoded; charset=utf-8",
            "application/x-www-form-urlencoded"
        ));
        assert!(same_media_type("", " ; x=1"));
        assert!(!same_media_type("text/xml", "application/xml"));
        assert_eq!(names_key(["A", "B"].into_iter()), "A&B&");
    }
}
