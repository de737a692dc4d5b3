//! `agnt2 bench sidecar`: what agnt2-sidecar adds in front of a service, measured side by side
//! with calling the service directly in the same run.
//!
//! It starts what it needs: a devnet node (unless given one), the Adjudicator, an `agnt2-hub`, a
//! minimal upstream (hyper, fixed 2-byte body) and `agnt2-sidecar` with one free and one priced
//! route. Phases:
//! - free latency: one client, keep-alive, sequential requests, alternating direct and through
//!   the sidecar in rounds; added = sidecar − direct at p50 and p99;
//! - free throughput: `concurrency` clients, direct then through the sidecar; the ratio;
//! - paid: one client over one channel, sequential (each request pays, is checked, forwarded,
//!   countersigned and stored at the hub before its answer): requests/s and latency.
//!
//! With `nginx` set, nginx runs as a plain reverse proxy to the same upstream (keep-alive pool,
//! two workers like the sidecar's two runtime threads) and the free phases measure it too, in the
//! same rounds: the reference for what any proxy costs on this machine.

use agnt2_channels::{
    Key,
    client::HubClient,
    l2::{ChannelCalls, L2},
};
use agnt2_sidecar::payer::Payer;
use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use bytes::Bytes;
use eyre::{WrapErr, bail, eyre};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioIo},
};
use serde::Serialize;
use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Instant,
};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sequential requests per side in the latency phase.
    pub latency_requests: usize,
    /// Requests per side in the throughput phase.
    pub throughput_requests: usize,
    /// Clients in the throughput phase.
    pub concurrency: usize,
    /// Paid requests (over all channels).
    pub paid_requests: usize,
    /// Channels the paying client spreads its requests over (one request in flight on each).
    pub channels: usize,
    /// CPU time the upstream spends per request (µs): 0 is a bare echo.
    pub upstream_work_us: u64,
    /// A running node; otherwise a devnet is started.
    pub l2_url: Option<String>,
    /// Foundry output with `Adjudicator.sol`.
    pub artifacts: PathBuf,
    /// The `agnt2` binary (for the devnet).
    pub node_bin: PathBuf,
    /// The `agnt2-hub` binary.
    pub hub_bin: PathBuf,
    /// The `agnt2-sidecar` binary.
    pub sidecar_bin: PathBuf,
    /// Key that pays for setup.
    pub funder: PrivateKeySigner,
    /// An nginx binary to measure as the reference proxy (free routes only).
    pub nginx: Option<PathBuf>,
}

/// The result, one JSON object.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Direct p50 of the free route (µs).
    pub free_direct_p50_us: f64,
    /// Through-the-sidecar p50 of the free route (µs).
    pub free_sidecar_p50_us: f64,
    /// p50 added by the sidecar (µs).
    pub free_p50_added_us: f64,
    /// p99 added by the sidecar (µs).
    pub free_p99_added_us: f64,
    /// Direct requests/s with `concurrency` clients.
    pub free_direct_rps: f64,
    /// Through-the-sidecar requests/s with `concurrency` clients.
    pub free_sidecar_rps: f64,
    /// `free_sidecar_rps / free_direct_rps`.
    pub free_throughput_ratio: f64,
    /// Paid requests/s of one client over `paid_channels` channels.
    pub paid_rps: f64,
    /// Channels the client paid over.
    pub paid_channels: usize,
    /// CPU time the upstream spent per request (µs).
    pub upstream_work_us: u64,
    /// Paid request p50 (µs), client side, payment included.
    pub paid_p50_us: f64,
    /// Paid request p99 (µs).
    pub paid_p99_us: f64,
    /// Paid requests made.
    pub paid_requests: usize,
    /// Wei the channel moved: must be `paid_requests × price`.
    pub paid_wei_checked: bool,
    /// Clients in the throughput phase.
    pub concurrency: usize,
    /// The reference proxy (nginx) on the free route, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nginx: Option<Reference>,
}

