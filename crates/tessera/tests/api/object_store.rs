//! Documents in a bucket (`--documents-url s3://...`) on a real S3-compatible server: issuance stores its PDFs
//! there, every download path reads them back, `--presigned-links` hands the bytes off to the bucket, and a
//! bucket that does not answer stops the start instead of failing every issuance.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tessera::config::{Config, Settings};
use tessera_documents::{DocumentKey, DocumentStore};
use tokio::sync::OnceCell;

use crate::helpers::{example, spawn_app_with, Backend, Options, TestApp};
use crate::moto::Moto;

/// One server for the whole test binary; the `AWS_*` variables the process reads point at it, as an operator's
/// would point at their bucket.
static MOTO: OnceCell<Moto> = OnceCell::const_new();

async fn moto() -> &'static Moto {
    MOTO.get_or_init(|| async {
        let moto = Moto::start().await;
        for (key, value) in moto.options() {
            // Set once, before any store reads them; the standard variable names are the upper-case keys.
            std::env::set_var(key.to_ascii_uppercase(), value);
        }
        moto
    })
    .await
}

/// A fresh bucket for one test and an app keeping its documents under `docs/` in it.
async fn app_on_bucket(backend: Backend, presigned_links: bool) -> (TestApp, String) {
    let moto = moto().await;
    let bucket = format!("tessera-{}", uuid::Uuid::new_v4().simple());
    moto.create_bucket(&bucket).await;
    let options = Options {
        documents_url: Some(format!("s3://{bucket}/docs")),
        presigned_links: Some(presigned_links),
        ..Default::default()
    };
    (spawn_app_with(backend, options).await, bucket)
}

/// Issues the one-way example: (ticket number, ticketReferenceID).
async fn issue_oneway(app: &TestApp) -> (String, String) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (status, issued) = app.issue(&app.agent_token, booking["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    (
        issued["tickets"][0]["number"].as_str().unwrap().to_owned(),
        issued["ticketReferenceID"].as_str().unwrap().to_owned(),
    )
}

/// The keys stored in the bucket, from the S3 API's own listing.
async fn bucket_keys(bucket: &str) -> Vec<String> {
    let listing = reqwest::get(format!("{}/{bucket}?list-type=2", moto().await.endpoint)).await.unwrap();
    let xml = listing.text().await.unwrap();
    xml.split("<Key>").skip(1).filter_map(|rest| rest.split_once("</Key>")).map(|(key, _)| key.to_owned()).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn issuance_documents_live_in_the_bucket_and_download_from_it(backend: Backend) {
    let (app, bucket) = app_on_bucket(backend, false).await;
    let (number, reference) = issue_oneway(&app).await;
    // The PDFs are rendered and stored in the background once the issuance is answered (`--render-ahead`).
    let mut keys = bucket_keys(&bucket).await;
    for _ in 0..100 {
        if keys.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        keys = bucket_keys(&bucket).await;
    }
    assert!(keys.len() >= 2 && keys.iter().all(|k| k.starts_with("docs/") && k.ends_with(".pdf")), "{keys:?}");
    assert!(!app.data_dir.path().join("documents").exists(), "nothing is kept on the node");

    let pdf = app.get(&format!("/api/v1/tickets/{number}/pdf"), &app.agent_token).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    let etag = pdf.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)));

    // Without --presigned-links a signed link serves the bytes itself.
    let link: Value = app
        .post(&format!("/api/v1/issuances/{reference}/link"), &app.agent_token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let res = app.client.get(link["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));
}

async fn presigned_links_redirect_to_the_bucket_and_are_audited(backend: Backend) {
    let (app, bucket) = app_on_bucket(backend, true).await;
    let (number, _) = issue_oneway(&app).await;
    let authenticated = app.get(&format!("/api/v1/tickets/{number}/pdf"), &app.agent_token).await;
    let etag = authenticated.headers()["etag"].to_str().unwrap().to_owned();

    let link: Value =
        app.post(&format!("/api/v1/tickets/{number}/link"), &app.agent_token, &json!({})).await.json().await.unwrap();
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirects.get(link["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/{bucket}/docs/", moto().await.endpoint)), "{location}");
    assert!(location.contains("X-Amz-Signature="), "{location}");

    // The bucket serves the very bytes the node would have.
    let direct = reqwest::get(&location).await.unwrap();
    assert_eq!(direct.status(), StatusCode::OK);
    assert_eq!(format!("\"{}\"", sha256_hex(&direct.bytes().await.unwrap())), etag);

    let audit: Value = app.get(&format!("/api/v1/audit?ticket={number}"), &app.agent_token).await.json().await.unwrap();
    let vias: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "document.download")
        .map(|e| e["detail"]["via"].as_str().unwrap())
        .collect();
    assert!(vias.contains(&"presigned_link") && vias.contains(&"api"), "{vias:?}");
}

