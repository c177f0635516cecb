//! Zip bundles of several documents (e.g. every ticket of an issuance) built byte-for-byte reproducibly, so
//! a bundle can be regenerated and compared against its stored SHA-256.

use std::collections::HashSet;
use std::io::{Cursor, Write};

use bytes::Bytes;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::error::DocumentError;

const MAX_NAME_LEN: usize = 255;

/// Builds a zip archive with `entries` in the given order.
///
/// Every entry gets the same timestamp (1980-01-01 00:00, the zip epoch), mode 0644 and deflate
/// compression, so the output depends only on the names and contents. Names must be plain file names:
/// no directories, no `..`, no control characters, no duplicates.
pub fn zip_bundle(entries: &[(String, Bytes)]) -> Result<Vec<u8>, DocumentError> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);

    let mut seen = HashSet::with_capacity(entries.len());
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, contents) in entries {
        validate_entry_name(name)?;
        if !seen.insert(name.as_str()) {
            return Err(DocumentError::InvalidEntryName { name: name.clone(), reason: "duplicate name" });
        }
        writer.start_file(name.as_str(), options)?;
        writer.write_all(contents)?;
    }
    Ok(writer.finish()?.into_inner())
}

fn validate_entry_name(name: &str) -> Result<(), DocumentError> {
    let reject = |reason| Err(DocumentError::InvalidEntryName { name: name.to_owned(), reason });
    if name.is_empty() {
        return reject("empty");
    }
    if name.len() > MAX_NAME_LEN {
        return reject("longer than 255 bytes");
    }
    if name == "." || name == ".." || name.contains("..") {
        return reject("contains `..`");
    }
    if name.contains(['/', '\\']) {
        return reject("contains a path separator");
    }
    // A drive prefix like `C:` would make some extractors write outside the target directory.
    if name.contains(':') {
        return reject("contains `:`");
    }
    if name.chars().any(char::is_control) {
        return reject("contains a control character");
    }
    if name.trim() != name {
        return reject("leading or trailing whitespace");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> Vec<(String, Bytes)> {
        vec![
            ("b-second.pdf".to_owned(), Bytes::from_static(b"%PDF-1.7 second")),
            ("a-first.pdf".to_owned(), Bytes::from(vec![7u8; 10_000])),
            ("NGUYỄN VĂN A.pdf".to_owned(), Bytes::new()),
        ]
    }

    #[test]
    fn deterministic() {
        let first = zip_bundle(&sample()).unwrap();
        let second = zip_bundle(&sample()).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn readable_with_names_order_and_contents() {
        let entries = sample();
        let bytes = zip_bundle(&entries).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), entries.len());
        for (index, (name, contents)) in entries.iter().enumerate() {
            let mut file = archive.by_index(index).unwrap();
            assert_eq!(file.name(), name);
            assert_eq!(file.compression(), CompressionMethod::Deflated);
            assert_eq!(file.last_modified(), Some(DateTime::default()));
            assert_eq!(file.unix_mode(), Some(0o100644));
            let mut read = Vec::new();
            file.read_to_end(&mut read).unwrap();
            assert_eq!(&read[..], &contents[..]);
        }
    }

    #[test]
    fn empty_bundle_is_a_valid_zip() {
        let bytes = zip_bundle(&[]).unwrap();
        assert_eq!(zip::ZipArchive::new(Cursor::new(bytes)).unwrap().len(), 0);
    }

    #[test]
    fn rejects_unsafe_names() {
        for bad in [
            "",
            ".",
            "..",
            "../x.pdf",
            "a/b.pdf",
            "a\\b.pdf",
            "/abs.pdf",
            "C:x.pdf",
            "x..pdf",
            " lead.pdf",
            "tab\t.pdf",
        ] {
            let entries = vec![(bad.to_owned(), Bytes::from_static(b"x"))];
            assert!(matches!(zip_bundle(&entries), Err(DocumentError::InvalidEntryName { .. })), "{bad:?} accepted");
        }
        let dup = vec![("same.pdf".to_owned(), Bytes::new()), ("same.pdf".to_owned(), Bytes::new())];
        assert!(matches!(zip_bundle(&dup), Err(DocumentError::InvalidEntryName { .. })));
    }
}