/// The free route through the reference proxy, measured in the same rounds as the sidecar.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    /// p50 added over calling the upstream directly (µs).
    pub p50_added_us: f64,
    /// p99 added (µs).
    pub p99_added_us: f64,
    /// Requests/s with `concurrency` clients.
    pub rps: f64,
    /// `rps / free_direct_rps`.
    pub throughput_ratio: f64,
    /// `free_sidecar_rps / rps`: the sidecar against the reference proxy.
    pub sidecar_vs_reference: f64,
}

/// Processes the benchmark started, killed on drop.
struct Procs(Vec<Child>, Vec<tempfile::TempDir>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `cmd` and returns the first stdout line containing `marker`.
fn spawn_until(mut cmd: Command, marker: &str) -> eyre::Result<(Child, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env("RUST_LOG", "warn")
        .spawn()
        .wrap_err_with(|| format!("starting {cmd:?}"))?;
    let stdout = child.stdout.take().ok_or_else(|| eyre!("no stdout"))?;
    let mut r = BufReader::new(stdout);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            let _ = child.kill();
            bail!("{cmd:?} exited before printing {marker:?}");
        }
        if line.contains(marker) {
            // Keep draining so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in r.lines() {});
            return Ok((child, line));
        }
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The upstream: spends `work` of CPU, then answers `ok`.
async fn upstream(work: std::time::Duration) -> eyre::Result<SocketAddr> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = l.local_addr()?;
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| async move {
                    let t = Instant::now();
                    while t.elapsed() < work {
                        std::hint::spin_loop();
                    }
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                        Bytes::from_static(b"ok"),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}

/// A running nginx: stopped with `nginx -s stop` on drop (a killed master leaves its workers).
struct Nginx {
    child: Child,
    args: Vec<std::ffi::OsString>,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let stopped = Command::new(&self.bin)
            .args(&self.args)
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Starts nginx as a reverse proxy to `up` and waits until it accepts connections.
fn spawn_nginx(bin: &std::path::Path, up: SocketAddr) -> eyre::Result<(Nginx, SocketAddr)> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    // nginx cannot report a port it picked: take a free one and hand it over.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let d = dir.display();
    let conf = format!(
        "daemon off;\nworker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           upstream service {{ server {up}; keepalive 64; }}\n\
           server {{\n    listen {addr};\n    location / {{\n      proxy_pass http://service;\n\
               proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n\
               proxy_set_header X-Forwarded-For $remote_addr;\n\
               proxy_set_header X-Forwarded-Host $host;\n      proxy_buffering off;\n    }}\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf)?;
    let args: Vec<std::ffi::OsString> = vec![
        "-e".into(),
        dir.join("error.log").into(),
        "-p".into(),
        dir.into(),
        "-c".into(),
        path.into(),
    ];
    let child = Command::new(bin)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .wrap_err_with(|| format!("starting {}", bin.display()))?;
    let mut nginx = Nginx { child, args, bin: bin.to_path_buf(), dir: tmp };
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        if let Some(status) = nginx.child.try_wait()? {
            let log =
                std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default();
            bail!("nginx exited ({status}): {log}");
        }
        if Instant::now() > deadline {
            bail!("nginx did not listen on {addr} within 10 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Ok((nginx, addr))
}

type Plain = Client<HttpConnector, Empty<Bytes>>;

fn plain_client() -> Plain {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(http)
}

async fn get(c: &Plain, uri: &hyper::Uri) -> eyre::Result<()> {
    let resp = c.get(uri.clone()).await?;
    if !resp.status().is_success() {
        bail!("{uri}: HTTP {}", resp.status());
    }
    resp.into_body().collect().await?;
    Ok(())
}

/// Sequential latencies (µs) of `n` requests.
async fn latencies(c: &Plain, uri: &hyper::Uri, n: usize) -> eyre::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        get(c, uri).await?;
        out.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Ok(out)
}

/// Requests/s of `n` requests spread over `clients` concurrent clients.
async fn throughput(uri: &hyper::Uri, n: usize, clients: usize) -> eyre::Result<f64> {
    let c = plain_client();
    // Warm the pool.
    for _ in 0..clients {
        get(&c, uri).await?;
    }
    let t = Instant::now();
    let per = n / clients;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, uri) = (c.clone(), uri.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per {
                get(&c, &uri).await?;
            }
            Ok::<_, eyre::Report>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((per * clients) as f64 / t.elapsed().as_secs_f64())
}

/// Runs the benchmark.
pub fn run(opts: Options) -> eyre::Result<Report> {
    if opts.latency_requests < 10 || opts.paid_requests < 10 || opts.concurrency == 0 {
        bail!("at least 10 latency and paid requests and one client");
    }
    let mut procs = Procs(Vec::new(), Vec::new());
    let l2_url = match &opts.l2_url {
        Some(u) => u.clone(),
        None => {
            let dir = tempfile::tempdir()?;
            let mut cmd = Command::new(&opts.node_bin);
            cmd.args(["node", "--dev", "--http.port", "0", "--block-time", "200", "--datadir"])
                .arg(dir.path());
            let (child, line) = spawn_until(cmd, "Listening on ")?;
            procs.0.push(child);
            procs.1.push(dir);
            let addr = line.trim().trim_start_matches("Listening on ").to_string();
            format!("http://{addr}")
        }
    };
    let l2 = L2::new(&l2_url)?;
    let code = crate::adjudicator_code(&opts.artifacts, 3600)?;
    let adjudicator = l2.deploy(&opts.funder, code).wrap_err("deploying the adjudicator")?;
    let hub_dir = tempfile::tempdir()?;
    let (hub, hub_addr) =
        crate::channels::spawn_hub(&opts.hub_bin, &l2_url, adjudicator, hub_dir.path())?;
    procs.0.push(hub);
    procs.1.push(hub_dir);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let up = rt.block_on(upstream(std::time::Duration::from_micros(opts.upstream_work_us)))?;
    let nginx = opts.nginx.as_deref().map(|bin| spawn_nginx(bin, up)).transpose()?;

    // The sidecar: /free/* free, /paid/* at 1000 gwei; registration skipped (not measured).
    let service = Key::random();
    let sc_dir = tempfile::tempdir()?;
    let cfg = sc_dir.path().join("sidecar.toml");
    std::fs::write(
        &cfg,
        format!(
            "listen = \"127.0.0.1:0\"\nupstream = \"http://{up}\"\ndatadir = \"{}\"\n\
             [agent]\nname = \"bench\"\nregister = false\n\
             [chain]\nl2_rpc = \"{l2_url}\"\nhub = \"{hub_addr}\"\nadjudicator = \"{adjudicator}\"\n\
             [[route]]\npath = \"/paid/*\"\nprice = \"1000gwei\"\n",
            sc_dir.path().display()
        ),
    )?;
    let mut cmd = Command::new(&opts.sidecar_bin);
    cmd.arg("--config").arg(&cfg).env("AGNT2_SIDECAR_KEY", service.secret_bytes().to_string());
    let (child, line) = spawn_until(cmd, "agnt2-sidecar listening on ")?;
    procs.0.push(child);
    procs.1.push(sc_dir);
    let sidecar: SocketAddr = line
        .split_whitespace()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| eyre!("agnt2-sidecar did not start: {line:?}"))?;

    // The paying agent's channels to the service.
    let payer = Key::random();
    let channels = opts.channels.max(1);
    let per_channel = opts.paid_requests.div_ceil(channels);
    let price = U256::from(1_000_000_000_000u64);
    let deposit = price * U256::from(per_channel as u64 + 10);
    let mut all = Vec::with_capacity(channels);
    for _ in 0..channels {
        let p = l2
            .open_channels(
                &opts.funder,
                adjudicator,
                service.address(),
                std::slice::from_ref(&payer),
                deposit + U256::from(10u64).pow(U256::from(17u64)),
                deposit,
                rand::random::<u64>(),
                3600,
            )
            .wrap_err("opening a channel")?
            .remove(0);
        all.push(p);
    }

    rt.block_on(async move {
        let direct: hyper::Uri = format!("http://{up}/free/x").parse()?;
        let via: hyper::Uri = format!("http://{sidecar}/free/x").parse()?;
        let reference: Option<hyper::Uri> =
            nginx.as_ref().map(|(_, a)| format!("http://{a}/free/x").parse()).transpose()?;
        let c = plain_client();
        latencies(&c, &direct, 200).await?;
        latencies(&c, &via, 200).await?;
        if let Some(r) = &reference {
            latencies(&c, r, 200).await?;
        }
        let (mut d, mut s, mut n) = (Vec::new(), Vec::new(), Vec::new());
        let rounds = 4;
        for _ in 0..rounds {
            d.extend(latencies(&c, &direct, opts.latency_requests / rounds).await?);
            s.extend(latencies(&c, &via, opts.latency_requests / rounds).await?);
            if let Some(r) = &reference {
                n.extend(latencies(&c, r, opts.latency_requests / rounds).await?);
            }
        }
        d.sort_by(f64::total_cmp);
        s.sort_by(f64::total_cmp);
        n.sort_by(f64::total_cmp);
        let direct_rps = throughput(&direct, opts.throughput_requests, opts.concurrency).await?;
        let sidecar_rps = throughput(&via, opts.throughput_requests, opts.concurrency).await?;
        let nginx = match &reference {
            Some(r) => {
                let rps = throughput(r, opts.throughput_requests, opts.concurrency).await?;
                Some(Reference {
                    p50_added_us: pct(&n, 0.5) - pct(&d, 0.5),
                    p99_added_us: pct(&n, 0.99) - pct(&d, 0.99),
                    rps,
                    throughput_ratio: rps / direct_rps,
                    sidecar_vs_reference: sidecar_rps / rps,
                })
            }
            None => None,
        };

        // Paid: on each channel the first request learns the price from the 402; the rest pay
        // up front. Channels run at once, each one request at a time.
        let mut hub = HubClient::connect(hub_addr, &payer).await?;
        let url = format!("http://{sidecar}/paid/x");
        let mut payers = Vec::new();
        for params in &all {
            let latest = hub.register(*params, [deposit, U256::ZERO]).await?;
            let mut p = Payer::new(payer.clone(), *params, latest).map_err(|e| eyre!("{e}"))?;
            // Countersignatures are checked once, at the end (what a paying loop does).
            p.verify_every = false;
            p.request("GET", &url, &[], Bytes::new()).await.map_err(|e| eyre!("{e}"))?;
            payers.push(p);
        }
        let t = Instant::now();
        let mut tasks = Vec::new();
        for mut p in payers {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per_channel);
                for _ in 0..per_channel {
                    let t0 = Instant::now();
                    let r = p
                        .request("GET", &url, &[], Bytes::new())
                        .await
                        .map_err(|e| eyre!("{e}"))?;
                    if !r.status.is_success() || r.paid != price {
                        bail!("a paid request answered {} paying {}", r.status, r.paid);
                    }
                    lat.push(t0.elapsed().as_secs_f64() * 1e6);
                }
                Ok::<_, eyre::Report>((p, lat))
            }));
        }
        let mut lat = Vec::new();
        let mut done = Vec::new();
        for task in tasks {
            let (p, l) = task.await??;
            lat.extend(l);
            done.push(p);
        }
        let paid_secs = t.elapsed().as_secs_f64();
        lat.sort_by(f64::total_cmp);
        let mut paid_wei_checked = true;
        for p in &done {
            p.verify().map_err(|e| eyre!("{e}"))?;
            let stored = hub.latest(p.latest().state.channelId).await?;
            paid_wei_checked &= stored.state.sentA == price * U256::from(per_channel as u64 + 1)
                && stored.state == p.latest().state;
        }
        Ok(Report {
            free_direct_p50_us: pct(&d, 0.5),
            free_sidecar_p50_us: pct(&s, 0.5),
            free_p50_added_us: pct(&s, 0.5) - pct(&d, 0.5),
            free_p99_added_us: pct(&s, 0.99) - pct(&d, 0.99),
            free_direct_rps: direct_rps,
            free_sidecar_rps: sidecar_rps,
            free_throughput_ratio: sidecar_rps / direct_rps,
            paid_rps: (per_channel * channels) as f64 / paid_secs,
            paid_channels: channels,
            upstream_work_us: opts.upstream_work_us,
            paid_p50_us: pct(&lat, 0.5),
            paid_p99_us: pct(&lat, 0.99),
            paid_requests: per_channel * channels,
            paid_wei_checked,
            concurrency: opts.concurrency,
            nginx,
        })
    })
}
