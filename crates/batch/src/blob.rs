//! The OP Stack's blob encoding, version 0 (specs/protocol/derivation.md, "Blob Encoding"):
//! how a batcher transaction's data (`0x00 ‖ frames`) fills an EIP-4844 blob.
//!
//! A blob is 4096 field elements of 32 bytes, and a field element's top two bits must be zero.
//! The encoding runs 1024 rounds over four field elements each: every field element carries 31
//! bytes of data in its low bytes and 6 bits in its first byte, so four of them carry
//! `4 × 31 + 3 = 127` bytes. Round 0 spends its first field element's low bytes on the encoding
//! version (`0`) and the data's length (3 bytes, big-endian), leaving room for
//! `1024 × 127 − 4 = 130,044` bytes per blob ([`MAX_BLOB_DATA_SIZE`]).
//!
//! A blob carries one batcher transaction's data (`0x00 ‖ frames`), so a frame is at most
//! `MAX_BLOB_DATA_SIZE − 1` bytes. Decoding checks what op-node checks: the version, the length bound, the two zero bits of
//! every field element, and zeros everywhere after the data — so one blob has one meaning.

use alloy_eips::eip4844::Blob;

/// The encoding version this module writes and reads.
pub const BLOB_ENCODING_VERSION: u8 = 0;

/// Rounds of four field elements in a blob.
const ROUNDS: usize = 1024;

/// The most data one blob carries.
pub const MAX_BLOB_DATA_SIZE: usize = (4 * 31 + 3) * ROUNDS - 4;

/// Why a blob does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// More data than one blob carries.
    #[error("{0} bytes do not fit in a blob (at most {MAX_BLOB_DATA_SIZE})")]
    TooLarge(usize),
    /// The version byte is not 0.
    #[error("blob encoding version {0} (only 0 is read)")]
    Version(u8),
    /// The length field exceeds what a blob carries.
    #[error("blob length {0} exceeds {MAX_BLOB_DATA_SIZE}")]
    Length(usize),
    /// A field element's top two bits are set.
    #[error("field element {0} is not canonical (top bits set)")]
    FieldElement(usize),
    /// Bytes after the data are not zero.
    #[error("non-zero bytes after the blob's data")]
    Trailing,
}

/// Writes one round's four 6-bit parts into the first bytes of its field elements, and the
/// 31-byte chunks after them.
struct Writer<'a> {
    blob: &'a mut [u8],
    data: &'a [u8],
    read: usize,
}

impl Writer<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.read).copied().unwrap_or(0);
        self.read = (self.read + 1).min(self.data.len());
        b
    }

    /// Copies up to `n` data bytes to `blob[at..]` (the rest stays zero).
    fn chunk(&mut self, at: usize, n: usize) {
        let take = n.min(self.data.len() - self.read);
        self.blob[at..at + take].copy_from_slice(&self.data[self.read..self.read + take]);
        self.read += take;
    }
}

/// Encodes `data` into one blob.
pub fn encode(data: &[u8]) -> Result<Blob, BlobError> {
    if data.len() > MAX_BLOB_DATA_SIZE {
        return Err(BlobError::TooLarge(data.len()));
    }
    let mut blob = Blob::ZERO;
    let mut w = Writer { blob: blob.as_mut_slice(), data, read: 0 };
    for round in 0..ROUNDS {
        if round > 0 && w.read >= data.len() {
            break;
        }
        let fe = round * 128;
        if round == 0 {
            w.blob[1] = BLOB_ENCODING_VERSION;
            // The length fits in 3 bytes: MAX_BLOB_DATA_SIZE < 2^24.
            w.blob[2..5].copy_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
            w.chunk(5, 27);
        } else {
            w.chunk(fe + 1, 31);
        }
        let x = w.byte();
        w.chunk(fe + 33, 31);
        let y = w.byte();
        w.chunk(fe + 65, 31);
        let z = w.byte();
        w.chunk(fe + 97, 31);
        w.blob[fe] = x & 0b0011_1111;
        w.blob[fe + 32] = (y & 0b0000_1111) | ((x & 0b1100_0000) >> 2);
        w.blob[fe + 64] = z & 0b0011_1111;
        w.blob[fe + 96] = ((z & 0b1100_0000) >> 2) | ((y & 0b1111_0000) >> 4);
    }
    Ok(blob)
}

