//! The single error type of the crate, so callers match on one enum whatever the document operation.

/// Everything that can go wrong while rendering, bundling or storing a document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// A storage key that is not a safe relative path.
    #[error("invalid document key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },

    /// A file name inside a zip bundle that could escape the extraction directory or is otherwise unusable.
    #[error("invalid bundle entry name {name:?}: {reason}")]
    InvalidEntryName { name: String, reason: &'static str },

    /// No document is stored under this key.
    #[error("document not found: {0}")]
    NotFound(String),

    /// The object store failed for another reason than a missing document.
    #[error("document store error: {0}")]
    Store(#[source] object_store::Error),

    /// A `--documents-url` that names no store Tessera can open, or a store that cannot be configured.
    #[error("invalid document store URL: {0}")]
    InvalidUrl(String),

    /// Local filesystem error outside the object store (e.g. creating the storage directory).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// Writing the zip archive failed.
    #[error("zip error: {0}")]
    Zip(#[from] zip::result::ZipError),

    /// The embedded font could not be parsed or subset.
    #[error("font error: {0}")]
    Font(String),

    /// The caller asked for a document without content (e.g. an itinerary with no passengers).
    #[error("nothing to render: {0}")]
    Empty(&'static str),

    /// A wallet pass could not be built or signed (or its signing identity is unusable).
    #[error("wallet pass error: {0}")]
    Wallet(String),

    /// The QR payload could not be encoded (usually: too long).
    #[error("QR code error: {0}")]
    Qr(String),
}
