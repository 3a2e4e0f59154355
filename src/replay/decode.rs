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

    /// The parts of the credential scope: key, date, region, service, `aws4_request`.
    fn scope(&self) -> Option<std::str::Split<'_, char>> {
        Some(
            self.header("authorization")?
                .split("Credential=")
                .nth(1)?
                .split('/'),
        )
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

/// The media type of a Content-Type, lower case, without its parameters.
pub(super) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
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
    }

    #[test]
    fn media_types_compare_without_parameters_or_case() {
        assert_eq!(
            media_type("Application/X-WWW-Form-Urlencoded; charset=utf-8"),
            "application/x-www-form-urlencoded"
        );
        assert_eq!(media_type(""), "");
        assert_eq!(names_key(["A", "B"].into_iter()), "A&B&");
    }
}
