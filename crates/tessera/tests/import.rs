//! `tessera import` as an operator runs it, on SQLite and PostgreSQL: an NDJSON file with good and bad lines (the
//! report names each bad line, its JSON pointer and the reason; the exit status says something failed), a re-run
//! that skips what is there instead of duplicating it, `--issue` (and its re-run), standard input, and a folder
//! of `.json` files. What was stored is then checked over HTTP against a real server.

#[path = "support/node.rs"]
mod node;

use std::path::Path;
use std::process::{Output, Stdio};

use node::{minor, oneway, pnr, run, tessera, Api, Db, Node, NodeSpec, ONEWAY_MINOR};
use serde_json::{json, Value};

/// `tessera import --agency <agency> <args...>` against `db`.
fn import(db: &Db, agency: &str, args: &[&str]) -> Output {
    run(tessera().args(db.args()).args(["import", "--agency", agency]).args(args))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn report(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("report line is not JSON ({e}): {l}")))
        .collect()
}

fn line(doc: &Value) -> String {
    serde_json::to_string(doc).unwrap()
}

async fn import_file_report_rerun_and_issue(postgres: bool) {
    let db = Db::new(postgres).await;
    let seed = db.seed("1000000");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bookings.ndjson");
    let mut bad_passenger = oneway(&pnr('I', 90));
    bad_passenger["passengers"][0]["date_of_birth"] = "not-a-date".into();
    let mut other_agency = oneway(&pnr('I', 91));
    other_agency["agency_id"] = uuid::Uuid::new_v4().to_string().into();
    let lines = [
        line(&oneway(&pnr('I', 1))),
        "{\"type\": \"flight\", \"pnr\": ".to_owned(), // line 2: not JSON
        line(&oneway(&pnr('I', 2))),
        String::new(), // line 4: blank, ignored
        line(&bad_passenger),
        line(&oneway(&pnr('I', 3))),
        line(&other_agency),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let report_path = dir.path().join("report.ndjson");
    let file_arg = file.display().to_string();
    let report_arg = report_path.display().to_string();

    let out = import(&db, &seed.agency, &["--report", &report_arg, &file_arg]);
    assert!(!out.status.success(), "failed lines make the exit status non-zero: {}", stdout(&out));
    let summary = stdout(&out);
    assert!(summary.contains("imported 3, skipped 0 (already there), issued 0, failed 3 of 6"), "{summary}");
    let problems = report(&report_path);
    let lines_reported: Vec<u64> = problems.iter().map(|p| p["line"].as_u64().unwrap()).collect();
    assert_eq!(lines_reported.iter().copied().collect::<std::collections::BTreeSet<_>>(), [2, 5, 7].into());
    let at = |n: u64| problems.iter().find(|p| p["line"] == n).unwrap().clone();
    assert_eq!(at(5)["pointer"], "/passengers/0/date_of_birth", "{problems:?}");
    assert_eq!(at(7)["pointer"], "/agency_id", "{problems:?}");
    assert!(at(7)["message"].as_str().unwrap().contains("another agency"), "{problems:?}");
    assert!(!at(2)["message"].as_str().unwrap().is_empty(), "{problems:?}");
    for p in &problems {
        assert_eq!(p.as_object().unwrap().len(), 3, "line, pointer, message: {p}");
    }

    // Re-run: the three good lines are skipped, the three bad ones reported again.
    let out = import(&db, &seed.agency, &["--report", &report_arg, &file_arg]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("imported 0, skipped 3 (already there), issued 0, failed 3 of 6"),
        "{}",
        stdout(&out)
    );
    assert_eq!(report(&report_path).len(), problems.len());

    // Only the good lines, with --issue: nothing new is stored, each waiting booking is issued once.
    let good = dir.path().join("good.ndjson");
    let good_lines = [line(&oneway(&pnr('I', 1))), line(&oneway(&pnr('I', 2))), line(&oneway(&pnr('I', 3)))];
    std::fs::write(&good, good_lines.join("\n")).unwrap(); // no newline after the last line
    let good_arg = good.display().to_string();
    let out = import(&db, &seed.agency, &["--issue", "--report", &report_arg, &good_arg]);
    assert!(out.status.success(), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout(&out).contains("imported 0, skipped 3 (already there), issued 3, failed 0 of 3"),
        "{}",
        stdout(&out)
    );
    assert!(report(&report_path).is_empty());
    let out = import(&db, &seed.agency, &["--issue", &good_arg]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("skipped 3 (already there), issued 0, failed 0"), "issued once: {}", stdout(&out));

    // A new booking from standard input, issued as it is imported; the report goes to stderr by default.
    let mut child = tessera()
        .args(db.args())
        .args(["import", "--agency", &seed.agency, "--issue", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!("{}\n{{}}\n", line(&oneway(&pnr('I', 4))));
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("imported 1, skipped 0 (already there), issued 1, failed 1 of 2"),
        "{}",
        stdout(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reported: Vec<Value> = stderr.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(reported.len(), 1, "{stderr}");
    assert_eq!(reported[0]["line"], 2);

    // What is stored: one booking per PNR, four issued, the balance debited four times.
    let node = Node::start(&NodeSpec::on(&db)).await;
    let api = Api::key(&seed.agent_key);
    for n in 1..=4 {
        let found = api.get_json(&node.url(&format!("/api/v1/bookings?pnr={}", pnr('I', n)))).await;
        let bookings = found["bookings"].as_array().unwrap();
        assert_eq!(bookings.len(), 1, "{found}");
        assert_eq!(bookings[0]["status"], "ticketed", "{found}");
    }
    for n in [90, 91] {
        let found = api.get_json(&node.url(&format!("/api/v1/bookings?pnr={}", pnr('I', n)))).await;
        assert_eq!(found["bookings"], json!([]), "refused lines store nothing");
    }
    let agency = api.get_json(&node.url(&format!("/api/v1/agencies/{}", seed.agency))).await;
    assert_eq!(minor(agency["balance"].as_str().unwrap()), 100_000_000 - 4 * ONEWAY_MINOR);

    // A folder of .json files: each file is one document, reported by position and name.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.json"), line(&oneway(&pnr('I', 5)))).unwrap();
    std::fs::write(folder.join("b.json"), line(&bad_passenger)).unwrap();
    std::fs::write(folder.join("c.json"), line(&oneway(&pnr('I', 1)))).unwrap();
    std::fs::write(folder.join("notes.txt"), "not a booking").unwrap();
    let folder_arg = folder.display().to_string();
    let out = import(&db, &seed.agency, &["--report", &report_arg, &folder_arg]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("imported 1, skipped 1 (already there), issued 0, failed 1 of 3"),
        "{}",
        stdout(&out)
    );
    let problems = report(&report_path);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["line"], 2);
    assert_eq!(problems[0]["file"], "b.json");
    assert_eq!(problems[0]["pointer"], "/passengers/0/date_of_birth");
    let found = api.get_json(&node.url(&format!("/api/v1/bookings?pnr={}", pnr('I', 5)))).await;
    assert_eq!(found["bookings"][0]["status"], "confirmed");

    // An unknown agency stops before reading anything.
    let out = import(&db, &uuid::Uuid::new_v4().to_string(), &[&good_arg]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_on_sqlite() {
    import_file_report_rerun_and_issue(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_on_postgres() {
    import_file_report_rerun_and_issue(true).await;
}
