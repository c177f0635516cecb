//! A small in-memory cache of verified document bytes, so a download of a popular ticket is not a file (or
//! bucket) read and a SHA-256 each time.
//!
//! Entries are keyed by the document's storage key **and** the SHA-256 its database record names, and only bytes
//! whose SHA-256 was checked against that record (read from the store, or re-rendered) are put in. A request
//! always reads the record from the database first, so the cache can only ever answer with exactly the bytes the
//! current record describes: a document re-rendered by a lifecycle change has a new record (a new key and hash)
//! and misses, whichever node changed it. Nothing in it is a credential or a decision; it is a copy of bytes
//! that are immutable by their hash, so it needs no invalidation across nodes.
//!
//! Bounded by total bytes (`--document-cache-mb`, 0 turns it off); a document larger than an eighth of the bound
//! is not kept. When full, the oldest entries go first (FIFO: cheap, and a popular document comes straight back).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;

pub(crate) struct DocumentCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// storage key → (SHA-256 of the bytes, the bytes).
    entries: HashMap<String, (String, Bytes)>,
    /// Keys in insertion order, oldest first.
    order: VecDeque<String>,
    /// Sum of the cached documents' sizes.
    bytes: usize,
}

impl DocumentCache {
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        Self { capacity: capacity_bytes, inner: Mutex::new(Inner::default()) }
    }

    /// The bytes stored under `key`, if they are the ones whose SHA-256 is `sha256`.
    pub(crate) fn get(&self, key: &str, sha256: &str) -> Option<Bytes> {
        if self.capacity == 0 {
            return None;
        }
        let inner = self.inner.lock().ok()?;
        inner.entries.get(key).filter(|(sha, _)| sha == sha256).map(|(_, bytes)| bytes.clone())
    }

    /// Drops every copy.
    pub(crate) fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner = Inner::default();
        }
    }

    /// Keeps `bytes`, already verified to hash to `sha256`, under `key`.
    pub(crate) fn insert(&self, key: &str, sha256: &str, bytes: &Bytes) {
        if bytes.len() > self.capacity / 8 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else { return };
        if let Some((_, old)) = inner.entries.remove(key) {
            inner.bytes -= old.len();
            inner.order.retain(|k| k != key);
        }
        while inner.bytes + bytes.len() > self.capacity {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some((_, old)) = inner.entries.remove(&oldest) {
                inner.bytes -= old.len();
            }
        }
        inner.bytes += bytes.len();
        inner.order.push_back(key.to_owned());
        // A copy that owns exactly its bytes: a slice of a larger buffer would pin all of it.
        inner.entries.insert(key.to_owned(), (sha256.to_owned(), Bytes::copy_from_slice(bytes)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: usize) -> Bytes {
        Bytes::from(vec![b'x'; n])
    }

    #[test]
    fn answers_only_for_the_recorded_hash() {
        let cache = DocumentCache::new(1000);
        cache.insert("a", "sha-1", &doc(10));
        assert_eq!(cache.get("a", "sha-1"), Some(doc(10)));
        assert_eq!(cache.get("a", "sha-2"), None, "another version of the same key misses");
        assert_eq!(cache.get("b", "sha-1"), None);
        cache.insert("a", "sha-2", &doc(20));
        assert_eq!(cache.get("a", "sha-1"), None);
        assert_eq!(cache.get("a", "sha-2"), Some(doc(20)));
    }

    #[test]
    fn stays_within_its_bound_oldest_out_first() {
        let cache = DocumentCache::new(800);
        for (i, key) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
            cache.insert(key, &format!("sha-{i}"), &doc(100));
        }
        assert_eq!(cache.get("a", "sha-0"), None, "the oldest went");
        assert_eq!(cache.get("i", "sha-8"), Some(doc(100)));
        assert_eq!(cache.get("b", "sha-1"), Some(doc(100)));
        let inner = cache.inner.lock().unwrap();
        assert_eq!((inner.bytes, inner.entries.len(), inner.order.len()), (800, 8, 8));
    }

    #[test]
    fn keeps_nothing_too_large_or_when_off() {
        let cache = DocumentCache::new(800);
        cache.insert("big", "sha", &doc(101));
        assert_eq!(cache.get("big", "sha"), None, "more than an eighth of the bound");
        let off = DocumentCache::new(0);
        off.insert("a", "sha", &doc(0));
        assert_eq!(off.get("a", "sha"), None);
    }
}
