//! Unsigned LEB128 varints, as Go's `binary.PutUvarint` writes them (span batch integers).

/// Appends `v`.
pub(crate) fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads one from the front of `r`; `None` when it is truncated or longer than 64 bits.
pub(crate) fn take(r: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, b) in r.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        if i == 9 && *b > 1 {
            return None;
        }
        v |= part << (7 * i);
        if b & 0x80 == 0 {
            *r = &r[i + 1..];
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_go() {
        for (v, bytes) in [
            (0u64, vec![0x00]),
            (1, vec![0x01]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (u64::MAX, vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ] {
            let mut out = vec![];
            put(&mut out, v);
            assert_eq!(out, bytes, "{v}");
            let mut r = &out[..];
            assert_eq!(take(&mut r), Some(v));
            assert!(r.is_empty());
        }
        assert_eq!(take(&mut &[0x80][..]), None, "truncated");
        assert_eq!(take(&mut &[0xff; 10][..]), None, "overflow");
    }
}
