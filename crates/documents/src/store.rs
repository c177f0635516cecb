//! Durable storage for rendered documents on top of `object_store`, so the same code runs against a local
//! directory on one node, a bucket shared by many nodes (S3 or any S3-compatible server, Google Cloud Storage,
//! Azure Blob Storage), and an in-memory store in tests. Which one is named by a URL ([`DocumentStore::from_url`]).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreScheme, PutPayload};
use url::Url;

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
    /// Buckets can hand out URLs that fetch a document straight from the store; directories cannot.
    signer: Option<UrlSigner>,
    /// Where the documents are, for logs and readiness: the URL without credentials or query.
    location: String,
}

#[derive(Clone)]
struct UrlSigner {
    signer: Arc<dyn Signer>,
    /// The bucket prefix the store's keys live under (signing sees the whole bucket).
    prefix: ObjectPath,
}

impl fmt::Debug for DocumentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentStore").field("location", &self.location).finish()
    }
}

impl DocumentStore {
    /// Opens the store a URL names:
    /// - `file:///absolute/path`: a directory (created if missing);
    /// - `memory://`: a process-local store (tests);
    /// - `s3://bucket/prefix`: S3 or an S3-compatible server, configured by the standard `AWS_*` environment
    ///   variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    ///   `AWS_ALLOW_HTTP`, ...);
    /// - `gs://bucket/prefix` (`GOOGLE_*` variables) and `az://container/prefix` (`AZURE_*` variables).
    ///
    /// Nothing is contacted yet: [`DocumentStore::check`] tells whether the store answers.
    pub fn from_url(raw: &str) -> Result<Self, DocumentError> {
        Self::from_url_with(raw, std::iter::empty::<(String, String)>())
    }

