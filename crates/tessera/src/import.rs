//! `tessera import`: bookings from an NDJSON file (one intake document a line), standard input (`-`) or a
//! folder of `.json` files, into one agency, through the same intake service as `POST /api/v1/bookings`.
//!
//! Documents are taken in several at once (`--concurrency`); a progress bar shows on a terminal, plain progress
//! lines (stdout) otherwise. Every refused document adds one NDJSON line per problem to the report
//! (`--report`, default stderr): `{"line", "pointer", "message"}` (and `"file"` for a folder), and the exit
//! status is non-zero when any was refused. Re-running is safe: a booking whose code the agency already has is
//! skipped (see `tessera_app::import`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tessera_app::import::Imported;
use tessera_app::{AppError, Principal, Tessera};
use tessera_core::ids::AgencyId;
use tessera_storage::Actor;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The agency the bookings are imported into.
    #[arg(long)]
    pub agency: AgencyId,
    /// NDJSON file (one booking document a line), `-` for standard input, or a folder of `.json` files.
    pub source: PathBuf,
    /// Also issue each booking (and any booking of an earlier run still waiting), against the agency's balance.
    #[arg(long)]
    pub issue: bool,
    /// Write the error report (NDJSON: line, JSON pointer, message) to this file instead of stderr.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Documents taken in at once; writes of concurrent documents share one commit (group commit), so more at
    /// once is faster where the disk's flush is the limit.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

/// One document to import: where it came from and its text.
struct Item {
    /// 1-based line number in the file, or position of the file in the folder (sorted by name).
    line: u64,
    /// The file's name, when importing a folder.
    file: Option<String>,
    body: Result<Vec<u8>, String>,
}

/// What became of one document.
struct Done {
    line: u64,
    file: Option<String>,
    result: Result<Imported, AppError>,
}

#[derive(Default)]
struct Counts {
    created: u64,
    skipped: u64,
    issued: u64,
    failed: u64,
}

impl Counts {
    fn done(&self) -> u64 {
        self.created + self.skipped + self.failed
    }
}

/// Runs the import; `Ok(false)` when any document was refused.
pub async fn run(app: &Tessera, args: ImportArgs) -> anyhow::Result<bool> {
    app.get_agency(&Principal::operator(), args.agency).await.map_err(crate::cli::readable)?;
    let (total, items) = open_source(&args.source, usize::from(args.concurrency) * 4).await?;
    let mut report: Box<dyn Write + Send> = match &args.report {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating the report {}", path.display()))?,
        )),
        None => Box::new(std::io::stderr()),
    };
    let progress = Progress::new(total);
    let started = Instant::now();
    let mut counts = Counts::default();
    let (agency, issue) = (args.agency, args.issue);
    let results = futures::stream::unfold(items, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
        .map(|item| import_one(app, agency, issue, item))
        .buffer_unordered(usize::from(args.concurrency));
    let mut results = std::pin::pin!(results);
    while let Some(done) = results.next().await {
        match done.result {
            Ok(Imported::Created { issued, .. }) => {
                counts.created += 1;
                counts.issued += u64::from(issued);
            }
            Ok(Imported::Skipped { issued, .. }) => {
                counts.skipped += 1;
                counts.issued += u64::from(issued);
            }
            Err(e) => {
                counts.failed += 1;
                let lines = report_lines(done.line, done.file.as_deref(), &e);
                progress.suspend(|| -> anyhow::Result<()> {
                    for line in &lines {
                        writeln!(report, "{line}").context("writing the report")?;
                    }
                    Ok(())
                })?;
            }
        }
        progress.update(&counts);
    }
    report.flush().context("writing the report")?;
    progress.finish(&counts);
    let elapsed = started.elapsed().as_secs_f64();
    // Whole bookings per second: precision beyond that means nothing here.
    let rate = if elapsed > 0.0 { counts.done() as f64 / elapsed } else { 0.0 };
    summary(&format!(
        "imported {}, skipped {} (already there), issued {}, failed {} of {} in {elapsed:.1} s ({rate:.0} bookings/s)",
        counts.created,
        counts.skipped,
        counts.issued,
        counts.failed,
        counts.done()
    ));
    Ok(counts.failed == 0)
}

/// The command's result line, on stdout.
#[allow(clippy::print_stdout)]
fn summary(text: &str) {
    println!("{text}");
}

async fn import_one(app: &Tessera, agency: AgencyId, issue: bool, item: Item) -> Done {
    let result = match item.body {
        Ok(body) => {
            let actor = Actor {
                user_id: None,
                username: "import".into(),
                client_addr: None,
                tracking_id: Some(format!("import-{}", item.line)),
            };
            app.import_booking(&Principal::operator(), agency, &body, issue, actor).await
        }
        Err(reason) => Err(AppError::Internal(reason)),
    };
    Done { line: item.line, file: item.file, result }
}

