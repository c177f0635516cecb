//! A real headless Chromium for the portal's browser tests: `chromedriver` started on a free port, driven with
//! `fantoccini`. A machine without `chromium` and `chromedriver` fails the test (`.ci/run` installs them); nothing
//! is skipped.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Drop for Browser {
    /// Ends chromedriver and every Chromium process it started: they share the process group chromedriver was
    /// put in, and a Chromium whose driver was killed alone would live on (hundreds of them after a suite).
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("addr").port()
}

impl Browser {
    /// A headless browser window of `width` × `height` CSS pixels.
    pub async fn start(width: u32, height: u32) -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: the portal's browser tests need Debian's chromium and chromium-driver (bash .ci/run installs them)"
        );
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install chromium-driver)");
        let mut browser_args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-crash-reporter".to_owned(),
            "--disable-breakpad".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={width},{height}"),
        ];
        if let Ok(extra) = std::env::var("TESSERA_TEST_CHROMIUM_ARGS") {
            browser_args.extend(extra.split_whitespace().map(str::to_owned));
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        let mut options = json!({ "binary": CHROMIUM, "args": browser_args });
        // A desktop window cannot be narrower than about 500 px; a phone is emulated instead.
        if width < 500 {
            options["mobileEmulation"] =
                json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0 } });
        }
        caps.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen; try for up to a minute, then fail with the last error.
        let mut last_error = String::new();
        for _ in 0..240 {
            match ClientBuilder::new(HttpConnector::new()).capabilities(caps.clone()).connect(&url).await {
                Ok(client) => return Browser { client, driver },
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("could not start a chromium session through chromedriver: {last_error}");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    pub async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.expect("text")
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.expect("find").is_empty()
    }

    pub async fn attr(&self, css: &str, name: &str) -> String {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        element.attr(name).await.expect("attr").unwrap_or_else(|| panic!("{css} has no {name}"))
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        element.clear().await.expect("clear");
        element.send_keys(text).await.expect("type");
    }

    /// Clicks what leads to another page (a link, a form's button) and waits until the page shown before is gone,
    /// so what is read next is the new page (a loaded machine may answer the click before navigating).
    async fn navigate_by(&self, target: Locator<'_>, what: &str) {
        let old = self.client.find(Locator::Css("html")).await.expect("the current page");
        let element = self.client.find(target).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        element.click().await.expect("click");
        for _ in 0..1200 {
            if old.tag_name().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{what}: clicked, but the page did not change within a minute");
    }

    /// Clicks what stays on the page (a checkbox).
    pub async fn tick(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        element.click().await.expect("click");
    }

    pub async fn click(&self, css: &str) {
        self.navigate_by(Locator::Css(css), css).await;
    }

    pub async fn click_link(&self, text: &str) {
        self.navigate_by(Locator::LinkText(text), text).await;
    }

    /// The page's visible text.
    pub async fn body(&self) -> String {
        self.text("body").await
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_owned()
    }

    /// The value of a cookie the browser holds for this site.
    pub async fn cookie(&self, name: &str) -> String {
        self.client.get_named_cookie(name).await.unwrap_or_else(|e| panic!("cookie {name}: {e}")).value().to_owned()
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(path, png).expect("write screenshot");
    }
}
