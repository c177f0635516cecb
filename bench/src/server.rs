//! The server under test: a `tessera serve` child process on a free port with a fresh data dir (SQLite) or a fresh
//! PostgreSQL database, an admin API key made with the CLI, and its CPU time and peak RSS read from `/proc`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServerOpts {
    pub tessera: PathBuf,
    pub backend: Backend,
    /// Maintenance database URL; a `tessera_bench_<uuid>` database is created next to it.
    pub pg_url: String,
    pub keep: bool,
    pub extra_args: Vec<String>,
}

/// A fresh PostgreSQL database, dropped by [`Server::stop`].
struct PgDb {
    admin_url: String,
    name: String,
}

pub struct Server {
    child: Child,
    pub base: String,
    pub pid: u32,
    pub admin_key: String,
    pub admin: AdminCli,
    data_dir: PathBuf,
    pg: Option<PgDb>,
    keep: bool,
}

/// `tessera admin ...` against the server's database. Users are created here rather than through the API so the
/// server never hashes a password: argon2's memory would otherwise stay in the server's RSS during the measurement.
#[derive(Debug, Clone)]
pub struct AdminCli {
    tessera: PathBuf,
    common: Vec<String>,
}

impl AdminCli {
    /// Runs one admin command; answers its standard output.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(&self.tessera)
            .args(&self.common)
            .arg("admin")
            .args(args)
            .env("TESSERA_LOG", "warn")
            .output()
            .context("running tessera admin")?;
        if !out.status.success() {
            bail!("tessera admin {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// `target/release/tessera` next to our own executable (both are built into the same target dir).
pub fn default_tessera() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("tessera")))
        .unwrap_or_else(|| PathBuf::from("target/release/tessera"))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn db_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (head, _) = admin_url.rsplit_once('/').context("--pg-url has no database path")?;
    Ok(format!("{head}/{name}"))
}

impl Server {
    pub async fn start(opts: &ServerOpts) -> anyhow::Result<Self> {
        if !opts.tessera.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p tessera` or pass --tessera PATH",
                opts.tessera.display()
            );
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let data_dir = std::env::temp_dir().join(format!("tessera-bench-{id}"));
        std::fs::create_dir_all(&data_dir)?;
        let pg = match opts.backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let name = format!("tessera_bench_{id}");
                let mut conn = sqlx::PgConnection::connect(&opts.pg_url)
                    .await
                    .with_context(|| format!("connecting to {}", opts.pg_url))?;
                sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await?;
                conn.close().await?;
                Some(PgDb { admin_url: opts.pg_url.clone(), name })
            }
        };
        let mut common = vec!["--data-dir".to_owned(), data_dir.display().to_string()];
        if let Some(pg) = &pg {
            common.push("--database-url".into());
            common.push(db_url(&pg.admin_url, &pg.name)?);
        }
        let cli = AdminCli { tessera: opts.tessera.clone(), common: common.clone() };
        cli.run(&[
            "create-user",
            "--username",
            "bench-admin",
            "--password",
            "bench-admin-password",
            "--role",
            "admin",
        ])?;
        let key_out = cli.run(&["create-api-key", "--username", "bench-admin"])?;
        let admin_key = key_out.split_whitespace().last().context("create-api-key printed nothing")?.to_owned();

        let port = free_port()?;
        let log = std::fs::File::create(data_dir.join("server.log"))?;
        let child = Command::new(&opts.tessera)
            .args(&common)
            // Server options follow `serve`: only the data options are global.
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            // The events API limits each key to 10 requests/s by default; the bench measures the server, not that.
            .args(["--rate-limit-per-second", "1000000", "--rate-limit-burst", "1000000"])
            .args(["--zip-link-ttl", "300", "--link-ttl", "3600"])
            .args(&opts.extra_args)
            .env("TESSERA_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .context("starting tessera serve")?;
        let pid = child.id();
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            pid,
            admin_key,
            admin: cli,
            data_dir,
            pg,
            keep: opts.keep,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait()? {
                bail!("tessera exited with {status}; log: {}", self.log_tail());
            }
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("tessera did not become ready in 60 s; log: {}", self.log_tail())
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default();
        let start = text.len().saturating_sub(2000);
        text.get(start..).unwrap_or_default().to_owned()
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        // SIGKILL is fine: the database is thrown away, and a graceful stop is not what we measure.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(pg) = &self.pg {
            if !self.keep {
                let mut conn = sqlx::PgConnection::connect(&pg.admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", pg.name))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
            }
        }
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        } else {
            eprintln!("kept {}", self.data_dir.display());
        }
        Ok(())
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on every Linux we run on).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds of a process (its threads included; not its exited children).
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
    let rest = stat.rsplit_once(')').context("malformed /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11).context("no utime")?.parse()?;
    let stime: f64 = fields.get(12).context("no stime")?.parse()?;
    Ok((utime + stime) / clock_ticks())
}

/// CPU seconds the process spends from now until it falls idle (under 2 ms of CPU in 200 ms; at most 60 s):
/// work it does after the load stopped, such as rendering documents in the background.
pub async fn cpu_until_idle(pid: u32) -> anyhow::Result<f64> {
    let start = cpu_seconds(pid)?;
    let mut last = start;
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = cpu_seconds(pid)?;
        if now - last < 0.002 {
            return Ok(last - start);
        }
        last = now;
    }
    Ok(last - start)
}

/// Resets the process's peak RSS (VmHWM) to its current RSS, so the peak measured excludes seeding (creating users
/// hashes passwords with argon2, which alone takes tens of MB). Needs Linux ≥ 4.0 and the right to write the file.
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Peak resident set size (VmHWM) in kB.
pub fn peak_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).context("no VmHWM")?;
    Ok(line.split_whitespace().nth(1).context("malformed VmHWM")?.parse()?)
}
