//! Request paths as routes see them: RFC 3986 normalization (percent-decoding of unreserved
//! characters, then dot-segment removal) plus merged slashes, so that `//paid/a`,
//! `/paid/./a`, `/x/../paid/a` and `/%70aid/a` are all `/paid/a`. Spellings the upstream could
//! read as another path than any normalization gives (an encoded `/` or `\`, a `\`, a NUL) are
//! refused.

/// Why a path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ambiguous request path: {0}")]
pub struct Ambiguous(pub &'static str);

/// Whether `path` is already in normal form (no escape, backslash, empty or dot segment): the
/// common case, checked without allocating.
pub fn is_plain(path: &str) -> bool {
    let b = path.as_bytes();
    if b.first() != Some(&b'/') || b.iter().any(|c| matches!(c, b'%' | b'\\')) {
        return false;
    }
    !path.contains("//")
        && !path.contains("/./")
        && !path.contains("/../")
        && !path.ends_with("/.")
        && !path.ends_with("/..")
}

/// The normalized form of `path` (the part of the request target before `?`).
pub fn normalize(path: &str) -> Result<String, Ambiguous> {
    let decoded = decode_unreserved(path)?;
    let mut out: Vec<&str> = Vec::new();
    let trailing = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut p = String::with_capacity(decoded.len());
    for s in &out {
        p.push('/');
        p.push_str(s);
    }
    if p.is_empty() || (trailing && !out.is_empty()) {
        p.push('/');
    }
    Ok(p)
}

/// Decodes `%XX` of unreserved characters (ALPHA, DIGIT, `-`, `.`, `_`, `~`); keeps other
/// escapes as they are (upper-cased); refuses escapes of `/`, `\` and NUL, a raw `\`, and a
/// malformed escape.
fn decode_unreserved(path: &str) -> Result<String, Ambiguous> {
    let b = path.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => return Err(Ambiguous("a backslash")),
            b'%' => {
                let hex = b.get(i + 1..i + 3).ok_or(Ambiguous("a truncated %-escape"))?;
                let v = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(Ambiguous("a malformed %-escape"))?;
                match v {
                    b'/' => return Err(Ambiguous("an encoded slash")),
                    b'\\' => return Err(Ambiguous("an encoded backslash")),
                    0 => return Err(Ambiguous("an encoded NUL")),
                    c if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') => {
                        out.push(c as char)
                    }
                    c => out.push_str(&format!("%{c:02X}")),
                }
                i += 3;
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_path_normalize_alike() {
        for p in [
            "/paid/a",
            "//paid/a",
            "/paid//a",
            "/paid/./a",
            "/x/../paid/a",
            "/%70aid/a",
            "/%70%61%69%64/a",
            "/paid/%2e/a",
            "/paid/b/%2E%2E/a",
            "/../paid/a",
        ] {
            assert_eq!(normalize(p).unwrap(), "/paid/a", "{p}");
        }
        assert_eq!(normalize("/").unwrap(), "/");
        assert_eq!(normalize("").unwrap(), "/");
        assert_eq!(normalize("/docs/").unwrap(), "/docs/");
        assert_eq!(normalize("/docs/x/..").unwrap(), "/docs/");
        assert_eq!(normalize("/a%20b").unwrap(), "/a%20b");
        assert_eq!(normalize("/a%3fb").unwrap(), "/a%3Fb");
    }

    #[test]
    fn plain_paths_skip_the_work_and_others_do_not() {
        for p in ["/", "/paid/a", "/docs/", "/a.b/c..d/.e"] {
            assert!(is_plain(p), "{p}");
            assert_eq!(normalize(p).unwrap(), p);
        }
        for p in ["", "//a", "/a/./b", "/a/../b", "/a/.", "/a/..", "/%61", "/a\\b"] {
            assert!(!is_plain(p), "{p}");
        }
    }

    #[test]
    fn spellings_an_upstream_could_read_otherwise_are_refused() {
        for p in ["/paid%2Fa", "/paid%2fa", "/paid\\a", "/paid%5Ca", "/paid%00", "/paid%4", "/%zz"]
        {
            assert!(normalize(p).is_err(), "{p}");
        }
    }
}