/// Decodes the data a blob carries.
pub fn decode(blob: &Blob) -> Result<Vec<u8>, BlobError> {
    let b = blob.as_slice();
    if b[1] != BLOB_ENCODING_VERSION {
        return Err(BlobError::Version(b[1]));
    }
    let len = u32::from_be_bytes([0, b[2], b[3], b[4]]) as usize;
    if len > MAX_BLOB_DATA_SIZE {
        return Err(BlobError::Length(len));
    }
    let mut out = Vec::with_capacity(len + 127);
    let mut fe = 0;
    for round in 0..ROUNDS {
        if out.len() >= len {
            break;
        }
        let mut six = [0u8; 4];
        for (i, part) in six.iter_mut().enumerate() {
            let at = fe + 32 * i;
            if b[at] & 0b1100_0000 != 0 {
                return Err(BlobError::FieldElement(at / 32));
            }
            *part = b[at];
        }
        let x = (six[0] & 0b0011_1111) | ((six[1] & 0b0011_0000) << 2);
        let y = (six[1] & 0b0000_1111) | ((six[3] & 0b0000_1111) << 4);
        let z = (six[2] & 0b0011_1111) | ((six[3] & 0b0011_0000) << 2);
        out.extend_from_slice(if round == 0 { &b[fe + 5..fe + 32] } else { &b[fe + 1..fe + 32] });
        out.push(x);
        out.extend_from_slice(&b[fe + 33..fe + 64]);
        out.push(y);
        out.extend_from_slice(&b[fe + 65..fe + 96]);
        out.push(z);
        out.extend_from_slice(&b[fe + 97..fe + 128]);
        fe += 128;
    }
    if out[len.min(out.len())..].iter().any(|&v| v != 0) || b[fe..].iter().any(|&v| v != 0) {
        return Err(BlobError::Trailing);
    }
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_eips::eip4844::BYTES_PER_BLOB;

    fn data(n: usize) -> Vec<u8> {
        // Every byte value, high bits included, at every position within a round.
        (0..n).map(|i| (i.wrapping_mul(131) ^ (i >> 7)) as u8).collect()
    }

    #[test]
    fn roundtrips_at_every_boundary() {
        for n in [0, 1, 26, 27, 28, 122, 123, 124, 249, 250, 1000, 65_536, MAX_BLOB_DATA_SIZE] {
            let d = data(n);
            let blob = encode(&d).unwrap();
            assert_eq!(decode(&blob).unwrap(), d, "length {n}");
            // Every field element is canonical.
            assert!(blob.chunks(32).all(|fe| fe[0] & 0xc0 == 0), "length {n}");
        }
    }

    #[test]
    fn the_layout_is_the_specs() {
        let blob = encode(&[0xff; 4]).unwrap();
        // Byte 0 holds x's bits (none yet), then the version, the 3-byte length, and the data
        // from byte 5: four bytes fit in round 0's first chunk.
        assert_eq!(&blob[..9], &[0, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]);
        assert!(blob[9..].iter().all(|&b| b == 0));
        // The 28th byte (x) is split: low 6 bits in byte 0, top 2 in element 1's byte 0.
        let mut d = vec![0u8; 28];
        d[27] = 0b1110_0001;
        let blob = encode(&d).unwrap();
        assert_eq!(blob[0], 0b0010_0001);
        assert_eq!(blob[32], 0b0011_0000);
    }

    #[test]
    fn too_much_data_is_refused() {
        assert_eq!(encode(&data(MAX_BLOB_DATA_SIZE + 1)), Err(BlobError::TooLarge(130_045)));
    }

    #[test]
    fn malformed_blobs_are_refused() {
        let good = encode(&data(500)).unwrap();
        let mut b = good;
        b[1] = 1;
        assert_eq!(decode(&b), Err(BlobError::Version(1)));
        let mut b = good;
        b[2..5].copy_from_slice(&[0xff, 0xff, 0xff]);
        assert_eq!(decode(&b), Err(BlobError::Length(0xff_ffff)));
        let mut b = good;
        b[64] |= 0x80;
        assert_eq!(decode(&b), Err(BlobError::FieldElement(2)));
        // A byte after the data, within the last round and after it.
        let mut b = good;
        b[4 * 128 + 100] = 1;
        assert_eq!(decode(&b), Err(BlobError::Trailing));
        let mut b = good;
        b[BYTES_PER_BLOB - 1] = 1;
        assert_eq!(decode(&b), Err(BlobError::Trailing));
        // A shorter length than the data written leaves non-zero bytes after it.
        let mut b = good;
        b[4] = b[4].wrapping_sub(1);
        assert_eq!(decode(&b), Err(BlobError::Trailing));
    }
}
