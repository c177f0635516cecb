//! The document store on a real S3-compatible server (moto's server mode, see `support/moto.rs`). Nothing here is
//! a mock of ours: the same `object_store` client that talks to AWS talks to it over HTTP.

use std::time::Duration;

use bytes::Bytes;
use tessera_documents::{DocumentError, DocumentKey, DocumentStore};

#[path = "../../tessera/tests/support/moto.rs"]
mod moto;
use moto::Moto;

fn s3(moto: &Moto, url: &str) -> DocumentStore {
    DocumentStore::from_url_with(url, moto.options()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_round_trips_under_its_prefix_and_signs_links() {
    let moto = Moto::start().await;
    moto.create_bucket("tessera-docs").await;
    let store = s3(&moto, "s3://tessera-docs/node-shared");
    assert_eq!(store.location(), "s3://tessera-docs/node-shared");
    store.check().await.unwrap();

    let key = DocumentKey::parse("issuances/ABC123/157-6752209683.pdf").unwrap();
    assert!(!store.exists(&key).await.unwrap());
    assert!(matches!(store.get(&key).await, Err(DocumentError::NotFound(k)) if k == key.as_str()));

    let body = Bytes::from_static(b"%PDF-1.7 shared by every node");
    let stored = store.put(&key, body.clone()).await.unwrap();
    assert_eq!(stored.size, body.len() as u64);
    assert!(store.exists(&key).await.unwrap());
    assert_eq!(store.get(&key).await.unwrap(), body);

    // Another node opening the same URL sees the same document; the prefix really is a folder of the bucket.
    assert_eq!(s3(&moto, "s3://tessera-docs/node-shared").get(&key).await.unwrap(), body);
    let whole_bucket = s3(&moto, "s3://tessera-docs");
    let under_prefix = DocumentKey::parse("node-shared/issuances/ABC123/157-6752209683.pdf").unwrap();
    assert_eq!(whole_bucket.get(&under_prefix).await.unwrap(), body);
    assert!(!whole_bucket.exists(&key).await.unwrap());

    // A presigned URL fetches the bytes with no credentials at all, until it expires.
    let url = store.presigned_get(&key, Duration::from_secs(60)).await.unwrap().expect("buckets sign URLs");
    assert!(
        url.as_str().starts_with(&format!("{}/tessera-docs/node-shared/issuances/ABC123/", moto.endpoint)),
        "{url}"
    );
    assert!(url.query().is_some_and(|q| q.contains("X-Amz-Signature=")), "{url}");
    let fetched = reqwest::get(url).await.unwrap();
    assert!(fetched.status().is_success(), "{}", fetched.status());
    assert_eq!(fetched.bytes().await.unwrap(), body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_fails_the_check_instead_of_every_request() {
    let moto = Moto::start().await;
    let store = s3(&moto, "s3://no-such-bucket/x");
    let error = store.check().await.unwrap_err();
    assert!(matches!(error, DocumentError::Store(_)), "{error:?}");
}

#[test]
fn urls_name_the_store_and_bad_ones_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("docs").display());
    let local = DocumentStore::from_url(&url).unwrap();
    assert!(dir.path().join("docs").is_dir());
    assert!(local.location().starts_with("file:///") && local.location().ends_with("/docs/"), "{}", local.location());
    assert_eq!(DocumentStore::from_url("memory://").unwrap().location(), "memory://");

    let refused = |url: &str| match DocumentStore::from_url(url) {
        Err(DocumentError::InvalidUrl(reason)) => reason,
        other => panic!("{url}: expected InvalidUrl, got {other:?}"),
    };
    assert!(refused("not a url").contains("relative URL without a base"), "{}", refused("not a url"));
    assert!(refused("file://relative/path").contains("absolute path"), "{}", refused("file://relative/path"));
    assert!(refused("ftp://example.com/x").contains("not a document store"), "{}", refused("ftp://example.com/x"));
    // What is shown of a URL (location, errors) never carries its credentials or query.
    let with_secret = DocumentStore::from_url("s3://key:hunter2@bucket/x?token=hunter2#frag").unwrap();
    assert_eq!(with_secret.location(), "s3://bucket/x");
    let refused_secret = refused("ftp://key:hunter2@example.com/x?token=hunter2");
    assert!(
        !refused_secret.contains("hunter2") && refused_secret.starts_with("ftp://example.com/x"),
        "{refused_secret}"
    );
    let unknown = DocumentStore::from_url_with("s3://bucket", [("aws_no_such_option", "1")]).unwrap_err();
    assert!(unknown.to_string().contains("unknown option \"aws_no_such_option\""), "{unknown}");
}

#[tokio::test]
async fn directories_and_memory_cannot_sign_links() {
    let key = DocumentKey::parse("a.pdf").unwrap();
    let memory = DocumentStore::from_url("memory://").unwrap();
    memory.put(&key, Bytes::from_static(b"x")).await.unwrap();
    assert_eq!(memory.presigned_get(&key, Duration::from_secs(60)).await.unwrap(), None);
    memory.check().await.unwrap();
}
