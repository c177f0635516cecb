//! Durable storage for rendered documents on top of `object_store`, so the same code runs against a local
//! directory in development and an in-memory store in tests (and a cloud bucket later).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use crate::error::DocumentError;
use crate::hash::sha256_hex;

const MAX_KEY_LEN: usize = 512;

/// A storage key that is guaranteed to be a safe relative path.
///
/// Keys end up as file paths on disk, so anything that could climb out of the storage directory or be
/// interpreted differently by another backend (`..`, absolute paths, empty segments, non-ASCII) is refused
/// up front instead of being normalised silently.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentKey(String);

impl DocumentKey {
    /// Validates `raw`: `/`-separated segments of `[A-Za-z0-9._-]`, no empty, `.` or `..` segment, at most
    /// 512 characters.
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let reject = |reason| DocumentError::InvalidKey { key: raw.to_owned(), reason };
        if raw.is_empty() {
            return Err(reject("empty"));
        }
        if raw.len() > MAX_KEY_LEN {
            return Err(reject("longer than 512 characters"));
        }
        if raw.starts_with('/') {
            return Err(reject("absolute path"));
        }
        for segment in raw.split('/') {
            match segment {
                "" => return Err(reject("empty path segment")),
                "." | ".." => return Err(reject("relative path segment")),
                _ => {}
            }
            let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
            if !segment.chars().all(allowed) {
                return Err(reject("characters outside [A-Za-z0-9._-]"));
            }
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn to_object_path(&self) -> Result<ObjectPath, DocumentError> {
        // Our rules are stricter than object_store's, so this only fails if the two ever disagree.
        ObjectPath::parse(&self.0).map_err(|e| DocumentError::InvalidKey {
            key: format!("{} ({e})", self.0),
            reason: "rejected by the object store",
        })
    }
}

impl fmt::Display for DocumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for DocumentKey {
    type Err = DocumentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// What was written: enough to record the document in the database and verify it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub key: DocumentKey,
    /// Lowercase hex SHA-256 of the stored bytes.
    pub sha256: String,
    pub size: u64,
}

/// Handle to the document store; clones share the same backend.
#[derive(Clone)]
pub struct DocumentStore {
    inner: Arc<dyn ObjectStore>,
}

impl fmt::Debug for DocumentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentStore").field("backend", &self.inner.to_string()).finish()
    }
}

impl DocumentStore {
    /// A store rooted at `dir`, created if missing. Writes go to a temporary file that is renamed into
    /// place, so readers never see a half-written document.
    pub fn local(dir: &Path) -> Result<Self, DocumentError> {
        std::fs::create_dir_all(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(DocumentError::Store)?;
        Ok(Self::from_object_store(Arc::new(fs)))
    }

    /// A process-local store, for tests and ephemeral deployments.
    pub fn in_memory() -> Self {
        Self::from_object_store(Arc::new(InMemory::new()))
    }

    /// Wraps any other `object_store` backend (e.g. a cloud bucket configured by the caller).
    pub fn from_object_store(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }

    /// Stores `bytes` under `key`, replacing any previous document with that key.
    pub async fn put(&self, key: &DocumentKey, bytes: Bytes) -> Result<StoredDocument, DocumentError> {
        let sha256 = sha256_hex(&bytes);
        let size = bytes.len() as u64;
        self.inner
            .put(&key.to_object_path()?, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| map_store_error(key, e))?;
        tracing::debug!(%key, size, %sha256, "document stored");
        Ok(StoredDocument { key: key.clone(), sha256, size })
    }

    /// Reads the whole document stored under `key`.
    pub async fn get(&self, key: &DocumentKey) -> Result<Bytes, DocumentError> {
        let result = self.inner.get(&key.to_object_path()?).await.map_err(|e| map_store_error(key, e))?;
        result.bytes().await.map_err(|e| map_store_error(key, e))
    }

    /// Whether a document is stored under `key`.
    pub async fn exists(&self, key: &DocumentKey) -> Result<bool, DocumentError> {
        match self.inner.head(&key.to_object_path()?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(DocumentError::Store(e)),
        }
    }
}

fn map_store_error(key: &DocumentKey, err: object_store::Error) -> DocumentError {
    match err {
        object_store::Error::NotFound { .. } => DocumentError::NotFound(key.to_string()),
        other => DocumentError::Store(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_validation_table() {
        let long_ok = "a".repeat(512);
        let too_long = "a".repeat(513);
        let cases: &[(&str, bool)] = &[
            ("tickets/2027/157-6752209683.pdf", true),
            ("a", true),
            ("a/b/c", true),
            ("A-Z_0.9", true),
            (".hidden", true),
            ("a..b", true),
            (&long_ok, true),
            ("", false),
            ("../x", false),
            ("a/../x", false),
            ("..", false),
            (".", false),
            ("/abs", false),
            ("a//b", false),
            ("a/./b", false),
            ("a/", false),
            ("a\\b", false),
            ("a b", false),
            ("nguyễn.pdf", false),
            ("ticket.pdf\n", false),
            ("c:/x", false),
            ("a%2e", false),
            (&too_long, false),
        ];
        for (raw, ok) in cases {
            let parsed = DocumentKey::parse(raw);
            assert_eq!(parsed.is_ok(), *ok, "{raw:?} -> {parsed:?}");
            if let Ok(key) = parsed {
                assert_eq!(key.to_string(), *raw);
                assert!(key.to_object_path().is_ok());
            }
        }
    }

    async fn roundtrip(store: DocumentStore) {
        let key = DocumentKey::parse("issuances/ABC123/157-6752209683.pdf").unwrap();
        assert!(!store.exists(&key).await.unwrap());
        match store.get(&key).await {
            Err(DocumentError::NotFound(k)) => assert_eq!(k, key.to_string()),
            other => panic!("expected NotFound, got {other:?}"),
        }

        let body = Bytes::from_static(b"%PDF-1.7 test body");
        let stored = store.put(&key, body.clone()).await.unwrap();
        assert_eq!(stored.key, key);
        assert_eq!(stored.size, body.len() as u64);
        assert_eq!(stored.sha256, sha256_hex(&body));

        assert!(store.exists(&key).await.unwrap());
        assert_eq!(store.clone().get(&key).await.unwrap(), body);

        // Overwrite replaces the content.
        store.put(&key, Bytes::from_static(b"v2")).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Bytes::from_static(b"v2"));
    }

    #[tokio::test]
    async fn local_store_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("not/yet/there");
        let store = DocumentStore::local(&root).unwrap();
        roundtrip(store).await;
        assert!(root.join("issuances/ABC123/157-6752209683.pdf").is_file());
    }

    #[tokio::test]
    async fn in_memory_store_roundtrip() {
        roundtrip(DocumentStore::in_memory()).await;
    }
}
