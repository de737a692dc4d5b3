//! agnt2-sidecar end to end: a plain HTTP service (a tiny server in this test) behind the real
//! agnt2-sidecar binary, registered on the real node, paid over channels stored at the real
//! agnt2-hub, with `agnt2 channel` and `agnt2 pay` as the client.

mod common;

use agnt2_channels::{
    ChannelParams, Key, SignedState, State,
    client::{ChannelSide, HubClient},
    state,
};
use agnt2_sidecar::{
    payer::{Paid, plain_request},
    scheme::{self, ChannelPayment, PaymentPayload, PaymentRequired, Requirement},
};
use alloy_primitives::{Address, B256, U256};
use bytes::Bytes;
use common::{DEV_KEY0, HubProc, Node, forge_create};
use serde_json::Value;
use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

/// The service: HTTP/1.1 with keep-alive; counts hits per path.
struct Upstream {
    addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, u64>>>,
}

impl Upstream {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let h = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let h = h.clone();
                std::thread::spawn(move || serve_conn(stream, &h));
            }
        });
        Self { addr, hits }
    }

    fn hits(&self, path: &str) -> u64 {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn serve_conn(stream: TcpStream, hits: &Mutex<HashMap<String, u64>>) {
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let mut w = stream;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) =
            (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        let mut headers = Vec::new();
        let mut len = 0;
        loop {
            let mut h = String::new();
            r.read_line(&mut h).unwrap();
            let h = h.trim_end().to_string();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                }
                headers.push((k.to_lowercase(), v.trim().to_string()));
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
        let respond = |w: &mut TcpStream, status: &str, body: &[u8]| {
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nX-Upstream: yes\r\nContent-Type: application/json\r\n\r\n",
                body.len()
            );
            w.write_all(head.as_bytes()).and_then(|()| w.write_all(body))
        };
        let ok = match path.as_str() {
            "/free/stream" => {
                // Chunked, with pauses: the client must see the first chunk before the last.
                let mut ok =
                    w.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_ok();
                for i in 0..3 {
                    let chunk = format!("chunk{i};");
                    ok &= write!(w, "{:x}\r\n{chunk}\r\n", chunk.len()).is_ok();
                    w.flush().ok();
                    std::thread::sleep(Duration::from_millis(300));
                }
                ok && w.write_all(b"0\r\n\r\n").is_ok()
            }
            "/free/teapot" | "/paid/teapot" => {
                respond(&mut w, "418 I'm a teapot", b"short and stout").is_ok()
            }
            "/paid/slow" => {
                std::thread::sleep(Duration::from_secs(3));
                respond(&mut w, "200 OK", b"late").is_ok()
            }
            "/paid/fail" => respond(&mut w, "500 Internal Server Error", b"broken").is_ok(),
            "/paid/halfsec" => {
                std::thread::sleep(Duration::from_millis(500));
                respond(&mut w, "200 OK", b"acted on").is_ok()
            }
            _ => {
                let echo = serde_json::json!({
                    "method": method,
                    "path": path,
                    "headers": headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>(),
                    "body": String::from_utf8_lossy(&body),
                });
                respond(&mut w, "200 OK", echo.to_string().as_bytes()).is_ok()
            }
        };
        if !ok {
            return;
        }
    }
}

fn sidecar_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().join("agnt2-sidecar")
}

/// A sidecar process, killed on drop.
struct SidecarProc {
    child: Child,
    addr: SocketAddr,
    address: Address,
    agent: String,
    metrics: Option<SocketAddr>,
}

impl SidecarProc {
    fn start(config: &Path, key: &Key) -> Self {
        Self::start_with(config, key, &[])
    }

    fn start_with(config: &Path, key: &Key, args: &[&str]) -> Self {
        Self::start_env(config, key, args, &[])
    }