/// Documents are a cache of the database: a wiped bucket is refilled on read, through the presigned path too
/// (the node re-renders and puts the file back before handing out the bucket's URL).
async fn a_wiped_bucket_is_refilled_on_read(backend: Backend) {
    let (app, bucket) = app_on_bucket(backend, true).await;
    let (number, reference) = issue_oneway(&app).await;
    let etag = |res: &reqwest::Response| res.headers()["etag"].to_str().unwrap().to_owned();
    let ticket = etag(&app.get(&format!("/api/v1/tickets/{number}/pdf"), &app.agent_token).await);
    let issuance_path = format!("/api/v1/issuances/{reference}/pdf");
    let issuance = etag(&app.get(&issuance_path, &app.agent_token).await);
    let link: Value =
        app.post(&format!("/api/v1/tickets/{number}/link"), &app.agent_token, &json!({})).await.json().await.unwrap();
    let store = DocumentStore::from_url_with(&format!("s3://{bucket}/docs"), moto().await.options()).unwrap();
    for key in bucket_keys(&bucket).await {
        store.delete(&DocumentKey::parse(key.trim_start_matches("docs/")).unwrap()).await.unwrap();
    }
    assert_eq!(bucket_keys(&bucket).await, Vec::<String>::new());
    // And the node's in-memory copies, as a node that had not read them yet: the reads below go to the bucket.
    app.app.clear_document_cache();

    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirects.get(link["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let direct = reqwest::get(res.headers()["location"].to_str().unwrap()).await.unwrap();
    assert_eq!(direct.status(), StatusCode::OK, "the bucket has the file again");
    assert_eq!(format!("\"{}\"", sha256_hex(&direct.bytes().await.unwrap())), ticket);

    let res = app.get(&issuance_path, &app.agent_token).await;
    assert_eq!((res.status(), etag(&res)), (StatusCode::OK, issuance));
    assert_eq!(bucket_keys(&bucket).await.len(), 2, "both documents are back in the bucket");
}

/// `/readyz` names the store and turns 503 when it stops answering, while the database still does.
async fn readiness_reports_the_document_store(backend: Backend) {
    let (app, bucket) = app_on_bucket(backend, false).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["documents"], format!("s3://{bucket}/docs"), "{body}");
    assert_eq!((body["database_status"].as_str(), body["documents_status"].as_str()), (Some("ok"), Some("ok")));

    let deleted = reqwest::Client::new().delete(format!("{}/{bucket}", moto().await.endpoint)).send().await.unwrap();
    assert!(deleted.status().is_success(), "deleting the empty bucket: {}", deleted.status());
    let unready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(unready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = unready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(
        (body["database_status"].as_str(), body["documents_status"].as_str()),
        (Some("ok"), Some("unavailable"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_that_does_not_answer_stops_the_start() {
    moto().await;
    let data_dir = tempfile::tempdir().unwrap();
    let config = Config::validate(Settings {
        data_dir: Some(data_dir.path().to_path_buf()),
        documents_url: Some("s3://no-such-bucket/docs".into()),
        jwt_secret: Some(crate::helpers::JWT_SECRET.into()),
        ..Default::default()
    })
    .unwrap();
    let error = match tessera::server::build_app(&config).await {
        Ok(_) => panic!("a missing bucket must stop the start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("the document store at s3://no-such-bucket/docs does not answer"), "{error}");
}

both_backends_custom!(
    readiness_reports_the_document_store,
    a_wiped_bucket_is_refilled_on_read,
    issuance_documents_live_in_the_bucket_and_download_from_it,
    presigned_links_redirect_to_the_bucket_and_are_audited,
);