    /// Like [`DocumentStore::from_url`], with configuration keys of the bucket's builder (`aws_endpoint`,
    /// `aws_access_key_id`, `google_service_account`, `azure_storage_account_name`, ...) that take precedence
    /// over the environment. Unknown keys are refused.
    pub fn from_url_with<I, K, V>(raw: &str, options: I) -> Result<Self, DocumentError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let invalid = |reason: String| DocumentError::InvalidUrl(format!("{}: {reason}", redact(raw)));
        let url = Url::parse(raw).map_err(|e| invalid(e.to_string()))?;
        let options: Vec<(String, String)> =
            options.into_iter().map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.into())).collect();
        let unknown = |key: &str| invalid(format!("unknown option {key:?}"));
        match url.scheme() {
            "memory" => return Ok(Self::in_memory()),
            "file" => {
                let dir = url.to_file_path().map_err(|()| invalid("a file URL needs an absolute path".into()))?;
                return Self::local(&dir);
            }
            _ => {}
        }
        let not_a_store = || invalid("not a document store (use file://, s3://, gs:// or az://)".into());
        let (scheme, path) = ObjectStoreScheme::parse(&url).map_err(|_| not_a_store())?;
        let prefix = ObjectPath::parse(path).map_err(|e| invalid(e.to_string()))?;
        let location = redact(raw);
        let store_error = |e: object_store::Error| invalid(e.to_string());
        match scheme {
            ObjectStoreScheme::AmazonS3 => {
                let mut builder = AmazonS3Builder::from_env().with_url(raw);
                for (key, value) in options {
                    let key: AmazonS3ConfigKey = key.parse().map_err(|_| unknown(&key))?;
                    builder = builder.with_config(key, value);
                }
                Ok(Self::bucket(Arc::new(builder.build().map_err(store_error)?), prefix, location))
            }
            ObjectStoreScheme::GoogleCloudStorage => {
                let mut builder = GoogleCloudStorageBuilder::from_env().with_url(raw);
                for (key, value) in options {
                    let key: GoogleConfigKey = key.parse().map_err(|_| unknown(&key))?;
                    builder = builder.with_config(key, value);
                }
                Ok(Self::bucket(Arc::new(builder.build().map_err(store_error)?), prefix, location))
            }
            ObjectStoreScheme::MicrosoftAzure => {
                let mut builder = MicrosoftAzureBuilder::from_env().with_url(raw);
                for (key, value) in options {
                    let key: AzureConfigKey = key.parse().map_err(|_| unknown(&key))?;
                    builder = builder.with_config(key, value);
                }
                Ok(Self::bucket(Arc::new(builder.build().map_err(store_error)?), prefix, location))
            }
            _ => Err(not_a_store()),
        }
    }

    /// A bucket store whose keys live under `prefix`.
    fn bucket<S: ObjectStore + Signer>(store: Arc<S>, prefix: ObjectPath, location: String) -> Self {
        let whole: Arc<dyn ObjectStore> = store.clone();
        let inner: Arc<dyn ObjectStore> =
            if prefix.as_ref().is_empty() { whole } else { Arc::new(PrefixStore::new(whole, prefix.clone())) };
        Self { inner, signer: Some(UrlSigner { signer: store, prefix }), location }
    }

    /// Where the documents are (the store's URL without credentials), for logs and readiness answers.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether the store answers: listing a folder that need not exist succeeds (with or without entries). A
    /// missing bucket or refused credentials fail here, at start and in readiness, not at the first download.
    pub async fn check(&self) -> Result<(), DocumentError> {
        let probe = ObjectPath::from("tessera-readiness-probe");
        self.inner.list_with_delimiter(Some(&probe)).await.map(drop).map_err(DocumentError::Store)
    }

    /// A URL that fetches the document straight from the store until `ttl` has passed, when the store can sign
    /// one (buckets); `None` for directories and memory.
    pub async fn presigned_get(&self, key: &DocumentKey, ttl: Duration) -> Result<Option<Url>, DocumentError> {
        let Some(UrlSigner { signer, prefix }) = &self.signer else { return Ok(None) };
        let path: ObjectPath = prefix.parts().chain(key.to_object_path()?.parts()).collect();
        let url = signer.signed_url(http::Method::GET, &path, ttl).await.map_err(|e| map_store_error(key, e))?;
        Ok(Some(url))
    }

    /// A store rooted at `dir`, created if missing. Writes go to a temporary file that is renamed into
    /// place, so readers never see a half-written document.
    pub fn local(dir: &Path) -> Result<Self, DocumentError> {
        std::fs::create_dir_all(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(DocumentError::Store)?;
        let location = std::fs::canonicalize(dir)
            .ok()
            .and_then(|abs| Url::from_directory_path(abs).ok())
            .map_or_else(|| format!("file://{}", dir.display()), String::from);
        Ok(Self { inner: Arc::new(fs), signer: None, location })
    }

    /// A process-local store, for tests and ephemeral deployments.
    pub fn in_memory() -> Self {
        Self { inner: Arc::new(InMemory::new()), signer: None, location: "memory://".into() }
    }

    /// Wraps any other `object_store` backend configured by the caller; it cannot sign URLs.
    pub fn from_object_store(inner: Arc<dyn ObjectStore>) -> Self {
        let location = inner.to_string();
        Self { inner, signer: None, location }
    }

    /// Stores `bytes` under `key`, replacing any previous document with that key.
    pub async fn put(&self, key: &DocumentKey, bytes: Bytes) -> Result<StoredDocument, DocumentError> {
        let sha256 = sha256_hex(&bytes);
        self.write(key.clone(), sha256, bytes).await
    }

    /// Stores `bytes` under a key named by their content, `{folder}/{first 16 hex of the SHA-256}/{filename}`,
    /// hashing them once: every writer of the same bytes writes the same key, and a key never holds two contents.
    pub async fn put_addressed(
        &self,
        folder: &str,
        filename: &str,
        bytes: Bytes,
    ) -> Result<StoredDocument, DocumentError> {
        let sha256 = sha256_hex(&bytes);
        let key = DocumentKey::parse(&format!("{folder}/{}/{filename}", &sha256[..16]))?;
        self.write(key, sha256, bytes).await
    }

    async fn write(&self, key: DocumentKey, sha256: String, bytes: Bytes) -> Result<StoredDocument, DocumentError> {
        let size = bytes.len() as u64;
        self.inner
            .put(&key.to_object_path()?, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| map_store_error(&key, e))?;
        tracing::debug!(%key, size, %sha256, "document stored");
        Ok(StoredDocument { key, sha256, size })
    }

    /// Reads the whole document stored under `key`.
    pub async fn get(&self, key: &DocumentKey) -> Result<Bytes, DocumentError> {
        let result = self.inner.get(&key.to_object_path()?).await.map_err(|e| map_store_error(key, e))?;
        result.bytes().await.map_err(|e| map_store_error(key, e))
    }

    /// Removes the document stored under `key`, if any. Tessera never deletes a document itself: the database
    /// records every version, and a lost file is rendered again on read; this is for operators and tests.
    pub async fn delete(&self, key: &DocumentKey) -> Result<(), DocumentError> {
        match self.inner.delete(&key.to_object_path()?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(DocumentError::Store(e)),
        }
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

/// The URL as it may be shown: no user, password, query or fragment.
fn redact(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            // Setting these only fails for URLs that cannot have them, which then have none to hide.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => "(unparsable URL)".into(),
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

    #[tokio::test]
    async fn addressed_keys_name_the_content() {
        let store = DocumentStore::in_memory();
        let stored = store.put_addressed("agencies/a/documents", "t.pdf", Bytes::from_static(b"one")).await.unwrap();
        let sha = crate::sha256_hex(b"one");
        assert_eq!(stored.sha256, sha);
        assert_eq!(stored.key.to_string(), format!("agencies/a/documents/{}/t.pdf", &sha[..16]));
        assert_eq!(store.get(&stored.key).await.unwrap(), Bytes::from_static(b"one"));
        // Other bytes under the same name go to another key; the first is untouched.
        let other = store.put_addressed("agencies/a/documents", "t.pdf", Bytes::from_static(b"two")).await.unwrap();
        assert_ne!(other.key, stored.key);
        assert_eq!(store.get(&stored.key).await.unwrap(), Bytes::from_static(b"one"));
        assert!(store.put_addressed("../x", "t.pdf", Bytes::from_static(b"one")).await.is_err());
    }
}