    fn start_env(config: &Path, key: &Key, args: &[&str], env: &[(&str, PathBuf)]) -> Self {
        let mut child = Command::new(sidecar_bin())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .arg("--config")
            .arg(config)
            .args(args)
            .env("AGNT2_SIDECAR_KEY", key.secret_bytes().to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        // "agnt2-sidecar listening on ADDR as ADDRESS agent ID"
        let w: Vec<&str> = line.split_whitespace().collect();
        assert!(w.len() >= 7, "agnt2-sidecar did not start: {line:?}");
        Self {
            child,
            addr: w[3].parse().unwrap(),
            address: w[5].parse().unwrap(),
            agent: w[7].to_string(),
            metrics: w.get(9).and_then(|m| m.parse().ok()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SidecarProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

const PRICE: u64 = 1_000_000_000_000; // 1000 gwei

struct World {
    node: Node,
    /// The rollup's URL for the hub, the sidecar and the CLI (the node's, or a TLS proxy's).
    l2: String,
    /// Environment of the processes the test starts (`SSL_CERT_FILE` behind TLS).
    env: Vec<(&'static str, PathBuf)>,
    _tls: Option<common::TlsProxy>,
    hub: HubProc,
    hub_key: Key,
    hub_addr: SocketAddr,
    adjudicator: String,
    upstream: Upstream,
    dir: tempfile::TempDir,
    service: Key,
}

fn fund(node: &Node, to: Address) {
    let l2 = agnt2_client::Client::new(&node.url()).unwrap();
    let funder: alloy_signer_local::PrivateKeySigner = DEV_KEY0.parse().unwrap();
    let tx =
        l2.transact(&funder, Some(to), U256::from(10u64).pow(U256::from(18u64)), vec![]).unwrap();
    l2.wait_receipt(tx, Duration::from_secs(30)).unwrap();
}

fn world() -> World {
    world_with(false, &[])
}

/// [`world`] with the rollup reached only over TLS: nginx in front of the node, the hub on
/// `wss://`, the sidecar and the CLI on `https://`, trusting the proxy's CA.
fn world_over_tls(metrics: &str) -> World {
    world_with(true, &["--metrics", metrics])
}

/// A node with the Adjudicator (60 s minimum window), a funded hub (started with `hub_flags`),
/// a funded service key and an upstream; with `tls`, everything reaches the node through a TLS
/// proxy.
fn world_with(tls: bool, hub_flags: &[&str]) -> World {
    let node = Node::start(&[]);
    let proxy = tls.then(|| common::TlsProxy::start(node.addr, None));
    let (hub_l2, l2, env) = match &proxy {
        Some(p) => (p.wss(), p.https(), p.env().into()),
        None => (node.url(), node.url(), Vec::new()),
    };
    let adjudicator = forge_create(
        &node.url(),
        DEV_KEY0,
        "src/channels/Adjudicator.sol:Adjudicator",
        &["--constructor-args", "60"],
    );
    let dir = tempfile::tempdir().unwrap();
    let hub_key = Key::random();
    fund(&node, hub_key.address());
    let hub = HubProc::start_env(
        &dir.path().join("hub"),
        &hub_l2,
        &adjudicator,
        &hub_key.secret_bytes().to_string(),
        0,
        hub_flags,
        &env,
    );
    let service = Key::random();
    fund(&node, service.address());
    World {
        l2,
        env,
        _tls: proxy,
        hub_addr: hub.addr,
        hub,
        hub_key,
        node,
        adjudicator,
        upstream: Upstream::start(),
        dir,
        service,
    }
}

fn config(w: &World, name: &str, upstream: &str, register: bool) -> PathBuf {
    config_with(w, name, upstream, register, "", "")
}

/// [`config`] with `top` among the top-level keys and `routes` after the standard routes.
fn config_with(
    w: &World,
    name: &str,
    upstream: &str,
    register: bool,
    top: &str,
    routes: &str,
) -> PathBuf {
    let path = w.dir.path().join(format!("{name}.toml"));
    let text = format!(
        r#"{top}
listen = "127.0.0.1:0"
upstream = "{upstream}"
datadir = "{datadir}"
upstream_timeout_secs = 1
metrics = "127.0.0.1:0"
[agent]
name = "{name}"
description = "a test service"
register = {register}
[chain]
l2_rpc = "{l2}"
hub = "{hub}"
adjudicator = "{adj}"
[[route]]
path = "/paid/*"
price = "1000gwei"
description = "paid things"
[[route]]
path = "/free/priced-at-zero"
price = "0"
{routes}
"#,
        datadir = w.dir.path().join(name).display(),
        l2 = w.l2,
        hub = w.hub_addr,
        adj = w.adjudicator,
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `agnt2 <args>` as `key` with the channel flags; returns (success, stdout, stderr).
fn agnt2(w: &World, key: &Key, states: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(common::agnt2_bin())
        .args(args)
        .arg("--state-dir")
        .arg(states)
        .env("AGNT2_PRIVATE_KEY", key.secret_bytes().to_string())
        .envs(w.env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn open_channel(w: &World, payer: &Key, states: &Path, to: Address) -> (ChannelParams, String) {
    open_channel_with(w, payer, states, to, &[])
}

/// `agnt2 channel open` to `to` with 0.01 ether and `extra` flags; the channel and its id.
fn open_channel_with(
    w: &World,
    payer: &Key,
    states: &Path,
    to: Address,
    extra: &[&str],
) -> (ChannelParams, String) {
    let (url, hub, to) = (w.l2.clone(), w.hub_addr.to_string(), to.to_string());
    let mut args =
        vec!["channel", "open", "--adjudicator", &w.adjudicator, "--deposit", "0.01ether"];
    // No --window: the Adjudicator's minimum (60 s here).
    args.extend(["--l2.rpc-url", &url, "--hub", &hub, "--to", &to]);
    args.extend(extra);
    let (ok, out, err) = agnt2(w, payer, states, &args);
    assert!(ok, "{out}\n{err}");
    let id = out.split_whitespace().nth(2).unwrap().to_string();
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(states.join(format!("{id}.json"))).unwrap())
            .unwrap();
    (agnt2_channels::json::params_from_json(&saved["params"]).unwrap(), id)
}

/// `agnt2 channel close` (the sidecar countersigns the final state through the hub).
fn close_channel(w: &World, payer: &Key, states: &Path, id: &str) {
    let (url, hub) = (w.l2.clone(), w.hub_addr.to_string());
    let args = ["channel", "close", "--channel", id, "--hub", &hub, "--l2.rpc-url", &url];
    let (ok, out, err) = agnt2(w, payer, states, &args);
    assert!(ok, "{out}\n{err}");
}

/// The hub's latest co-signed state of the channel, read as its payer.
async fn hub_latest(w: &World, payer: &Key, params: ChannelParams) -> SignedState {
    let mut c = HubClient::connect(w.hub_addr, payer).await.unwrap();
    c.latest(params.id()).await.unwrap()
}

fn required(p: &Paid) -> PaymentRequired {
    assert_eq!(p.status, 402, "{}", String::from_utf8_lossy(&p.body));
    scheme::decode(p.headers.get(scheme::PAYMENT_REQUIRED).unwrap().as_bytes()).unwrap()
}

/// A PAYMENT-SIGNATURE header paying `amount` on top of `prev`, signed by `signer`, bound to
/// `method pq`.
fn header(
    r: &Requirement,
    params: ChannelParams,
    prev: &State,
    amount: u64,
    signer: &Key,
    method: &str,
    pq: &str,
) -> String {
    let s = State {
        version: prev.version + 1,
        sentA: prev.sentA + U256::from(amount),
        appData: scheme::request_binding(method, pq),
        ..prev.clone()
    };
    let sig = signer.sign(&state::digest(&s, &params.domain()));
    scheme::encode(&PaymentPayload {
        x402_version: 2,
        resource: scheme::Resource {
            url: pq.into(),
            description: String::new(),
            mime_type: String::new(),
        },
        accepted: r.clone(),
        payload: ChannelPayment { channel: params, state: s, signature: sig }.to_json(),
    })
}

async fn get(url: &str, headers: &[(&str, &str)]) -> Paid {
    let h: Vec<(String, String)> =
        headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    plain_request("GET", url, &h, Bytes::new()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_routes_pass_through_and_the_agent_is_registered() {
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let sc = SidecarProc::start(&config(&w, "svc", &upstream, true), &w.service);
    assert_eq!(sc.address, w.service.address());

    // Registered in the Identity precompile, pointing at the file the sidecar serves.
    let uri = common::cast(&[
        "call",
        "0x0000000000000000000000000000000000008004",
        "tokenURI(uint256)(string)",
        &sc.agent,
        "--rpc-url",
        &w.node.url(),
    ]);
    let expected = sc.url("/.well-known/agent-registration.json");
    assert_eq!(uri.trim_matches('"'), expected);
    let reg: Value = serde_json::from_slice(&get(&expected, &[]).await.body).unwrap();
    assert_eq!(reg["x402Support"], true);
    assert_eq!(reg["registrations"][0]["agentId"].to_string(), sc.agent);
    assert_eq!(reg["services"][0]["endpoint"], sc.url(""));

    // Headers, status codes and bodies pass unchanged; hop-by-hop headers do not.
    let r = get(
        &sc.url("/free/echo?x=1"),
        &[("x-custom", "v"), ("connection", "keep-alive, x-hop"), ("x-hop", "1")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-upstream"], "yes");
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["path"], "/free/echo?x=1");
    let hs = echo["headers"].to_string();
    assert!(
        hs.contains("x-custom: v") && !hs.contains("x-hop") && hs.contains("x-forwarded-for"),
        "{hs}"
    );
    let teapot = get(&sc.url("/free/teapot"), &[]).await;
    assert_eq!((teapot.status.as_u16(), &teapot.body[..]), (418, &b"short and stout"[..]));
    let body = Bytes::from(vec![b'z'; 100_000]);
    let posted = plain_request("POST", &sc.url("/free/echo"), &[], body).await.unwrap();
    let echo: Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(echo["body"].as_str().unwrap().len(), 100_000);
    // A price of zero is free.
    assert_eq!(get(&sc.url("/free/priced-at-zero"), &[]).await.status, 200);

    // Streaming: the first chunk arrives long before the last is written.
    let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let start = std::time::Instant::now();
    let resp = client.get(sc.url("/free/stream").parse().unwrap()).await.unwrap();
    let mut body = resp.into_body();
    use http_body_util::BodyExt;
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    let first_at = start.elapsed();
    let mut all = first.to_vec();
    while let Some(f) = body.frame().await {
        if let Ok(d) = f.unwrap().into_data() {
            all.extend_from_slice(&d);
        }
    }
    assert_eq!(String::from_utf8_lossy(&all), "chunk0;chunk1;chunk2;");
    assert!(first_at < Duration::from_millis(500) && start.elapsed() >= Duration::from_millis(800));

    // HTTP/2 (cleartext, prior knowledge) to the sidecar.
    let h2: hyper_util::client::legacy::Client<_, http_body_util::Empty<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .http2_only(true)
            .build_http();
    let resp = h2.get(sc.url("/free/echo").parse().unwrap()).await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.version()), (200, hyper::Version::HTTP_2));

    // The second start reuses the agent id (nothing registered twice).
    let agent = sc.agent.clone();
    drop(sc);
    let sc = SidecarProc::start(&config(&w, "svc", &upstream, true), &w.service);
    assert_eq!(sc.agent, agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priced_routes_are_paid_over_the_channel_exactly_once() {
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let cfg = config(&w, "svc", &upstream, false);
    let mut sc = SidecarProc::start(&cfg, &w.service);
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();

    // Unpaid: 402 with the requirement; the upstream never sees it.
    let r402 = get(&sc.url("/paid/a"), &[]).await;
    let req = required(&r402);
    let r = &req.accepts[0];
    assert_eq!((r.scheme.as_str(), r.network.as_str()), ("agnt2-channel", "eip155:80042"));
    assert_eq!((r.amount.as_str(), r.pay_to), (PRICE.to_string().as_str(), w.service.address()));
    assert_eq!(r.adjudicator().unwrap().to_string().to_lowercase(), w.adjudicator.to_lowercase());
    assert_eq!(w.upstream.hits("/paid/a"), 0);

    // `agnt2 pay`: the 402 round trip over a channel opened with `agnt2 channel open`.
    let (params, id) = open_channel(&w, &payer, states.path(), w.service.address());
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/a"), "-i"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("HTTP 200")
            && out.contains("payment-response")
            && out.contains("\"path\":\"/paid/a\""),
        "{out}"
    );
    assert!(err.contains(&format!("paid {PRICE} wei")), "{err}");
    assert_eq!(w.upstream.hits("/paid/a"), 1);
    let (ok, out, err) =
        agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/b?q=2"), "--count", "3"]);
    assert!(ok, "{out}\n{err}");
    let latest = hub_latest(&w, &payer, params).await;
    assert!(latest.is_cosigned());
    assert_eq!(latest.state.version, 4);
    assert_eq!(latest.state.sentA, U256::from(4 * PRICE), "the channel moved by exactly the price");
    // A route that costs more than allowed is not paid.
    let (ok, _, err) =
        agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/c"), "--max-amount", "1gwei"]);
    assert!(!ok && err.contains("more than"), "{err}");

    // Hand-made headers: each refused with its reason, nothing forwarded, nothing charged.
    let head = latest.state.clone();
    let stranger = Key::random();
    let mut other = params;
    other.b = Address::repeat_byte(9);
    let mut unopened = params;
    unopened.nonce += 1;
    let cases: Vec<(String, u16, &str)> = vec![
        ("!!!".into(), 400, "malformed"),
        (header(r, params, &head, PRICE - 1, &payer, "GET", "/paid/x"), 402, "costs"),
        (header(r, params, &head, PRICE, &stranger, "GET", "/paid/x"), 402, "not the payer"),
        (header(r, params, &head, PRICE, &payer, "GET", "/paid/other"), 402, "another request"),
        (header(r, other, &head, PRICE, &payer, "GET", "/paid/x"), 402, "not this service"),
        (
            header(
                r,
                unopened,
                &State { channelId: unopened.id(), version: 0, sentA: U256::ZERO, ..head.clone() },
                PRICE,
                &payer,
                "GET",
                "/paid/x",
            ),
            402,
            "not open on the rollup",
        ),
        (
            header(
                r,
                params,
                &State { version: 1, ..head.clone() },
                PRICE,
                &payer,
                "GET",
                "/paid/x",
            ),
            402,
            "not the next state",
        ),
    ];
    for (h, status, why) in cases {
        let resp = get(&sc.url("/paid/x"), &[("payment-signature", &h)]).await;
        let text = String::from_utf8_lossy(&resp.body).to_string();
        assert_eq!(resp.status.as_u16(), status, "{why}: {text}");
        assert!(text.contains(why), "{why}: {text}");
    }
    assert_eq!(w.upstream.hits("/paid/x"), 0);
    assert_eq!(hub_latest(&w, &payer, params).await.state, head);

    // Upstream slow (504) or failing (500): nothing charged; the same version then pays.
    let slow = header(r, params, &head, PRICE, &payer, "GET", "/paid/slow");
    assert_eq!(get(&sc.url("/paid/slow"), &[("payment-signature", &slow)]).await.status, 504);
    let fail = header(r, params, &head, PRICE, &payer, "GET", "/paid/fail");
    assert_eq!(get(&sc.url("/paid/fail"), &[("payment-signature", &fail)]).await.status, 500);
    assert_eq!(hub_latest(&w, &payer, params).await.state, head);
    let good = header(r, params, &head, PRICE, &payer, "GET", "/paid/x");
    let ok5 = get(&sc.url("/paid/x"), &[("payment-signature", &good)]).await;
    assert_eq!(ok5.status, 200);
    let settled: scheme::SettlementResponse =
        scheme::decode(ok5.headers[scheme::PAYMENT_RESPONSE].as_bytes()).unwrap();
    assert_eq!(settled.extra["version"], 5);
    // The same header again (a replay): refused, not forwarded.
    let replay = get(&sc.url("/paid/x"), &[("payment-signature", &good)]).await;
    assert_eq!(replay.status, 402);
    assert_eq!(w.upstream.hits("/paid/x"), 1);
    // Per-client counters on the metrics address.
    let m = sc.metrics.unwrap();
    let clients: Value =
        serde_json::from_slice(&get(&format!("http://{m}/clients"), &[]).await.body).unwrap();
    let me = &clients["clients"][0];
    assert_eq!(
        me["payer"].as_str().unwrap().to_lowercase(),
        payer.address().to_string().to_lowercase()
    );
    assert_eq!(me["paid"], 5);
    assert_eq!(me["wei"], (5 * PRICE).to_string());
    assert!(me["refused"].as_u64().unwrap() >= 6 && me["upstreamFailed"] == 2, "{me}");
    let prom =
        String::from_utf8_lossy(&get(&format!("http://{m}/metrics"), &[]).await.body).to_string();
    assert!(prom.contains("agnt2_sidecar_paid_total 5"), "{prom}");

    // kill -9 and restart: the replay is still refused, payments continue from version 5.
    sc.kill9();
    let sc = SidecarProc::start(&cfg, &w.service);
    let replay = get(&sc.url("/paid/x"), &[("payment-signature", &good)]).await;
    assert_eq!(replay.status, 402, "{}", String::from_utf8_lossy(&replay.body));
    // The 402 carries the co-signed version 5, which `agnt2 pay` adopts (its file says 4).
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/z")]);
    assert!(ok, "{out}\n{err}");
    let latest = hub_latest(&w, &payer, params).await;
    assert_eq!((latest.state.version, latest.state.sentA), (6, U256::from(6 * PRICE)));
    // A 4xx the service answered is paid for (only upstream failures are not): `agnt2 pay`
    // exits non-zero for it but keeps the co-signed state the service returned.
    let (ok, _, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/teapot")]);
    assert!(!ok && err.contains("418"), "{err}");
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(states.path().join(format!("{id}.json"))).unwrap(),
    )
    .unwrap();
    let latest = hub_latest(&w, &payer, params).await;
    assert_eq!(latest.state.version, 7);
    assert_eq!(saved["latest"]["state"]["version"], 7, "the client kept the paid state");
    let _ = id;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_upstream_is_a_502_and_costs_nothing() {
    let w = world();
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sc = SidecarProc::start(&config(&w, "dead", &format!("http://{dead}"), false), &w.service);
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();
    let (params, _) = open_channel(&w, &payer, states.path(), w.service.address());
    assert_eq!(get(&sc.url("/free/x"), &[]).await.status, 502);
    let r = required(&get(&sc.url("/paid/a"), &[]).await).accepts[0].clone();
    let head = hub_latest(&w, &payer, params).await.state;
    let h = header(&r, params, &head, PRICE, &payer, "GET", "/paid/a");
    let resp = get(&sc.url("/paid/a"), &[("payment-signature", &h)]).await;
    assert_eq!(resp.status, 502, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(hub_latest(&w, &payer, params).await.state, head);
    // The payer can close cooperatively: the sidecar countersigns the final state via the hub.
    close_channel(&w, &payer, states.path(), &params.id().to_string());
}

#[test]
fn bench_sidecar_starts_what_it_needs_and_reports_json() {
    // nginx from Debian, unpacked by `make bench-tools` (which `make test` runs): the reference.
    let nginx = common::workspace().join(".tools/nginx/usr/sbin/nginx");
    assert!(nginx.exists(), "{} is missing: run make bench-tools", nginx.display());
    let out = Command::new(common::agnt2_bin())
        .current_dir(common::workspace())
        .args(["bench", "sidecar", "--json", "--latency-requests", "40", "--throughput-requests"])
        .args(["200", "--concurrency", "4", "--paid-requests", "20", "--channels", "2"])
        .arg("--nginx")
        .arg(&nginx)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(r["paid_wei_checked"], true, "{r}");
    assert_eq!(r["paid_requests"], 20);
    assert_eq!(r["paid_channels"], 2);
    for k in [
        "free_p50_added_us",
        "free_p99_added_us",
        "free_throughput_ratio",
        "paid_rps",
        "paid_p50_us",
    ] {
        assert!(r[k].as_f64().is_some_and(f64::is_finite), "{k}: {r}");
    }
    assert!(
        r["paid_rps"].as_f64().unwrap() > 0.0 && r["free_throughput_ratio"].as_f64().unwrap() > 0.0
    );
    for k in ["p50_added_us", "p99_added_us", "rps", "throughput_ratio", "sidecar_vs_reference"] {
        assert!(r["nginx"][k].as_f64().is_some_and(f64::is_finite), "nginx.{k}: {r}");
    }
    assert!(r["nginx"]["rps"].as_f64().unwrap() > 0.0, "{r}");
    // nginx was stopped with its workers (a killed master leaves them running).
    let nginx = nginx.canonicalize().unwrap();
    // (TLS proxies of other tests running at the same time are theirs, not the benchmark's.)
    let left: Vec<_> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let exe = std::fs::read_link(dir.join("exe")).ok()?;
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            let theirs = String::from_utf8_lossy(&cmdline).contains(common::TLS_PROXY_PREFIX);
            (exe == nginx && !theirs).then_some(exe)
        })
        .collect();
    assert!(left.is_empty(), "nginx processes left running: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_channel_to_the_service_is_recorded_in_the_interaction_trie() {
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let sc = SidecarProc::start(&config(&w, "svc", &upstream, true), &w.service);
    let payer = Key::random();
    fund(&w.node, payer.address());
    let url = w.node.url();
    let me = payer.secret_bytes().to_string();
    // The payer is an agent too.
    common::cast(&[
        "send",
        "0x0000000000000000000000000000000000008004",
        "register(string)",
        "ipfs://payer",
        "--private-key",
        &me,
        "--rpc-url",
        &url,
    ]);
    let payer_agent = common::cast(&[
        "call",
        "0x0000000000000000000000000000000000008004",
        "tokenOfOwnerByIndex(address,uint256)(uint256)",
        &payer.address().to_string(),
        "0",
        "--rpc-url",
        &url,
    ]);
    let service_agent = required(&get(&sc.url("/paid/a"), &[]).await).accepts[0].extra["agentId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(service_agent, sc.agent);
    let states = tempfile::tempdir().unwrap();
    let (params, id) = open_channel_with(
        &w,
        &payer,
        states.path(),
        w.service.address(),
        &["--agent", &payer_agent, "--to-agent", &service_agent],
    );
    // Three paid requests, then the payer rates the service (ERC-8004 feedback, from its key).
    let args = ["pay", &sc.url("/paid/a"), "--count", "3", "--feedback", "--l2.rpc-url", &url];
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &args);
    assert!(ok, "{out}\n{err}");
    assert!(err.contains("rated agent"), "{err}");
    let summary = |tag: &str| {
        common::cast(&[
            "call",
            "0x0000000000000000000000000000000000008005",
            "getSummary(uint256,address[],string,string)(uint64,int128,uint8)",
            &service_agent,
            &format!("[{}]", payer.address()),
            tag,
            "",
            "--rpc-url",
            &url,
        ])
    };
    let reachable: Vec<String> = summary("reachable")
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(&reachable[..2], ["1", "100"], "one reachable=100 feedback");
    assert!(summary("responseTime").starts_with("1\n"), "{}", summary("responseTime"));
    let interactions = "0x0000000000000000000000000000000000008009";
    let get_pair = || {
        common::cast(&[
            "call",
            interactions,
            "get(address,uint256,uint256)(uint64,uint256,uint64)",
            &w.adjudicator,
            &payer_agent,
            &service_agent,
            "--rpc-url",
            &url,
        ])
    };
    assert!(get_pair().starts_with("0\n0\n"), "nothing before settlement: {}", get_pair());
    close_channel(&w, &payer, states.path(), &id);
    let pair: Vec<String> =
        get_pair().lines().map(|l| l.split_whitespace().next().unwrap().to_string()).collect();
    assert_eq!(pair[0], "1", "one settled channel");
    assert_eq!(pair[1], (3 * PRICE).to_string(), "the volume paid");
    assert!(pair[2].parse::<u64>().unwrap() > 0, "the block");
    let totals = common::cast(&[
        "call",
        interactions,
        "totals(address,uint256)(uint64,uint256,uint64)",
        &w.adjudicator,
        &service_agent,
        "--rpc-url",
        &url,
    ]);
    assert!(totals.starts_with("1\n"), "{totals}");
    // Recorded per attester: another caller's view of the pair is empty, and a record naming no
    // agent is refused.
    let other = common::cast(&[
        "call",
        interactions,
        "get(address,uint256,uint256)(uint64,uint256,uint64)",
        &payer.address().to_string(),
        &payer_agent,
        &service_agent,
        "--rpc-url",
        &url,
    ]);
    assert!(other.starts_with("0\n"), "{other}");
    let refused = Command::new(common::tool("cast"))
        .args(["send", interactions, "record(uint256,uint256,uint256)", "0", "0", "1"])
        .args(["--private-key", &me, "--rpc-url", &url])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no agent named"));
    let _ = params;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sidecar_reconnects_when_the_hub_restarts() {
    let mut w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let sc = SidecarProc::start(&config(&w, "svc", &upstream, false), &w.service);
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();
    let (params, _) = open_channel(&w, &payer, states.path(), w.service.address());
    let pay = |w: &World| agnt2(w, &payer, states.path(), &["pay", &sc.url("/paid/a")]);
    let (ok, out, err) = pay(&w);
    assert!(ok, "{out}\n{err}");
    // kill -9 the hub and bring it back on the same port and datadir.
    w.hub.kill9();
    w.hub = HubProc::start(
        &w.dir.path().join("hub"),
        &w.node.url(),
        &w.adjudicator,
        &w.hub_key.secret_bytes().to_string(),
        w.hub_addr.port(),
    );
    for _ in 0..2 {
        let (ok, out, err) = pay(&w);
        assert!(ok, "{out}\n{err}");
    }
    let latest = hub_latest(&w, &payer, params).await;
    assert_eq!((latest.state.version, latest.state.sentA), (3, U256::from(3 * PRICE)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_requests_in_flight_finish_and_takes_no_new_ones() {
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let mut sc = SidecarProc::start(&config(&w, "svc", &upstream, false), &w.service);
    let url = sc.url("/free/stream");
    let streaming = tokio::spawn(async move { get(&url, &[]).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = sc.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    // No new connections once it is stopping...
    assert!(TcpStream::connect(sc.addr).is_err(), "the listener is closed");
    // ...but the stream in flight completes.
    let r = streaming.await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(String::from_utf8_lossy(&r.body), "chunk0;chunk1;chunk2;");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = sc.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the sidecar did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_on_a_session_key_is_paid_for_the_owners_agent() {
    let w = world();
    let url = w.node.url();
    let upstream = format!("http://{}", w.upstream.addr);
    // The owner (w.service) registers its agent and opens a session for a key it hands to the
    // sidecar; its own key stays here.
    let owner = w.service.secret_bytes().to_string();
    common::cast(&[
        "send",
        "0x0000000000000000000000000000000000008004",
        "register(string)",
        "https://service.example/.well-known/agent-registration.json",
        "--private-key",
        &owner,
        "--rpc-url",
        &url,
    ]);
    let agent = common::cast(&[
        "call",
        "0x0000000000000000000000000000000000008004",
        "tokenOfOwnerByIndex(address,uint256)(uint256)",
        &w.service.address().to_string(),
        "0",
        "--rpc-url",
        &url,
    ]);
    let session = Key::random();
    let cfg = config(&w, "session", &upstream, false);

    // A key without a session does not start, and says why.
    let out = Command::new(sidecar_bin())
        .arg("--config")
        .arg(&cfg)
        .args(["--session-of", &agent])
        .env("AGNT2_SIDECAR_KEY", session.secret_bytes().to_string())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("holds no valid session"), "{err}");

    let expiry =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
            + 3600;
    common::cast(&[
        "send",
        "0x0000000000000000000000000000000000008008",
        "open(uint256,address,uint64,uint256,address[])",
        &agent,
        &session.address().to_string(),
        &expiry.to_string(),
        "1ether",
        "[]",
        "--private-key",
        &owner,
        "--rpc-url",
        &url,
    ]);
    let sc = SidecarProc::start_with(&cfg, &session, &["--session-of", &agent]);
    assert_eq!(sc.address, w.service.address(), "paid at the owner's address");
    let metrics = format!("http://{}/metrics", sc.metrics.unwrap());
    let gauges = String::from_utf8_lossy(&get(&metrics, &[]).await.body).to_string();
    assert!(gauges.contains("agnt2_sidecar_session_valid 1\n"), "{gauges}");
    assert!(
        gauges.contains(&format!("agnt2_sidecar_session_expiry_seconds {expiry}\n")),
        "{gauges}"
    );
    assert_eq!(sc.agent, agent);
    let file: Value = serde_json::from_slice(
        &get(&sc.url("/.well-known/agent-registration.json"), &[]).await.body,
    )
    .unwrap();
    assert_eq!(file["registrations"][0]["agentId"].to_string(), agent, "{file}");
    let req = required(&get(&sc.url("/paid/a"), &[]).await);
    let r = req.accepts[0].clone();
    assert_eq!(r.pay_to, w.service.address());
    assert_eq!(r.extra["agentId"], agent.as_str());
    assert_eq!(r.extra["signer"], session.address().to_string().to_lowercase().as_str());

    let payer = Key::random();
    fund(&w.node, payer.address());
    // A channel that does not name the agent cannot be countersigned by its session key: the
    // sidecar refuses the payment, and `agnt2 pay` says so before paying.
    let states = tempfile::tempdir().unwrap();
    let (unnamed, _) = open_channel(&w, &payer, states.path(), w.service.address());
    let head = hub_latest(&w, &payer, unnamed).await.state;
    let h = header(&r, unnamed, &head, PRICE, &payer, "GET", "/paid/a");
    let refused = required(&get(&sc.url("/paid/a"), &[("payment-signature", &h)]).await);
    assert!(refused.error.contains("--to-agent"), "{}", refused.error);
    let pay = ["pay", &sc.url("/paid/a"), "--l2.rpc-url", &url];
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &pay);
    assert!(!ok && err.contains("--to-agent"), "{out}\n{err}");
    assert_eq!(w.upstream.hits("/paid/a"), 0);
    assert_eq!(hub_latest(&w, &payer, unnamed).await.state, head, "nothing charged");

    // Named: paid, countersigned by the session key, stored at the hub.
    let states = tempfile::tempdir().unwrap();
    let (params, id) =
        open_channel_with(&w, &payer, states.path(), w.service.address(), &["--to-agent", &agent]);
    // Its countersignatures count on chain only once the key is admitted to the service's side:
    // before, the sidecar takes nothing; `agnt2 pay` admits it (cap 0) and pays.
    let h =
        header(&r, params, &SignedState::opening(&params).state, PRICE, &payer, "GET", "/paid/a");
    let refused = required(&get(&sc.url("/paid/a"), &[("payment-signature", &h)]).await);
    assert!(refused.error.contains("not admitted"), "{}", refused.error);
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &[&pay[..], &["--count", "2"]].concat());
    assert!(ok, "{out}\n{err}");
    assert!(err.contains("admitted the service's session key"), "{err}");
    assert_eq!(w.upstream.hits("/paid/a"), 2);
    let latest = hub_latest(&w, &payer, params).await;
    assert_eq!(latest.state.sentA, U256::from(2 * PRICE));
    let digest = state::digest(&latest.state, &state::domain(params.chain_id, params.adjudicator));
    let sig_b = latest.sig_b.unwrap();
    assert_eq!(agnt2_channels::keys::recover(&digest, &sig_b), Some(session.address()));

    // The session key countersigns the final state; the Adjudicator takes it and owes the owner.
    close_channel(&w, &payer, states.path(), &id);
    let l2 = agnt2_channels::l2::L2::new(&url).unwrap();
    let onchain =
        agnt2_channels::l2::ChannelCalls::channel(&l2, w.adjudicator.parse().unwrap(), params.id())
            .unwrap();
    assert_eq!(onchain.status, state::status::SETTLED);
    assert_eq!(onchain.owedB, U256::from(2 * PRICE));

    // The owner closes the session: the sidecar notices and takes no more payments.
    let states = tempfile::tempdir().unwrap();
    let (params, _) =
        open_channel_with(&w, &payer, states.path(), w.service.address(), &["--to-agent", &agent]);
    let session_addr = session.address().to_string();
    common::cast(&[
        "send",
        "0x0000000000000000000000000000000000008008",
        "close(uint256,address)",
        &agent,
        &session_addr,
        "--private-key",
        &owner,
        "--rpc-url",
        &url,
    ]);
    let opening = SignedState::opening(&params).state;
    let h = header(&r, params, &opening, PRICE, &payer, "GET", "/paid/a");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let resp = get(&sc.url("/paid/a"), &[("payment-signature", &h)]).await;
        let body = String::from_utf8_lossy(&resp.body).to_string();
        assert_ne!(resp.status, 200, "paid after the session was closed: {body}");
        if resp.status == 503 && body.contains("no longer valid") {
            let gauges = String::from_utf8_lossy(&get(&metrics, &[]).await.body).to_string();
            assert!(gauges.contains("agnt2_sidecar_session_valid 0\n"), "{gauges}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {}: {body}", resp.status);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(w.upstream.hits("/paid/a"), 2, "nothing forwarded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_priced_in_an_erc20_is_paid_over_a_token_channel() {
    let w = world();
    let url = w.node.url();
    let upstream = format!("http://{}", w.upstream.addr);
    let token = forge_create(
        &url,
        DEV_KEY0,
        "src/tokens/DemoToken.sol:DemoToken",
        &["--constructor-args", "1000000000000000000000"],
    );
    let payer = Key::random();
    fund(&w.node, payer.address());
    let to_payer = ["send", &token, "transfer(address,uint256)", &payer.address().to_string()];
    common::cast(
        &[&to_payer[..], &["100000000000000000000", "--private-key", DEV_KEY0, "--rpc-url", &url]]
            .concat(),
    );
    let route = format!("[[route]]\npath = \"/token/*\"\nprice = \"5\"\nasset = \"{token}\"");
    let cfg = config_with(&w, "tok", &upstream, false, "", &route);
    let sc = SidecarProc::start(&cfg, &w.service);
    let r = required(&get(&sc.url("/token/a"), &[]).await).accepts[0].clone();
    assert_eq!(r.asset.to_string().to_lowercase(), token.to_lowercase());
    assert_eq!(r.extra["token"].as_str().unwrap().to_lowercase(), token.to_lowercase());
    assert_eq!(r.amount, "5");
    // An ETH channel does not pay a token route: the sidecar says so, `agnt2 pay` points at
    // `--token`, nothing is forwarded.
    let states = tempfile::tempdir().unwrap();
    let (eth, _) = open_channel(&w, &payer, states.path(), w.service.address());
    let head = hub_latest(&w, &payer, eth).await.state;
    let h = header(&r, eth, &head, 5, &payer, "GET", "/token/a");
    let refused = required(&get(&sc.url("/token/a"), &[("payment-signature", &h)]).await);
    assert!(refused.error.contains("priced in"), "{}", refused.error);
    let pay = ["pay", &sc.url("/token/a"), "--l2.rpc-url", &url];
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &pay);
    assert!(!ok && err.contains("--token"), "{out}\n{err}");
    assert_eq!(w.upstream.hits("/token/a"), 0);

    // A channel in the token (approved and deposited by `agnt2 channel open --token`).
    let (params, id) =
        open_channel_with(&w, &payer, states.path(), w.service.address(), &["--token", &token]);
    assert_eq!(params.token.to_string().to_lowercase(), token.to_lowercase());
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &[&pay[..], &["--count", "3"]].concat());
    assert!(ok, "{out}\n{err}");
    assert!(err.contains("paid 15 of token"), "{err}");
    assert_eq!(w.upstream.hits("/token/a"), 3);
    assert_eq!(hub_latest(&w, &payer, params).await.state.sentA, U256::from(15));
    // Settled and withdrawn in the token.
    close_channel(&w, &payer, states.path(), &id);
    let service = w.service.secret_bytes().to_string();
    common::cast(&[
        "send",
        &w.adjudicator,
        "withdraw(bytes32,address)",
        &id,
        &w.service.address().to_string(),
        "--private-key",
        &service,
        "--rpc-url",
        &url,
    ]);
    let balance = common::cast(&[
        "call",
        &token,
        "balanceOf(address)(uint256)",
        &w.service.address().to_string(),
        "--rpc-url",
        &url,
    ]);
    assert_eq!(balance, "15");
}

/// An h2c upstream (HTTP/2 with prior knowledge, as gRPC servers speak): answers with the
/// version and path it saw, the request body's length, and a `grpc-status` trailer.
async fn h2c_upstream() -> SocketAddr {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        let seen = format!("{:?} {}", req.version(), req.uri().path());
                        let len = req.into_body().collect().await?.to_bytes().len();
                        let mut trailers = hyper::HeaderMap::new();
                        trailers
                            .insert("grpc-status", hyper::header::HeaderValue::from_static("0"));
                        let body = http_body_util::Full::new(Bytes::from(format!("{seen} {len}")))
                            .with_trailers(async move { Some(Ok(trailers)) });
                        Ok::<_, hyper::Error>(hyper::Response::new(body))
                    },
                );
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                        .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2c_upstream_is_spoken_to_in_http2_and_its_trailers_come_back() {
    use http_body_util::BodyExt;
    let w = world();
    let up = h2c_upstream().await;
    let cfg = config_with(&w, "h2", &format!("http://{up}"), false, "upstream_http2 = true", "");
    let sc = SidecarProc::start(&cfg, &w.service);
    // A gRPC-style call: HTTP/2 from the client, POST with a body; the trailer comes back.
    let h2: hyper_util::client::legacy::Client<_, http_body_util::Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .http2_only(true)
            .build_http();
    let req = hyper::Request::post(sc.url("/free/pkg.Service/Call"))
        .header("content-type", "application/grpc")
        .body(http_body_util::Full::new(Bytes::from_static(b"0123456789")))
        .unwrap();
    let resp = h2.request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let collected = resp.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().expect("trailers passed through");
    assert_eq!(trailers.get("grpc-status").unwrap(), "0");
    assert_eq!(collected.to_bytes(), "HTTP/2.0 /free/pkg.Service/Call 10");
    // An HTTP/1.1 client is served over HTTP/2 upstream too.
    let plain = get(&sc.url("/free/x"), &[]).await;
    assert_eq!((plain.status.as_u16(), &plain.body[..]), (200, &b"HTTP/2.0 /free/x 0"[..]));
    // Without `upstream_http2` the sidecar speaks HTTP/1.1 and this upstream refuses it.
    let cfg = config(&w, "h1", &format!("http://{up}"), false);
    let sc = SidecarProc::start(&cfg, &w.service);
    assert_eq!(get(&sc.url("/free/x"), &[]).await.status, 502);
}

/// A sidecar with a stricter challenge-window policy than the Adjudicator's takes no payment
/// over a channel it could not defend; nothing reaches the upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_with_a_short_window_pays_for_nothing() {
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let cfg = config(&w, "strict", &upstream, false);
    let sc = SidecarProc::start_with(&cfg, &w.service, &["--min-challenge-window", "600"]);
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();
    // 60 s: what the Adjudicator allows, less than this service asks.
    let (_, _) = open_channel(&w, &payer, states.path(), w.service.address());
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/a")]);
    assert!(!ok, "{out}");
    assert!(err.contains("challenge window is 60 s"), "{err}");
    assert_eq!(w.upstream.hits("/paid/a"), 0);
    // A channel with the window the service asks for pays.
    let states = tempfile::tempdir().unwrap();
    let extra = ["--window", "600"];
    open_channel_with(&w, &payer, states.path(), w.service.address(), &extra);
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/a")]);
    assert!(ok, "{out}\n{err}");
    assert_eq!(w.upstream.hits("/paid/a"), 1);
}

/// Theft of service at the proxy: other spellings of a priced path do not pass free, a client's
/// own `x-agnt2-payer` never reaches the upstream, and the payer does not sign whatever price a
/// service asks or more than its channel holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priced_paths_have_one_spelling_payer_headers_are_the_sidecars_and_prices_are_bounded() {
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let pricey = "[[route]]\npath = \"/pricey\"\nprice = \"0.006ether\"\n";
    let cfg = config_with(&w, "strict-paths", &upstream, false, "", pricey);
    let sc = SidecarProc::start(&cfg, &w.service);

    // `//paid/a`, `/paid/./a`, `/%70aid/a`, `/x/../paid/a`: refused, never forwarded.
    for spelling in ["//paid/a", "/paid/./a", "/%70aid/a", "/x/../paid/a", "/paid%2Fa"] {
        let r = get(&sc.url(spelling), &[]).await;
        assert_eq!(r.status, 400, "{spelling}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(w.upstream.hits(spelling), 0, "{spelling}");
    }
    assert_eq!(w.upstream.hits("/paid/a"), 0);
    // The normal spelling asks for payment; a free path with a harmless `//` still passes.
    assert_eq!(get(&sc.url("/paid/a"), &[]).await.status, 402);
    assert_eq!(get(&sc.url("/free//x"), &[]).await.status, 200);

    // A client's x-agnt2-payer is dropped on free routes.
    let spoof = ("x-agnt2-payer", "0x000000000000000000000000000000000000dEaD");
    let r = get(&sc.url("/free/who"), &[spoof]).await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    let headers = echo["headers"].to_string().to_lowercase();
    assert!(!headers.contains("x-agnt2-payer"), "{headers}");

    // The payer pays at most 0.001 ether per request unless told more (--max-price), and never
    // more than its side of the channel (0.01 ether) holds.
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();
    open_channel(&w, &payer, states.path(), w.service.address());
    let (ok, _, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/pricey")]);
    assert!(!ok && err.contains("more than the 1000000000000000 wei allowed"), "{err}");
    let more = ["pay", &sc.url("/pricey"), "--max-price", "0.01ether"];
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &more);
    assert!(ok, "{out}\n{err}");
    let (ok, _, err) = agnt2(&w, &payer, states.path(), &more);
    assert!(!ok && err.contains("deposit more"), "{err}");
    assert_eq!(w.upstream.hits("/pricey"), 1);
}

/// Settle, then keep paying: a payer disputes, settles and withdraws, then pays again with
/// states of the concluded channel. The sidecar reads the channel again (at most a second
/// after it last did) and serves nothing more; nothing reaches the upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disputed_or_settled_channel_pays_for_nothing() {
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let cfg = config(&w, "settled", &upstream, false);
    let sc = SidecarProc::start(&cfg, &w.service);
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();
    let (params, id) = open_channel(&w, &payer, states.path(), w.service.address());
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/a")]);
    assert!(ok, "{out}\n{err}");
    assert_eq!(w.upstream.hits("/paid/a"), 1);

    let (url, hub) = (w.node.url(), w.hub_addr.to_string());
    let flags = ["--channel", &id, "--hub", &hub, "--l2.rpc-url", &url];
    let (ok, out, err) =
        agnt2(&w, &payer, states.path(), &[&["channel", "dispute"][..], &flags].concat());
    assert!(ok, "{out}\n{err}");
    // Disputed: no more payments.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (ok, _, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/b")]);
    assert!(!ok && err.contains("disputed on the rollup"), "{err}");
    // Past the window: settled and withdrawn; still nothing.
    let l2 = agnt2_channels::l2::L2::new(&w.node.url()).unwrap();
    let ch =
        agnt2_channels::l2::ChannelCalls::channel(&l2, w.adjudicator.parse().unwrap(), params.id())
            .unwrap();
    assert_eq!(ch.status, 2);
    w.node.rpc("evm_setNextBlockTimestamp", serde_json::json!([ch.disputeEnd]));
    w.node.rpc("evm_mine", serde_json::json!([]));
    let (ok, out, err) =
        agnt2(&w, &payer, states.path(), &[&["channel", "settle"][..], &flags].concat());
    assert!(ok, "{out}\n{err}");
    let (ok, _, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/c")]);
    assert!(!ok && err.contains("on the rollup"), "{err}");
    assert_eq!(w.upstream.hits("/paid/b") + w.upstream.hits("/paid/c"), 0);
}

/// The racing proposal: while the sidecar forwards a paid request, the payer sends a
/// zero-value proposal of the same version through the hub, hoping the service's stored payment
/// is refused after the upstream acted. The state both sides signed wins at the hub; the
/// relayed one is superseded and the sidecar does not countersign it: every request the
/// upstream served is paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_raced_through_the_hub_does_not_unpay_a_served_request() {
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let cfg = config(&w, "race", &upstream, false);
    let sc = SidecarProc::start(&cfg, &w.service);
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();
    let (params, _) = open_channel(&w, &payer, states.path(), w.service.address());
    // One paid request loads the channel at the sidecar and the hub.
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &["pay", &sc.url("/paid/a")]);
    assert!(ok, "{out}\n{err}");
    let head = hub_latest(&w, &payer, params).await;
    assert_eq!(head.state.version, 1);

    // The paid request to a slow route (500 ms upstream)...
    let r = required(&get(&sc.url("/paid/halfsec"), &[]).await).accepts[0].clone();
    let pay = header(&r, params, &head.state, PRICE, &payer, "GET", "/paid/halfsec");
    let url = sc.url("/paid/halfsec");
    let paid = tokio::spawn(async move { get(&url, &[(scheme::PAYMENT_SIGNATURE, &pay)]).await });
    // ...and, while the upstream works, a zero-value version 2 through the hub.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut c = HubClient::connect(w.hub_addr, &payer).await.unwrap();
    let latest = c.register(params, [U256::ZERO; 2]).await.unwrap();
    let deposits = [U256::from(10u64).pow(U256::from(16u64)), U256::ZERO];
    let mut side = ChannelSide::new(params, deposits, payer.address(), latest).unwrap();
    c.send(side.propose(&payer, U256::ZERO, Some(B256::repeat_byte(7)), false).unwrap()).unwrap();

    let paid = paid.await.unwrap();
    assert_eq!(paid.status, 200, "{}", String::from_utf8_lossy(&paid.body));
    assert_eq!(w.upstream.hits("/paid/halfsec"), 1);
    match tokio::time::timeout(Duration::from_secs(5), c.recv()).await.unwrap().unwrap() {
        agnt2_channels::wire::Msg::Reject { version: 2, .. } => {}
        other => panic!("the raced proposal was not refused: {other:?}"),
    }
    // The hub holds the paid version 2: two requests served, two paid.
    let stored = hub_latest(&w, &payer, params).await;
    assert_eq!(stored.state.version, 2);
    assert_eq!(stored.state.sentA, U256::from(2 * PRICE));
    assert!(stored.is_cosigned());
}

/// Connections over `max_connections` are closed on accept; the ones within are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_closed() {
    use std::io::Read;
    let w = world();
    let upstream = format!("http://{}", w.upstream.addr);
    let top = "max_connections = 3\nidle_timeout_secs = 2";
    let cfg = config_with(&w, "capped", &upstream, false, top, "");
    let sc = SidecarProc::start(&cfg, &w.service);
    let held: Vec<std::net::TcpStream> =
        (0..3).map(|_| std::net::TcpStream::connect(sc.addr).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut over = std::net::TcpStream::connect(sc.addr).unwrap();
    over.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut b = [0u8; 1];
    assert_eq!(over.read(&mut b).unwrap_or(1), 0, "a fourth connection was kept");
    // The three that never sent a request are closed after the idle timeout, which frees their
    // slots (before it, a fifth would have been closed like the fourth).
    for mut h in held {
        h.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let t0 = std::time::Instant::now();
        assert_eq!(h.read(&mut b).unwrap_or(1), 0, "an idle connection was kept");
        assert!(t0.elapsed() < Duration::from_secs(5), "closed late: {:?}", t0.elapsed());
    }
    assert_eq!(get(&sc.url("/free/x"), &[]).await.status, 200);
    // A kept-alive connection that goes quiet after a request is closed too.
    use std::io::Write;
    let mut kept = std::net::TcpStream::connect(sc.addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    kept.write_all(b"GET /free/x HTTP/1.1\r\nhost: t\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    let t0 = std::time::Instant::now();
    loop {
        let mut chunk = [0u8; 4096];
        match kept.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("the kept-alive connection stayed open: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(t0.elapsed() >= Duration::from_millis(1_500), "closed before the timeout");
}

/// Hosted rollup endpoints speak TLS: with the node reachable only through nginx over
/// `https://`/`wss://`, the sidecar registers its agent and takes a payment (reading the channel
/// over https), `agnt2 channel`/`agnt2 pay` open, pay and dispute over https, and the hub checks
/// registrations and watches disputes over wss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_the_sidecar_and_the_cli_reach_the_rollup_over_tls() {
    let metrics = format!(
        "127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let w = world_over_tls(&metrics);
    assert!(w.l2.starts_with("https://"));
    let upstream = format!("http://{}", w.upstream.addr);
    let cfg = config(&w, "tls", &upstream, true);
    let sc = SidecarProc::start_env(&cfg, &w.service, &[], &w.env);
    assert_ne!(sc.agent, "0", "registered over https");
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();
    let (params, id) = open_channel(&w, &payer, states.path(), sc.address);
    let pay = ["pay", &sc.url("/paid/a"), "--l2.rpc-url", &w.l2];
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &pay);
    assert!(ok, "{out}\n{err}");
    assert_eq!(w.upstream.hits("/paid/a"), 1);
    assert_eq!(hub_latest(&w, &payer, params).await.state.sentA, U256::from(PRICE));
    // A dispute: the hub's watchtower reads it from the logs over wss.
    let hub = w.hub_addr.to_string();
    let args = ["channel", "dispute", "--channel", &id, "--hub", &hub, "--l2.rpc-url", &w.l2];
    let (ok, out, err) = agnt2(&w, &payer, states.path(), &args);
    assert!(ok, "{out}\n{err}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text =
            String::from_utf8_lossy(&get(&format!("http://{metrics}/metrics"), &[]).await.body)
                .to_string();
        if text
            .lines()
            .any(|l| l.starts_with("agnt2_hub_disputes_seen_total ") && !l.ends_with(" 0"))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the watchtower saw no dispute: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// x402's `exact` scheme at the sidecar: the unmodified `@x402/fetch` + `@x402/evm` client
/// (from npm, no patches) reads the 402 — `agnt2-channel` and `exact` both offered — signs an
/// EIP-3009 authorization for the devnet's aUSD (in the genesis at `0x…0402`), and is served
/// once the sidecar has settled it on L2: the service's balance rises by exactly the price,
/// the payer's falls by it, and the same payment header sent again is refused without reaching
/// the service.
#[tokio::test(flavor = "multi_thread")]
async fn the_x402_fetch_client_pays_a_sidecar_route_with_exact() {
    let w = world();
    let url = w.node.url();
    let usd = agnt2_primitives::constants::DEVNET_USD.to_string();
    let route = format!(
        "[[route]]\npath = \"/x402/*\"\nprice = \"250000\"\nasset = \"{usd}\"\n\
         schemes = [\"agnt2-channel\", \"exact\"]"
    );
    let cfg = config_with(&w, "x402", &format!("http://{}", w.upstream.addr), false, "", &route);
    let sc = SidecarProc::start(&cfg, &w.service);
    let payer = agnt2_primitives::dev_signers(10)[9].clone();
    let balance = |who: Address| -> u64 {
        let b = common::cast(&[
            "call",
            &usd,
            "balanceOf(address)(uint256)",
            &who.to_string(),
            "--rpc-url",
            &url,
        ]);
        b.split_whitespace().next().unwrap().parse().unwrap()
    };
    let (payer_before, service_before) = (balance(payer.address()), balance(w.service.address()));
    assert_eq!(payer_before, 1_000_000_000_000, "a dev account's aUSD from genesis");
    common::js_modules();
    let chain_id = common::cast(&["chain-id", "--rpc-url", &url]);
    let key = alloy_primitives::hex::encode_prefixed(payer.to_bytes());
    let out = common::run(
        Command::new("node").arg(common::workspace().join("tests/js/x402-fetch.mjs")).args([
            &sc.url("/x402/a"),
            chain_id.trim(),
            &usd,
            &key,
            "250000",
        ]),
    );
    let r: Value = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(r["unpaid"], 402, "{r}");
    assert_eq!(r["schemes"], serde_json::json!(["agnt2-channel", "exact"]), "{r}");
    assert_eq!(r["paid"], 200, "{r}");
    assert!(r["body"].as_str().unwrap().contains("/x402/a"), "the service's answer: {r}");
    assert_eq!(r["settlement"]["success"], true, "{r}");
    let tx = r["settlement"]["transaction"].as_str().unwrap();
    let receipt = w.node.wait_receipt(tx, Duration::from_secs(10));
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(balance(w.service.address()) - service_before, 250_000);
    assert_eq!(payer_before - balance(payer.address()), 250_000);
    // The same header again: refused (the nonce is used), the service not asked.
    assert_eq!(r["replay"], 402, "{r}");
    assert!(r["replayError"].as_str().unwrap().contains("nonce"), "{r}");
    assert_eq!(w.upstream.hits("/x402/a"), 1);
    assert_eq!(balance(w.service.address()) - service_before, 250_000);
}

/// The channel scheme through `agnt2 facilitator` (`--channel.hub`, `--channel.adjudicator`, run
/// with the service's key): a resource server written with the unmodified `@x402/express` and
/// agnt2's server scheme plugin, paid by the unmodified `@x402/fetch` client with agnt2's
/// client plugin (`sdk/x402-agnt2-channel`) over a channel `agnt2 channel open` made — three
/// paid requests, each a co-signed state at the hub, no transaction; a request whose handler
/// fails in between is not settled and the client's next state follows the last one taken; the
/// same header again is refused.
#[tokio::test(flavor = "multi_thread")]
async fn express_takes_channel_payments_through_the_facilitator() {
    let w = world();
    let url = w.node.url();
    let service = w.service.secret_bytes().to_string();
    let f = common::FacilitatorProc::start_with(
        &url,
        &service,
        &["--channel.hub", &w.hub_addr.to_string(), "--channel.adjudicator", &w.adjudicator],
    );
    let payer = Key::random();
    fund(&w.node, payer.address());
    let states = tempfile::tempdir().unwrap();
    let (params, _) = open_channel(&w, &payer, states.path(), w.service.address());
    // The nonce as a string: a u64 does not fit a JavaScript number.
    let mut channel = agnt2_channels::json::params_to_json(&params);
    channel["nonce"] = params.nonce.to_string().into();
    let channel = channel.to_string();
    let opening = agnt2_channels::json::state_to_json(&params.opening_state()).to_string();
    let block_before = w.node.block_number();
    common::js_modules();
    let chain_id = common::cast(&["chain-id", "--rpc-url", &url]);
    let out = common::run(
        Command::new("node").arg(common::workspace().join("tests/js/x402-channel.mjs")).args([
            &format!("http://{}", f.addr),
            chain_id.trim(),
            &w.service.address().to_string(),
            &payer.secret_bytes().to_string(),
            &PRICE.to_string(),
            &channel,
            &opening,
            "3",
        ]),
    );
    let r: Value = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(r["unpaid"], 402, "{r}");
    assert_eq!(r["schemes"], serde_json::json!(["agnt2-channel"]), "{r}");
    assert_eq!(
        r["extra"]["adjudicator"].as_str().unwrap().to_lowercase(),
        w.adjudicator.to_lowercase(),
        "the facilitator's /supported extra reaches the requirements: {r}"
    );
    assert_eq!(r["paid"], serde_json::json!([200, 200, 200]), "{r}");
    assert_eq!(r["flaky"], 500, "a failed service is not settled, and the next payment works: {r}");
    assert_eq!(r["settlements"][2]["success"], true, "{r}");
    assert_eq!(r["settlements"][2]["transaction"].as_str().unwrap(), params.id().to_string());
    assert_eq!(r["replay"], 402, "{r}");
    assert_eq!(r["served"], 3, "the replay did not reach the handler: {r}");
    let latest = hub_latest(&w, &payer, params).await;
    assert_eq!(latest.state.version, 3);
    assert_eq!(latest.state.sentA, U256::from(3 * PRICE));
    assert!(latest.sig_a.is_some() && latest.sig_b.is_some(), "co-signed at the hub");
    assert_eq!(w.node.block_number(), block_before, "no transaction per payment");
}

/// Attacks on `exact` at the sidecar, with authorizations signed here (EIP-3009 under the
/// token's domain): one for less than the price, one paying someone else, one about to expire —
/// each refused with x402's reason before the service is asked; and one valid authorization
/// sent twice at the same moment — served once, paid once.
#[tokio::test(flavor = "multi_thread")]
async fn exact_payments_are_taken_once_and_only_as_the_route_asks() {
    use agnt2_sidecar::exact::{Authorization, ExactPayload, TransferWithAuthorization};
    use alloy_signer::SignerSync;
    use alloy_sol_types::SolStruct;
    let w = world();
    let usd = agnt2_primitives::constants::DEVNET_USD;
    let route = format!(
        "[[route]]\npath = \"/x402/*\"\nprice = \"1000\"\nasset = \"{usd}\"\nschemes = [\"exact\"]"
    );
    let cfg = config_with(&w, "exact", &format!("http://{}", w.upstream.addr), false, "", &route);
    let sc = SidecarProc::start(&cfg, &w.service);
    let r = required(&get(&sc.url("/x402/a"), &[]).await);
    assert_eq!(r.accepts.len(), 1, "exact only");
    let req = r.accepts[0].clone();
    assert_eq!((req.scheme.as_str(), req.amount.as_str()), ("exact", "1000"));
    assert_eq!(req.extra["name"], "agnt2 USD", "the token's EIP-712 domain, read from the chain");
    let payer = agnt2_primitives::dev_signers(9)[8].clone();
    let domain = alloy_sol_types::Eip712Domain::new(
        Some("agnt2 USD".into()),
        Some("1".into()),
        Some(U256::from(80042)),
        Some(usd),
        None,
    );
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let header = |value: u64, to: Address, valid_for: u64, nonce: u8| {
        let t = TransferWithAuthorization {
            from: payer.address(),
            to,
            value: U256::from(value),
            validAfter: U256::ZERO,
            validBefore: U256::from(now + valid_for),
            nonce: B256::repeat_byte(nonce),
        };
        let sig = payer.sign_hash_sync(&t.eip712_signing_hash(&domain)).unwrap();
        let payload = ExactPayload {
            authorization: Authorization {
                from: t.from,
                to,
                value: value.to_string(),
                valid_after: "0".into(),
                valid_before: (now + valid_for).to_string(),
                nonce: t.nonce,
            },
            signature: sig.as_bytes().to_vec().into(),
        };
        scheme::encode(&PaymentPayload {
            x402_version: 2,
            resource: r.resource.clone(),
            accepted: req.clone(),
            payload: serde_json::to_value(payload).unwrap(),
        })
    };
    let service = w.service.address();
    let refused = |p: &Paid| required(p).error;
    let url = sc.url("/x402/a");
    let cheap = get(&url, &[("payment-signature", &header(999, service, 300, 1))]).await;
    assert!(refused(&cheap).contains("authorization_value"));
    let elsewhere = header(1000, Address::repeat_byte(0xee), 300, 2);
    let elsewhere = get(&url, &[("payment-signature", &elsewhere)]).await;
    assert!(refused(&elsewhere).contains("recipient_mismatch"));
    let expiring = get(&url, &[("payment-signature", &header(1000, service, 3, 3))]).await;
    assert!(refused(&expiring).contains("valid_before"));
    assert_eq!(w.upstream.hits("/x402/a"), 0, "nothing refused reached the service");

    let balance = || {
        let b = common::cast(&[
            "call",
            &usd.to_string(),
            "balanceOf(address)(uint256)",
            &service.to_string(),
            "--rpc-url",
            &w.node.url(),
        ]);
        b.split_whitespace().next().unwrap().parse::<u64>().unwrap()
    };
    let before = balance();
    let good = header(1000, service, 300, 4);
    let twice = [("payment-signature", good.as_str())];
    let (one, two) = tokio::join!(get(&url, &twice), get(&url, &twice));
    let mut statuses = [one.status.as_u16(), two.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 402], "one served, the twin refused");
    assert_eq!(w.upstream.hits("/x402/a"), 1);
    assert_eq!(balance() - before, 1000, "paid once");
}
