//! `source::parse_blob`: the fields of Linux trusted_dcp blobs, on the
//! blobs of the independent vector script, and the same refusals as
//! `parse_blob_header`.
mod common;

use common::vector;
use hal_dcp::source::{DCP_BLOB_HEADER, parse_blob, parse_blob_header};

#[test]
fn fields_of_the_vector_blobs() {
    for (name, n) in [("blob-e", 32), ("blob-unique-1", 64), ("blob-otp-1", 128)] {
        let v = vector(name);
        let blob = v.bytes("blob");
        let f = parse_blob(&blob).unwrap();
        assert_eq!(f.version, 1);
        assert_eq!(f.nonce, v.bytes("nonce").as_slice(), "{name}");
        assert_eq!(f.payload.len(), n);
        assert_eq!(f.payload, &blob[DCP_BLOB_HEADER..DCP_BLOB_HEADER + n]);
        assert_eq!(f.tag, &blob[blob.len() - 16..]);
        // The blob key is stored wrapped, never as the script drew it.
        assert_eq!(f.wrapped_blob_key, &blob[1..17]);
        assert_ne!(f.wrapped_blob_key, v.bytes("bek").as_slice());
    }
}

#[test]
fn refuses_what_parse_blob_header_refuses() {
    let blob = vector("blob-e").bytes("blob");
    let mut cases: Vec<Vec<u8>> = (0..blob.len()).map(|n| blob[..n].to_vec()).collect();
    let mut version = blob.clone();
    version[0] = 2;
    cases.push(version);
    let mut len = blob.clone();
    len[33] += 1;
    cases.push(len);
    let mut longer = blob.clone();
    longer.push(0);
    cases.push(longer);
    for c in &cases {
        let header = parse_blob_header(c).unwrap_err();
        assert_eq!(parse_blob(c).unwrap_err(), header, "{} bytes", c.len());
    }
}