/// One report line per problem of a refused document.
fn report_lines(line: u64, file: Option<&str>, e: &AppError) -> Vec<serde_json::Value> {
    let problems: Vec<(String, String)> = match e {
        AppError::Validation(v) => v.0.iter().map(|f| (f.pointer.clone(), f.reason.clone())).collect(),
        AppError::Issue(refusal) => vec![(String::new(), format!("stored, but not issued: {refusal}"))],
        AppError::Internal(detail) => vec![(String::new(), detail.clone())],
        other => vec![(String::new(), other.to_string())],
    };
    problems
        .into_iter()
        .map(|(pointer, message)| match file {
            Some(file) => json!({"line": line, "file": file, "pointer": pointer, "message": message}),
            None => json!({"line": line, "pointer": pointer, "message": message}),
        })
        .collect()
}

/// Starts reading `source` in the background: its size in documents if known, and the documents as they come.
async fn open_source(source: &Path, buffer: usize) -> anyhow::Result<(Option<u64>, mpsc::Receiver<Item>)> {
    let (tx, rx) = mpsc::channel(buffer);
    if source.as_os_str() == "-" {
        tokio::spawn(read_lines(tokio::io::BufReader::new(tokio::io::stdin()), tx));
        return Ok((None, rx));
    }
    let meta = tokio::fs::metadata(source).await.with_context(|| format!("reading {}", source.display()))?;
    if meta.is_dir() {
        let mut files = Vec::new();
        let mut dir = tokio::fs::read_dir(source).await.with_context(|| format!("reading {}", source.display()))?;
        while let Some(entry) = dir.next_entry().await? {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") && entry.file_type().await?.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let total = files.len() as u64;
        tokio::spawn(async move {
            for (index, path) in files.into_iter().enumerate() {
                let file = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let body = tokio::fs::read(&path).await.map_err(|e| format!("reading {}: {e}", path.display()));
                if tx.send(Item { line: index as u64 + 1, file, body }).await.is_err() {
                    return;
                }
            }
        });
        return Ok((Some(total), rx));
    }
    let total = count_lines(source).await?;
    let file = tokio::fs::File::open(source).await.with_context(|| format!("opening {}", source.display()))?;
    tokio::spawn(read_lines(tokio::io::BufReader::new(file), tx));
    Ok((Some(total), rx))
}

/// Sends each non-blank line with its number; a line that is not UTF-8 is sent as a refusal.
async fn read_lines(mut reader: impl tokio::io::AsyncBufRead + Unpin, tx: mpsc::Sender<Item>) {
    let mut line = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Item { line: line + 1, file: None, body: Err(format!("reading: {e}")) }).await;
                return;
            }
        }
        line += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if tx.send(Item { line, file: None, body: Ok(buf.clone()) }).await.is_err() {
            return;
        }
    }
}

/// Non-blank lines of a file, for the progress bar's length (one quick pass before the import).
async fn count_lines(path: &Path) -> anyhow::Result<u64> {
    let file = tokio::fs::File::open(path).await.with_context(|| format!("opening {}", path.display()))?;
    let mut reader = tokio::io::BufReader::with_capacity(1 << 16, file);
    let (mut count, mut blank) = (0u64, true);
    loop {
        let chunk = reader.fill_buf().await.with_context(|| format!("reading {}", path.display()))?;
        if chunk.is_empty() {
            break;
        }
        for &b in chunk {
            if b == b'\n' {
                count += u64::from(!blank);
                blank = true;
            } else if !b.is_ascii_whitespace() {
                blank = false;
            }
        }
        let n = chunk.len();
        reader.consume(n);
    }
    Ok(count + u64::from(!blank))
}

/// A progress bar on a terminal (stderr), or a plain line on stdout every few seconds otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: Option<u64>,
    last_line: std::cell::Cell<Instant>,
}

const PLAIN_EVERY: Duration = Duration::from_secs(2);

impl Progress {
    fn new(total: Option<u64>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::new_spinner(),
            };
            let template = if total.is_some() {
                "{bar:40.cyan/blue} {pos}/{len} {per_sec} eta {eta} {msg}"
            } else {
                "{spinner} {pos} {per_sec} {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, total, last_line: std::cell::Cell::new(Instant::now()) }
    }

    fn update(&self, counts: &Counts) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(counts.done());
                if counts.skipped + counts.failed > 0 {
                    bar.set_message(format!("skipped {} failed {}", counts.skipped, counts.failed));
                }
            }
            None if self.last_line.get().elapsed() >= PLAIN_EVERY => {
                self.last_line.set(Instant::now());
                self.plain(counts);
            }
            None => {}
        }
    }

    #[allow(clippy::print_stdout)]
    fn plain(&self, counts: &Counts) {
        let of = self.total.map_or(String::new(), |t| format!("/{t}"));
        println!(
            "progress {}{of}: imported {} skipped {} failed {}",
            counts.done(),
            counts.created,
            counts.skipped,
            counts.failed
        );
    }

    /// Runs `f` (which writes to stderr) with the bar cleared, so the two do not garble each other.
    fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    fn finish(&self, counts: &Counts) {
        if let Some(bar) = &self.bar {
            bar.set_position(counts.done());
            bar.finish_and_clear();
        }
    }
}
