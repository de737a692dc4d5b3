//! Shared helpers: start the real `agnt2` binary on a free port with a temp datadir, talk
//! JSON-RPC over a plain TCP socket, run Foundry from `.tools/bin`.
#![allow(dead_code, unreachable_pub, missing_docs)]

use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

pub const DEV_KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const DEV_ADDR0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
pub const DEV_ADDR1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
pub const DEV_KEY1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The `agnt2` binary next to this test executable (`target/<profile>/agnt2`).
pub fn agnt2_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("agnt2");
    assert!(bin.exists(), "{} missing: run `cargo build -p agnt2` (make test does)", bin.display());
    bin
}

pub fn tool(name: &str) -> PathBuf {
    let p = workspace().join(".tools").join("bin").join(name);
    assert!(p.exists(), "{} missing: run `make tools`", p.display());
    p
}

/// A running node; killed (and its datadir removed, if owned) on drop.
pub struct Node {
    pub child: Child,
    pub addr: SocketAddr,
    pub datadir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Node {
    pub fn start(extra: &[&str]) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let datadir = tmp.path().to_path_buf();
        let mut n = Self::start_in(&datadir, extra);
        n._tmp = Some(tmp);
        n
    }

    /// Starts a node on an existing datadir (for restarts).
    pub fn start_in(datadir: &Path, extra: &[&str]) -> Self {
        let mut args = vec!["node", "--dev", "--http.port", "0", "--datadir"];
        let dir = datadir.to_str().expect("utf-8 datadir");
        args.push(dir);
        args.extend_from_slice(extra);
        Self::spawn(&args, datadir).0
    }

    /// Runs `agnt2 ARGS` (a node or a launch, with `--http.port 0` among them) on `datadir`,
    /// waits for "Listening on", and returns it with every line it printed up to there.
    pub fn spawn(args: &[&str], datadir: &Path) -> (Self, Vec<String>) {
        let mut child = Command::new(agnt2_bin())
            .current_dir(workspace())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn agnt2");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut printed = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(90)) {
                Ok(line) => {
                    if let Some(a) = line.strip_prefix("Listening on ") {
                        let addr = a.trim().parse().expect("address");
                        let node = Self { child, addr, datadir: datadir.to_path_buf(), _tmp: None };
                        return (node, printed);
                    }
                    printed.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("agnt2 {args:?} did not start; it printed {printed:?}");
                }
            }
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Raw HTTP POST; returns (status, body).
    pub fn post_raw(&self, body: &[u8]) -> (u16, String) {
        post_raw(self.addr, body)
    }

    /// A JSON-RPC call; returns the whole response object.
    pub fn rpc_raw(&self, method: &str, params: Value) -> Value {
        let req = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (_, body) = self.post_raw(req.to_string().as_bytes());
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad response {body}: {e}"))
    }

    /// A JSON-RPC call that must succeed.
    pub fn rpc(&self, method: &str, params: Value) -> Value {
        let resp = self.rpc_raw(method, params);
        match resp.get("result") {
            Some(r) => r.clone(),
            None => panic!("{method} failed: {resp}"),
        }
    }

    pub fn block_number(&self) -> u64 {
        hex_u64(&self.rpc("eth_blockNumber", json!([])))
    }

