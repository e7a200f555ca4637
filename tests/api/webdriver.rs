//! A small WebDriver client for the console's browser tests: drives Debian's headless
//! Chromium through chromedriver's HTTP protocol.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver_url: String,
    /// Held for its `Drop`, which stops chromedriver after the session is closed.
    _driver: Driver,
}

/// The chromedriver process, stopped when dropped (also when a browser never started).
struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where Chromium and its driver are, from `PEERLINE_CHROMEDRIVER` and
/// `PEERLINE_CHROMIUM` or Debian's paths; `None` when either is missing, unless
/// `PEERLINE_REQUIRE_BROWSER` is set (as CI sets it), when a missing browser fails.
fn installed() -> Option<(String, String)> {
    let driver = std::env::var("PEERLINE_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
    let chromium = std::env::var("PEERLINE_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    let present =
        std::path::Path::new(&driver).exists() && std::path::Path::new(&chromium).exists();
    if present {
        return Some((driver, chromium));
    }
    assert!(
        std::env::var_os("PEERLINE_REQUIRE_BROWSER").is_none(),
        "PEERLINE_REQUIRE_BROWSER is set but {driver} or {chromium} is missing"
    );
    eprintln!(
        "console browser tests NOT RUN: Chromium or chromedriver is missing ({chromium}, {driver}). \
         Install them with `apt-get install chromium chromium-driver` (or set PEERLINE_CHROMIUM \
         and PEERLINE_CHROMEDRIVER) and run `cargo test --test api console_browser`."
    );
    None
}

impl Browser {
    /// A headless Chromium window of `width` x `height`; `None` when none is installed.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        let (driver_path, chromium) = installed()?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Driver(
            std::process::Command::new(driver_path)
                .arg(format!("--port={port}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        );
        let driver_url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http
                .get(format!("{driver_url}/status"))
                .send()
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", format!("--window-size={width},{height}")],
            },
        }}});
        let created = http
            .post(format!("{driver_url}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json::<Value>()
            .await
            .expect("a session");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_owned();
        Some(Browser {
            http,
            session,
            driver_url,
            _driver: driver,
        })
    }

    async fn try_command(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let url = format!("{}/session/{}{}", self.driver_url, self.session, path);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("JSON from chromedriver");
        if answer["value"]["error"].is_string() {
            return Err(answer["value"].clone());
        }
        Ok(answer["value"].clone())
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|error| panic!("browser command {path} failed: {error}"))
    }

    pub async fn go(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn title(&self) -> String {
        self.command(Method::GET, "/title", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .command(
                Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.command(
            Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Empties the field matching `css`, then types `text` into it.
    pub async fn replace_text(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.command(
            Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.type_into(css, text).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.command(
            Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The text of the first element matching `css`, or the browser's error (no such
    /// element yet, or one a refresh replaced between finding and reading it).
    async fn try_text_of(&self, css: &str) -> Result<String, Value> {
        let found = self
            .try_command(
                Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let text = self
            .try_command(Method::GET, &format!("/element/{id}/text"), None)
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// The text a reader sees on the page, once it shows `expected` (a page reached by a
    /// form may still be loading); fails after ten seconds without it.
    pub async fn text_once_it_shows(&self, expected: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(text) = self.try_text_of("body").await {
                if text.contains(expected) {
                    return text;
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {expected:?}; it shows:\n{last}");
    }

    /// The text of the first element matching `css` (read again if a refresh replaced the
    /// element between finding and reading it).
    pub async fn text_of(&self, css: &str) -> String {
        let mut last = Value::Null;
        for _ in 0..50 {
            match self.try_text_of(css).await {
                Ok(text) => return text,
                Err(error) => last = error,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not read {css}: {last}");
    }

    /// Whether the page is wider than the window (a phone would have to scroll sideways).
    pub async fn overflows_sideways(&self) -> bool {
        let script = json!({"script": "return document.documentElement.scrollWidth > window.innerWidth", "args": []});
        self.command(Method::POST, "/execute/sync", Some(script))
            .await
            .as_bool()
            .unwrap_or(true)
    }

    /// Saves a screenshot as `name`.png under `PEERLINE_SCREENSHOTS`, when set.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("PEERLINE_SCREENSHOTS") else {
            return;
        };
        let shot = self.command(Method::GET, "/screenshot", None).await;
        let png = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            shot.as_str().unwrap_or_default(),
        )
        .expect("a PNG in base64");
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

/// Closes the browser, then its driver, even when a test fails half-way: the session is
/// closed on a thread of its own, since `Drop` cannot wait on the test's runtime.
impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.driver_url, self.session);
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                reqwest::Client::new()
                    .delete(url)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(std::io::Error::other)
            })
        })
        .join();
        // The driver itself stops when `self._driver` is dropped, right after this.
    }
}