    /// Waits for a receipt (polling).
    pub fn wait_receipt(&self, hash: &str, timeout: Duration) -> Value {
        let end = Instant::now() + timeout;
        loop {
            let r = self.rpc("eth_getTransactionReceipt", json!([hash]));
            if !r.is_null() {
                return r;
            }
            assert!(Instant::now() < end, "no receipt for {hash}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn post_raw(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    try_post_raw(addr, body).expect("connect")
}

/// Like [`post_raw`], but `None` when the node is not there (it may have been killed).
pub fn try_post_raw(addr: SocketAddr, body: &[u8]) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write head");
    // The server may answer (413) before reading a large body; ignore a broken pipe then.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Some((status, if chunked { dechunk(body) } else { body.to_string() }))
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((len, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(len.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn hex_u64(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a hex string: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex number")
}

/// Runs a Foundry command; panics with its output on failure.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn tool");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        panic!("{cmd:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    stdout
}

pub fn cast(args: &[&str]) -> String {
    run(Command::new(tool("cast")).args(args)).trim().to_string()
}

/// A signed EIP-1559 transfer of 1 wei from dev account `from` (index) with `nonce`, hex-encoded.
pub fn signed_transfer(
    signer: &alloy_signer_local::PrivateKeySigner,
    nonce: u64,
) -> (String, String) {
    use alloy_primitives::{Address, U256};
    signed_call(signer, nonce, Some(Address::with_last_byte(0xee)), U256::from(1), &[], 21_000)
}

/// A signed EIP-1559 call (`to: None` creates) with `value`, `input` and `gas`: (raw hex, hash).
pub fn signed_call(
    signer: &alloy_signer_local::PrivateKeySigner,
    nonce: u64,
    to: Option<alloy_primitives::Address>,
    value: alloy_primitives::U256,
    input: &[u8],
    gas: u64,
) -> (String, String) {
    use alloy_consensus::{SignableTransaction, TxEip1559};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::TxKind;
    use alloy_signer::SignerSync;
    let tx = TxEip1559 {
        chain_id: 80042,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: to.map_or(TxKind::Create, TxKind::Call),
        value,
        input: input.to_vec().into(),
        ..Default::default()
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let env = agnt2_primitives::TxEnvelope::Eip1559(tx.into_signed(sig));
    (
        format!("0x{}", alloy_primitives::hex::encode(env.encoded_2718())),
        format!("{}", env.tx_hash()),
    )
}

/// Sends `raws` as one JSON-RPC batch of `eth_sendRawTransaction`; returns the responses.
pub fn send_batch(addr: SocketAddr, raws: &[String]) -> Vec<Value> {
    let reqs: Vec<Value> = raws
        .iter()
        .enumerate()
        .map(|(i, r)| json!({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [r]}))
        .collect();
    let Some((_, body)) = try_post_raw(addr, Value::Array(reqs).to_string().as_bytes()) else {
        return vec![];
    };
    serde_json::from_str::<Vec<Value>>(&body).unwrap_or_default()
}

/// Fetches receipts of `hashes` in one batch (null where missing).
pub fn receipts_batch(addr: SocketAddr, hashes: &[String]) -> Vec<Value> {
    let reqs: Vec<Value> = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| json!({"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}))
        .collect();
    let (_, body) = post_raw(addr, Value::Array(reqs).to_string().as_bytes());
    let mut out: Vec<Value> = serde_json::from_str(&body).unwrap_or_default();
    out.sort_by_key(|v| v["id"].as_u64());
    out.into_iter().map(|v| v["result"].clone()).collect()
}

/// A real anvil on a free port (for differential checks); killed on drop.
pub struct Anvil {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Anvil {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(tool("anvil"))
            .args(["--port", &port.to_string(), "--host", "127.0.0.1", "--silent"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn anvil");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while try_post_raw(addr, br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#)
            .is_none()
        {
            assert!(std::time::Instant::now() < deadline, "anvil did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, addr }
    }

    pub fn rpc(&self, method: &str, params: Value) -> Value {
        let req = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (_, body) = post_raw(self.addr, req.to_string().as_bytes());
        let v: Value = serde_json::from_str(&body).unwrap();
        v.get("result").cloned().unwrap_or_else(|| panic!("anvil {method}: {v}"))
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Verifies an `eth_getProof`-shaped response against `state_root` with the standard
/// EIP-1186 logic: the account leaf (or its absence) under the state root, each storage value
/// (or its absence, for zero) under the account's storage root.
pub fn verify_eip1186(state_root: &Value, proof: &Value) {
    use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
    use std::str::FromStr;
    let b256 = |v: &Value| B256::from_str(v.as_str().expect("hex")).expect("32 bytes");
    let u256 = |v: &Value| U256::from_str(v.as_str().expect("hex")).expect("quantity");
    let nodes = |v: &Value| -> Vec<Bytes> { serde_json::from_value(v.clone()).expect("nodes") };
    let address = Address::from_str(proof["address"].as_str().unwrap()).unwrap();
    let account = alloy_trie::TrieAccount {
        nonce: hex_u64(&proof["nonce"]),
        balance: u256(&proof["balance"]),
        storage_root: b256(&proof["storageHash"]),
        code_hash: b256(&proof["codeHash"]),
    };
    let mut leaf = Vec::new();
    alloy_rlp::Encodable::encode(&account, &mut leaf);
    alloy_trie::proof::verify_proof(
        b256(state_root),
        alloy_trie::Nibbles::unpack(keccak256(address)),
        Some(leaf),
        &nodes(&proof["accountProof"]),
    )
    .unwrap_or_else(|e| panic!("account proof of {address}: {e}"));
    for sp in proof["storageProof"].as_array().unwrap() {
        // Keys come back as given: a 32-byte word or a quantity.
        let key = B256::from(u256(&sp["key"]));
        let value = u256(&sp["value"]);
        let expected = (!value.is_zero()).then(|| {
            let mut v = Vec::new();
            alloy_rlp::Encodable::encode(&value, &mut v);
            v
        });
        alloy_trie::proof::verify_proof(
            account.storage_root,
            alloy_trie::Nibbles::unpack(keccak256(key)),
            expected,
            &nodes(&sp["proof"]),
        )
        .unwrap_or_else(|e| panic!("storage proof of {key}: {e}"));
    }
}

/// `agnt2 facilitator` on a free port, killed on drop.
pub struct FacilitatorProc {
    child: Child,
    pub addr: String,
}

impl FacilitatorProc {
    pub fn start(url: &str, key: &str) -> Self {
        Self::start_with(url, key, &[])
    }

    /// With `extra` flags (`--channel.hub`, …).
    pub fn start_with(url: &str, key: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(agnt2_bin())
            .args(["facilitator", "--http.port", "0", "--l2.rpc-url", url, "--private-key", key])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("Facilitator on ").unwrap_or_else(|| panic!("{line}"));
        Self { addr: addr.to_string(), child }
    }
}

impl Drop for FacilitatorProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes `tests/js/node_modules` point at `.tools/node_modules` (installed by `make tools`),
/// where the scripts in `tests/js` import from.
pub fn js_modules() {
    let link = workspace().join("tests/js/node_modules");
    if !link.exists() {
        let _ = std::os::unix::fs::symlink(workspace().join(".tools/node_modules"), &link);
    }
}

/// `forge create --broadcast` of `contract` (`path:Name` under contracts/) signed with `key`,
/// with `extra` arguments; returns the deployed address.
pub fn forge_create(url: &str, key: &str, contract: &str, extra: &[&str]) -> String {
    let mut args = vec!["create", contract, "--rpc-url", url, "--private-key", key, "--broadcast"];
    args.extend_from_slice(extra);
    let out =
        run(Command::new(tool("forge")).current_dir(workspace().join("contracts")).args(&args));
    out.lines()
        .find_map(|l| l.strip_prefix("Deployed to: "))
        .unwrap_or_else(|| panic!("no address in forge output:\n{out}"))
        .trim()
        .to_string()
}

/// `agnt2-hub` next to the test executable.
pub fn hub_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let bin = exe.parent().and_then(Path::parent).expect("target dir").join("agnt2-hub");
    assert!(bin.exists(), "{} missing: run `cargo build --workspace`", bin.display());
    bin
}

/// A hub process, killed on drop.
pub struct HubProc {
    pub child: Child,
    pub addr: SocketAddr,
}

impl HubProc {
    pub fn start(dir: &Path, l2: &str, adjudicator: &str, key_hex: &str, port: u16) -> Self {
        Self::start_with(dir, l2, adjudicator, key_hex, port, &[])
    }

    /// As [`HubProc::start`], with more flags.
    pub fn start_with(
        dir: &Path,
        l2: &str,
        adjudicator: &str,
        key_hex: &str,
        port: u16,
        extra: &[&str],
    ) -> Self {
        Self::start_env(dir, l2, adjudicator, key_hex, port, extra, &[])
    }

    /// As [`HubProc::start_with`], with `env` set for the hub (`SSL_CERT_FILE`).
    pub fn start_env(
        dir: &Path,
        l2: &str,
        adjudicator: &str,
        key_hex: &str,
        port: u16,
        extra: &[&str],
        env: &[(&str, PathBuf)],
    ) -> Self {
        let mut child = Command::new(hub_bin())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--ws",
                "127.0.0.1:0",
                "--l2.rpc-url",
                l2,
            ])
            .args(["--adjudicator", adjudicator, "--watch.interval-ms", "100"])
            .args(extra)
            .arg("--datadir")
            .arg(dir)
            .env("AGNT2_HUB_KEY", key_hex)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn agnt2-hub");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .split_whitespace()
            .nth(3)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("agnt2-hub did not start: {line:?}"));
        Self { child, addr }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HubProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The prefix of a [`TlsProxy`]'s directory (it shows in its nginx's command line).
pub const TLS_PROXY_PREFIX: &str = "agnt2-tls-proxy-";

/// nginx from `.tools/` terminating TLS in front of a plain JSON-RPC endpoint: `https://` and
/// `wss://` on one port of 127.0.0.1, with a certificate of a CA made for the test. Children that
/// should trust it get `SSL_CERT_FILE` ([`TlsProxy::env`]). One process (`master_process off`),
/// killed on drop.
pub struct TlsProxy {
    child: Child,
    pub port: u16,
    pub ca: PathBuf,
    dir: tempfile::TempDir,
}

impl TlsProxy {
    /// In front of `upstream`; with `rate_per_s`, requests over that rate are answered 429 (as
    /// hosted endpoints do).
    pub fn start(upstream: SocketAddr, rate_per_s: Option<u32>) -> Self {
        // Named so that other tests looking for stray nginx processes can tell these apart.
        let dir = tempfile::Builder::new().prefix(TLS_PROXY_PREFIX).tempdir().unwrap();
        let d = dir.path().display().to_string();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "agnt2 test CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
                .unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "127.0.0.1");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let limit = match rate_per_s {
            Some(r) => format!(
                "limit_req_zone $binary_remote_addr zone=rpc:1m rate={r}r/s;\n  \
                 limit_req zone=rpc burst=2 nodelay;\n  limit_req_status 429;\n"
            ),
            None => String::new(),
        };
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  \
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  {limit}\
             map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n  \
             server {{\n    listen 127.0.0.1:{port} ssl;\n    \
             ssl_certificate {d}/cert.pem;\n    ssl_certificate_key {d}/key.pem;\n    \
             location / {{\n      proxy_pass http://{upstream};\n      proxy_http_version 1.1;\n      \
             proxy_set_header Upgrade $http_upgrade;\n      \
             proxy_set_header Connection $connection_upgrade;\n      \
             proxy_read_timeout 3600s;\n    }}\n  }}\n}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new(workspace().join(".tools/nginx/usr/sbin/nginx"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx from .tools (make bench-tools)");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, ca, dir }
    }

    pub fn https(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn wss(&self) -> String {
        format!("wss://127.0.0.1:{}", self.port)
    }

    /// The environment a child needs to trust the proxy's certificate.
    pub fn env(&self) -> [(&'static str, PathBuf); 1] {
        [("SSL_CERT_FILE", self.ca.clone())]
    }

    /// Requests the proxy answered with `status`.
    pub fn answered(&self, status: u16) -> usize {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        log.lines().filter(|l| l.contains(&format!("\" {status} "))).count()
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Prometheus text a `/metrics` endpoint at `addr` serves.
pub fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}
