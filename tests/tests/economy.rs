//! The duty board through the real CLI on a devnet, over agnt2's native identity registry
//! (0x…8004): a funder agent posts an RPC duty with escrow, an operator agent bonds and takes
//! it, three prober agents probe its endpoint with `agnt2 probe` (a real JSON-RPC request, the
//! EIP-712 probe checked against the verifier's own digest), the operator claims what the
//! probes prove, a probe from the operator itself is refused, and once the probes show the
//! endpoint down for three epochs a reporter slashes the operator's bond to the funder.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Command;

const IDENTITY: &str = "0x0000000000000000000000000000000000008004";
const EPOCH: u64 = 60;

fn agnt2(args: &[&str]) -> Value {
    let out = Command::new(agnt2_bin()).current_dir(workspace()).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "agnt2 {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("agnt2 {args:?} printed no JSON ({e}): {stdout}"))
}

fn agnt2_fails(args: &[&str]) -> String {
    let out = Command::new(agnt2_bin()).current_dir(workspace()).args(args).output().unwrap();
    assert!(!out.status.success(), "agnt2 {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Registers an agent for `key`; its id.
fn register(url: &str, key: &str) -> String {
    cast(&["send", IDENTITY, "register(string)", "agent", "--private-key", key, "--rpc-url", url]);
    let addr = cast(&["wallet", "address", "--private-key", key]);
    let id = cast(&[
        "call",
        IDENTITY,
        "tokenOfOwnerByIndex(address,uint256)(uint256)",
        addr.trim(),
        "0",
        "--rpc-url",
        url,
    ]);
    id.split_whitespace().next().unwrap().to_string()
}

/// Mines a block one epoch after the newest (instant mining can run the chain's clock ahead of
/// the wall clock, so the step is taken from the chain's own time).
fn next_epoch(node: &Node) {
    let head = node.rpc("eth_getBlockByNumber", json!(["latest", false]));
    let ts = u64::from_str_radix(head["timestamp"].as_str().unwrap().trim_start_matches("0x"), 16);
    node.rpc("evm_setNextBlockTimestamp", json!([ts.unwrap() + EPOCH]));
    node.rpc("evm_mine", json!([]));
}

fn balance(url: &str, who: &str) -> u128 {
    cast(&["balance", who, "--rpc-url", url]).trim().parse().unwrap()
}

#[test]
fn an_rpc_duty_is_probed_paid_and_slashed_through_the_cli() {
    let node = Node::start(&[]);
    let url = node.url();
    let keys: Vec<String> = agnt2_primitives::dev_signers(6)
        .iter()
        .map(|s| alloy_primitives::hex::encode_prefixed(s.to_bytes()))
        .collect();
    let (funder, operator, reporter) = (&keys[0], &keys[1], &keys[5]);
    let probers = &keys[2..5];
    let (board, verifier) = deploy_board(&url, funder, &[]);
    let (board, verifier) = (board.as_str(), verifier.as_str());
    let funder_id = register(&url, funder);
    let operator_id = register(&url, operator);
    let prober_ids: Vec<String> = probers.iter().map(|k| register(&url, k)).collect();
    assert_ne!(funder_id, operator_id);

    let with_key = |key: &str, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--l2.rpc-url", &url, "--private-key", key]);
        agnt2(&all)
    };
    let posted = with_key(
        funder,
        &[
            "duty",
            "post",
            "--board",
            board,
            "--funder-agent",
            &funder_id,
            "--kind",
            "rpc",
            "--spec",
            "http endpoint",
            "--rate",
            "0.01ether",
            "--units-cap",
            "10",
            "--epoch",
            "60",
            "--min-bond",
            "1ether",
            "--verifier",
            verifier,
            "--escrow",
            "1ether",
        ],
    );
    let duty = posted["duty"].as_str().unwrap().to_string();
    // Not bonded yet: refused.
    let mut accept = vec!["duty", "accept", "--board", board, "--duty", &duty, "--agent"];
    accept.push(&operator_id);
    let mut refused = accept.clone();
    refused.extend(["--l2.rpc-url", &url, "--private-key", operator]);
    agnt2_fails(&refused);
    let bonded = with_key(
        operator,
        &["bond", "--board", board, "--agent", &operator_id, "--role", "rpc", "--amount", "2ether"],
    );
    assert_eq!(bonded["bonded"], "2000000000000000000");
    with_key(operator, &accept);

    let dir = tempfile::tempdir().unwrap();
    // Each prober probes the epoch running now against `endpoint`.
    let probe_all = |endpoint: &str, epoch: u64| -> Vec<String> {
        (0..3)
            .map(|i| {
                let out = dir.path().join(format!("p{i}-e{epoch}.json"));
                let p = with_key(
                    &probers[i],
                    &[
                        "probe",
                        "--board",
                        board,
                        "--duty",
                        &duty,
                        "--agent",
                        &prober_ids[i],
                        "--endpoint",
                        endpoint,
                        "--out",
                        out.to_str().unwrap(),
                    ],
                );
                assert_eq!(p["epoch"], epoch, "{p}");
                out.to_str().unwrap().to_string()
            })
            .collect()
    };
    // A port nobody listens on: the operator's endpoint is down.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut files = probe_all(&url, 0);
    let up: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(up["probe"]["ok"], true, "{up}");
    next_epoch(&node);
    let down_files = probe_all(&dead, 1);
    let down: Value =
        serde_json::from_str(&std::fs::read_to_string(&down_files[0]).unwrap()).unwrap();
    assert_eq!(down["probe"]["ok"], false, "{down}");
    files.extend(down_files);
    next_epoch(&node);

    // The operator's own probe is not evidence.
    let own = dir.path().join("own.json");
    with_key(
        operator,
        &[
            "probe",
            "--board",
            board,
            "--duty",
            &duty,
            "--agent",
            &operator_id,
            "--endpoint",
            &url,
            "--out",
            own.to_str().unwrap(),
        ],
    );
    let mut claim = vec!["duty", "claim", "--board", board, "--duty", &duty, "--to", "2"];
    claim.push("--probes");
    let mut with_own = claim.clone();
    with_own.push(own.to_str().unwrap());
    with_own.extend(files.iter().map(String::as_str));
    with_own.extend(["--l2.rpc-url", &url, "--private-key", operator]);
    let err = agnt2_fails(&with_own);
    assert!(err.contains("revert") || err.contains("NotAProber"), "{err}");

    // Epoch 0 was up (three oks), epoch 1 down: one unit paid to the operator's agent owner.
    let operator_addr = cast(&["wallet", "address", "--private-key", operator]);
    let before = balance(&url, operator_addr.trim());
    claim.extend(files.iter().map(String::as_str));
    let paid = with_key(operator, &claim);
    assert_eq!(
        (paid["units"].as_u64(), paid["paid"].as_str()),
        (Some(1), Some("10000000000000000"))
    );
    let after = balance(&url, operator_addr.trim());
    // 0.01 ether in, the claim's gas (well under that on a devnet) out.
    assert!(after > before && after - before <= 10_000_000_000_000_000, "{before} → {after}");
    // The same units again: refused (nothing is paid twice).
    let mut again = claim.clone();
    again.extend(["--l2.rpc-url", &url, "--private-key", operator]);
    agnt2_fails(&again);

    // Reputation grounded in payment: the funder rates the operator through PaidFeedback (it
    // paid a unit); a stranger's direct review lands in the native registry too, but the
    // summary over PaidFeedback as the client counts only the paid one.
    let paid = forge_create(
        &url,
        funder,
        "src/economy/PaidFeedback.sol:PaidFeedback",
        &[
            "--constructor-args",
            board,
            "0x0000000000000000000000000000000000008005",
            "0x0000000000000000000000000000000000000000",
        ],
    );
    cast(&[
        "send",
        &paid,
        "rateOperator(uint256,int128,uint8,string)",
        &duty,
        "95",
        "0",
        "ipfs://r",
        "--private-key",
        funder,
        "--rpc-url",
        &url,
    ]);
    cast(&[
        "send",
        "0x0000000000000000000000000000000000008005",
        "giveFeedback(uint256,int128,uint8,string,string,string,string,bytes32)",
        &operator_id,
        "100",
        "0",
        "paid",
        "",
        "",
        "",
        "0x0000000000000000000000000000000000000000000000000000000000000000",
        "--private-key",
        reporter,
        "--rpc-url",
        &url,
    ]);
    let summary = |clients: &str| {
        cast(&[
            "call",
            "0x0000000000000000000000000000000000008005",
            "getSummary(uint256,address[],string,string)(uint64,int128,uint8)",
            &operator_id,
            clients,
            "paid",
            "",
            "--rpc-url",
            &url,
        ])
    };
    let only_paid = summary(&format!("[{paid}]"));
    let counts: Vec<&str> = only_paid.split_whitespace().collect();
    assert_eq!((counts[0], counts[1]), ("1", "95"), "{only_paid}");
    let reporter_addr = cast(&["wallet", "address", "--private-key", reporter]);
    let all = summary(&format!("[{paid},{}]", reporter_addr.trim()));
    assert!(all.starts_with('2'), "both reviews are in the registry: {all}");

    // Three more epochs down: the reporter slashes; the funder gets nine tenths of 1 ether.
    let mut evidence = Vec::new();
    for e in 2..5 {
        evidence.extend(probe_all(&dead, e));
        next_epoch(&node);
    }
    let funder_addr = cast(&["wallet", "address", "--private-key", funder]);
    let funder_before = balance(&url, funder_addr.trim());
    let mut slash = vec!["duty", "slash-missed", "--board", board, "--duty", &duty];
    slash.extend(["--from", "2", "--to", "5", "--probes"]);
    slash.extend(evidence.iter().map(String::as_str));
    let s = with_key(reporter, &slash);
    assert_eq!(s["amount"], "1000000000000000000", "{s}");
    assert_eq!(s["reporterShare"], "100000000000000000", "{s}");
    assert_eq!(balance(&url, funder_addr.trim()) - funder_before, 900_000_000_000_000_000);
    let status = with_key(reporter, &["duty", "status", "--board", board, "--duty", &duty]);
    assert_eq!(status["status"], "Open", "{status}");
    assert_eq!(status["unitsPaid"], 1);
    assert_eq!(status["escrow"], "990000000000000000");

    // Roles: the funder opens a session key of its agent for the board (the native Sessions
    // precompile); that key may pause the funder's duty, a key without a session may not.
    with_key(operator, &accept);
    let manager = &keys[4]; // a prober's key, as good as any
    let manager_addr = cast(&["wallet", "address", "--private-key", manager]);
    let expiry = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap()
        + std::time::Duration::from_secs(86_400 * 30))
    .as_secs()
    .to_string();
    let no_session = vec!["duty", "pause", "--board", board, "--duty", &duty];
    let mut refused = no_session.clone();
    refused.extend(["--l2.rpc-url", &url, "--private-key", manager]);
    agnt2_fails(&refused);
    cast(&[
        "send",
        "0x0000000000000000000000000000000000008008",
        "open(uint256,address,uint64,uint256,address[])",
        &funder_id,
        manager_addr.trim(),
        &expiry,
        "0",
        &format!("[{board}]"),
        "--private-key",
        funder,
        "--rpc-url",
        &url,
    ]);
    with_key(manager, &no_session);
    let status = with_key(reporter, &["duty", "status", "--board", board, "--duty", &duty]);
    assert_eq!(status["status"], "Paused", "{status}");
}

/// `agnt2 monitor --json` against a live anvil L1 and an agnt2 devnet L2: a calm L1 says stay;
/// once the test raises anvil's base fee fiftyfold it says move to the L2 (cheaper per
/// interaction), with the numbers; with a cost bound nothing meets, launch.
#[test]
fn monitor_stays_moves_or_launches_as_the_l1_base_fee_rises() {
    let anvil = Anvil::start();
    let l1 = format!("http://{}", anvil.addr);
    let node = Node::start(&[]);
    let l2 = format!("agnt2={}", node.url());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("thresholds.json");
    std::fs::write(&cfg, r#"{"maxL1BaseFeeGwei": 5, "maxTimeToSafeS": 600}"#).unwrap();
    let monitor = |cfg: &std::path::Path| {
        agnt2(&[
            "monitor",
            "--l1.rpc-url",
            &l1,
            "--l2",
            &l2,
            "--config",
            cfg.to_str().unwrap(),
            "--blocks",
            "5",
            "--json",
        ])
    };
    anvil.rpc("evm_mine", json!([]));
    let calm = monitor(&cfg);
    assert_eq!(calm["decision"]["action"], "stay", "{calm}");
    let chains = calm["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2);
    assert_eq!(chains[0]["chainId"], 31337);
    assert!(chains[0]["baseFeeGwei"].as_f64().unwrap() <= 1.0, "{calm}");

    // The L1 gets busy.
    anvil.rpc("anvil_setNextBlockBaseFeePerGas", json!(["0xba43b7400"])); // 50 gwei
    anvil.rpc("evm_mine", json!([]));
    let busy = monitor(&cfg);
    assert_eq!(busy["decision"]["action"], "move", "{busy}");
    assert_eq!(busy["decision"]["to"], "agnt2", "{busy}");
    assert!(busy["chains"][0]["baseFeeGwei"].as_f64().unwrap() >= 49.0, "{busy}");
    let reason = busy["decision"]["reason"].as_str().unwrap();
    assert!(reason.contains("50.00 gwei"), "{reason}");

    // Watching with --metrics: the same numbers as Prometheus gauges.
    let mut watch = Command::new(agnt2_bin())
        .args(["monitor", "--l1.rpc-url", &l1, "--l2", &l2, "--config", cfg.to_str().unwrap()])
        .args(["--blocks", "5", "--json", "--watch", "1", "--metrics", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let metrics = {
        use std::io::BufRead;
        let err = std::io::BufReader::new(watch.stderr.take().unwrap());
        let line = err.lines().map_while(Result::ok).find(|l| l.starts_with("Metrics on "));
        line.unwrap().trim_start_matches("Metrics on ").trim().to_string()
    };
    {
        use std::io::BufRead;
        let mut out = std::io::BufReader::new(watch.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let v: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(v["decision"]["action"], "move", "{v}");
    }
    let text = common::scrape(&metrics);
    let _ = watch.kill();
    let _ = watch.wait();
    let gauge = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{series} ")))
            .unwrap_or_else(|| panic!("{series} missing: {text}"))
            .trim()
            .parse()
            .unwrap()
    };
    assert!(gauge("agnt2_monitor_base_fee_gwei{chain=\"l1\"}") >= 49.0, "{text}");
    assert!(gauge("agnt2_monitor_base_fee_gwei{chain=\"agnt2\"}") < 49.0, "{text}");
    assert_eq!(gauge("agnt2_monitor_decision{action=\"move\"}"), 1.0, "{text}");
    assert_eq!(gauge("agnt2_monitor_decision{action=\"stay\"}"), 0.0, "{text}");

    // No chain can meet a bound of 1 wei per interaction: launch one's own.
    let strict = dir.path().join("strict.json");
    std::fs::write(&strict, r#"{"maxL1BaseFeeGwei": 5, "maxCostPerInteractionWei": 1}"#).unwrap();
    let launch = monitor(&strict);
    assert_eq!(launch["decision"]["action"], "launch", "{launch}");
    // A misspelt threshold is an error, not a silent default.
    std::fs::write(&strict, r#"{"maxL1BaseFee": 5}"#).unwrap();
    let out = Command::new(agnt2_bin())
        .args(["monitor", "--l1.rpc-url", &l1, "--config", strict.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Deploys a board and its verifier with a short unbonding delay; (board, verifier).
fn deploy_board(url: &str, key: &str, extra: &[&str]) -> (String, String) {
    let artifacts = workspace().join("contracts/out");
    let mut args = vec!["duty", "deploy", "--artifacts", artifacts.to_str().unwrap()];
    args.extend(["--unbond-delay", "3600", "--claim-grace", "600", "--l2.rpc-url", url]);
    args.extend(["--private-key", key]);
    args.extend(extra);
    let d = agnt2(&args);
    (d["board"].as_str().unwrap().to_string(), d["verifier"].as_str().unwrap().to_string())
}

/// A saved signed state (`agnt2 channel`'s JSON) as cast arguments: the state tuple, sigA, sigB.
fn state_args(signed: &Value) -> (String, String, String) {
    let st = &signed["state"];
    let wei = |v: &Value| u128::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16);
    let tuple = format!(
        "({},{},{},{},{},{})",
        st["channelId"].as_str().unwrap(),
        st["version"],
        wei(&st["sentA"]).unwrap(),
        wei(&st["sentB"]).unwrap(),
        st["appData"].as_str().unwrap(),
        st["isFinal"],
    );
    let sig = |k: &str| signed[k].as_str().unwrap().to_string();
    (tuple, sig("sigA"), sig("sigB"))
}

/// An Adjudicator deployed by `key` (a one-minute challenge window) and a hub on it.
fn adjudicator_and_hub(url: &str, key: &str, dir: &std::path::Path) -> (String, HubProc) {
    let out = Command::new(agnt2_bin())
        .current_dir(workspace())
        .args(["channel", "deploy", "--min-challenge-window", "60", "--l2.rpc-url", url])
        .args(["--private-key", key])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let adjudicator = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let hub_key = alloy_primitives::hex::encode(alloy_primitives::B256::repeat_byte(0x42));
    let hub = HubProc::start(&dir.join("hub"), url, &adjudicator, &hub_key, 0);
    (adjudicator, hub)
}

/// A running `agnt2 duty receive`: its JSON lines, one per payment, killed on drop.
struct Receiver {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    log: std::path::PathBuf,
}

impl Receiver {
    fn start(log: std::path::PathBuf, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = Command::new(agnt2_bin())
            .current_dir(workspace())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let mut r = Self { child, lines, log };
        let first = r.next();
        assert!(first.get("listening").is_some(), "{first}");
        r
    }

    fn next(&mut self) -> Value {
        match self.lines.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(l) => serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}")),
            Err(_) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("agnt2 duty receive printed nothing more: {log}");
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Units paid over a channel through the hub, not from escrow: the funder opens a channel to
/// the operator, the operator runs `agnt2 duty receive`, and `agnt2 duty stream` settles each
/// finished epoch the probes decide — an up epoch pays the rate, a down one nothing, an
/// undecided one waits — with no L2 transaction per epoch; streaming again pays nothing twice;
/// the operator's saved state settles on the Adjudicator for exactly what was streamed.
#[test]
fn a_duty_is_paid_per_epoch_over_a_channel_through_the_hub() {
    let node = Node::start(&[]);
    let url = node.url();
    let keys: Vec<String> = agnt2_primitives::dev_signers(5)
        .iter()
        .map(|s| alloy_primitives::hex::encode_prefixed(s.to_bytes()))
        .collect();
    let (funder, operator, probers) = (&keys[0], &keys[1], &keys[2..5]);
    // The channel: an Adjudicator with a one-minute window and a hub (a watchtower, funded to
    // send refutes); the board takes the Adjudicator's refuted disputes as evidence.
    let dir = tempfile::tempdir().unwrap();
    let (adjudicator, hub) = adjudicator_and_hub(&url, funder, dir.path());
    let hub_addr = hub.addr.to_string();
    let hub_account =
        cast(&["wallet", "address", "--private-key", &format!("0x{}", "42".repeat(32))]);
    cast(&[
        "send",
        hub_account.trim(),
        "--value",
        "1ether",
        "--private-key",
        &keys[4],
        "--rpc-url",
        &url,
    ]);
    let (board, verifier) = deploy_board(&url, funder, &["--adjudicator", &adjudicator]);
    let funder_id = register(&url, funder);
    let operator_id = register(&url, operator);
    let prober_ids: Vec<String> = probers.iter().map(|k| register(&url, k)).collect();
    let with_key = |key: &str, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--l2.rpc-url", &url, "--private-key", key]);
        agnt2(&all)
    };
    let mut post = vec!["duty", "post", "--board", &board, "--funder-agent", &funder_id];
    post.extend(["--kind", "rpc", "--rate", "0.01ether", "--units-cap", "10", "--epoch", "60"]);
    post.extend(["--min-bond", "1ether", "--verifier", &verifier, "--escrow", "0"]);
    let duty = with_key(funder, &post)["duty"].as_str().unwrap().to_string();
    with_key(
        operator,
        &["bond", "--board", &board, "--agent", &operator_id, "--role", "rpc"]
            .into_iter()
            .chain(["--amount", "1ether"])
            .collect::<Vec<_>>(),
    );
    with_key(
        operator,
        &["duty", "accept", "--board", &board, "--duty", &duty, "--agent", &operator_id],
    );

    // 1 ether from the funder.
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let operator_addr = cast(&["wallet", "address", "--private-key", operator]).trim().to_string();
    let chan = |key: &str, state: &std::path::Path, args: &[&str]| {
        let out = Command::new(agnt2_bin())
            .current_dir(workspace())
            .arg("channel")
            .args(args)
            .args(["--hub", &hub_addr, "--state-dir", state.to_str().unwrap()])
            .args(["--l2.rpc-url", &url, "--private-key", key])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    let opened = chan(
        funder,
        &a_dir,
        &["open", "--adjudicator", &adjudicator, "--to", &operator_addr, "--deposit", "1ether"],
    );
    let channel = opened.split_whitespace().nth(2).unwrap().to_string();

    let mut receiver = Receiver::start(
        dir.path().join("receive.log"),
        &[
            "duty",
            "receive",
            "--board",
            &board,
            "--duty",
            &duty,
            "--adjudicator",
            &adjudicator,
            "--channel",
            &channel,
            "--until-epoch",
            "2",
            "--hub",
            &hub_addr,
            "--state-dir",
            b_dir.to_str().unwrap(),
            "--l2.rpc-url",
            &url,
            "--private-key",
            operator,
        ],
    );

    let probe = |i: usize, endpoint: &str, epoch: u64| -> String {
        let out = dir.path().join(format!("p{i}-e{epoch}.json"));
        let p = with_key(
            &probers[i],
            &["probe", "--board", &board, "--duty", &duty, "--agent", &prober_ids[i]]
                .into_iter()
                .chain(["--endpoint", endpoint, "--out", out.to_str().unwrap()])
                .collect::<Vec<_>>(),
        );
        assert_eq!(p["epoch"], epoch, "{p}");
        out.to_str().unwrap().to_string()
    };
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    // Epoch 0 up, epoch 1 down, epoch 2 up — with one prober's probe held back at first.
    let mut files: Vec<String> = (0..3).map(|i| probe(i, &url, 0)).collect();
    next_epoch(&node);
    files.extend((0..3).map(|i| probe(i, &dead, 1)));
    next_epoch(&node);
    files.extend((0..2).map(|i| probe(i, &url, 2)));
    let late = probe(2, &url, 2);
    next_epoch(&node);

    let head_before = node.block_number();
    let stream = |files: &[String]| -> Vec<Value> {
        let mut args = vec!["duty", "stream", "--board", &board, "--duty", &duty];
        args.extend(["--channel", &channel, "--hub", &hub_addr]);
        args.extend(["--state-dir", a_dir.to_str().unwrap(), "--probes"]);
        args.extend(files.iter().map(String::as_str));
        args.extend(["--l2.rpc-url", &url, "--private-key", funder]);
        let out = Command::new(agnt2_bin()).current_dir(workspace()).args(&args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let log = || std::fs::read_to_string(dir.path().join("receive.log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "{stdout}{}\nthe receiver's log: {}",
            String::from_utf8_lossy(&out.stderr),
            log()
        );
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let first = stream(&files);
    let summary = first.last().unwrap();
    assert_eq!(summary["epochs"], 2, "{first:?}");
    assert_eq!(summary["paid"], "10000000000000000", "{first:?}");
    assert_eq!(summary["settledThrough"], 2, "epoch 2 is undecided: {first:?}");
    assert_eq!(
        (first[0]["verdict"].as_str(), first[1]["verdict"].as_str()),
        (Some("done"), Some("missed"))
    );
    assert_eq!(first[1]["paid"], "0");
    // The operator countersigned both, and saw what each paid.
    let (r0, r1) = (receiver.next(), receiver.next());
    assert_eq!(
        (r0["paid"].as_str(), r0["settledThrough"].as_u64()),
        (Some("10000000000000000"), Some(1))
    );
    assert_eq!((r1["paid"].as_str(), r1["total"].as_str()), (Some("0"), Some("10000000000000000")));
    // No L2 transaction paid them.
    assert_eq!(node.block_number(), head_before, "streaming sent a transaction");

    // Again with the same probes: nothing more (nothing is paid twice).
    let again = stream(&files);
    assert_eq!(again.last().unwrap()["epochs"], 0, "{again:?}");
    // The third prober's probe decides epoch 2: paid, and the receiver stops there.
    files.push(late);
    // What the operator holds before the last payment: stale once it is made.
    let b_stale = dir.path().join("b-stale");
    std::fs::create_dir_all(&b_stale).unwrap();
    let file = format!("{channel}.json");
    std::fs::copy(b_dir.join(&file), b_stale.join(&file)).unwrap();
    let third = stream(&files);
    assert_eq!(third.last().unwrap()["paid"], "10000000000000000", "{third:?}");
    assert_eq!(third.last().unwrap()["settledThrough"], 3);
    let r2 = receiver.next();
    assert_eq!(r2["total"], "20000000000000000", "{r2}");
    assert!(receiver.child.wait().unwrap().success(), "receive stops after --until-epoch");

    // Reputation grounded in payment over the channel: the funder's latest co-signed state (as
    // `agnt2 duty stream` saved it) is the proof PaidFeedback takes.
    let paid_feedback = forge_create(
        &url,
        funder,
        "src/economy/PaidFeedback.sol:PaidFeedback",
        &["--constructor-args", &board, "0x0000000000000000000000000000000000008005", &adjudicator],
    );
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(a_dir.join(format!("{channel}.json"))).unwrap(),
    )
    .unwrap();
    let (tuple, _, _) = state_args(&saved["latest"]);
    let rate = |key: &str, sig_b: &str| {
        Command::new(tool("cast"))
            .args(["send", &paid_feedback])
            .arg("rateOperatorByChannel((bytes32,uint64,uint256,uint256,bytes32,bool),bytes,bytes,int128,uint8,string)")
            .args([&tuple, saved["latest"]["sigA"].as_str().unwrap(), sig_b, "90", "0", "ipfs://r"])
            .args(["--private-key", key, "--rpc-url", &url])
            .output()
            .unwrap()
    };
    // The operator's signature is part of the proof: the funder's own in its place is refused.
    assert!(!rate(funder, saved["latest"]["sigA"].as_str().unwrap()).status.success());
    let ok = rate(funder, saved["latest"]["sigB"].as_str().unwrap());
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let summary = cast(&[
        "call",
        "0x0000000000000000000000000000000000008005",
        "getSummary(uint256,address[],string,string)(uint64,int128,uint8)",
        &operator_id,
        &format!("[{paid_feedback}]"),
        "paid",
        "",
        "--rpc-url",
        &url,
    ]);
    let counts: Vec<&str> = summary.split_whitespace().collect();
    assert_eq!((counts[0], counts[1]), ("1", "90"), "{summary}");

    // Attack: the operator disputes with the stale state (0.01 ether paid, not 0.02) — with
    // cast, since `agnt2 channel dispute` takes the hub's newer state. The hub, a watchtower,
    // refutes it with the newest co-signed state; the Adjudicator records who disputed stale,
    // and the board slashes the operator on that record: 0.9 ether of its bond to the funder.
    let stale: Value =
        serde_json::from_str(&std::fs::read_to_string(b_stale.join(&file)).unwrap()).unwrap();
    let (stale_tuple, stale_a, stale_b) = state_args(&stale["latest"]);
    cast(&[
        "send",
        &adjudicator,
        "dispute((bytes32,uint64,uint256,uint256,bytes32,bool),bytes,bytes)",
        &stale_tuple,
        &stale_a,
        &stale_b,
        "--private-key",
        operator,
        "--rpc-url",
        &url,
    ]);
    let refuted = || {
        let sig = "refutedDisputer(bytes32)(address)";
        cast(&["call", &adjudicator, sig, &channel, "--rpc-url", &url]).trim().to_lowercase()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while refuted() != operator_addr.to_lowercase() {
        assert!(std::time::Instant::now() < deadline, "the hub never refuted the stale dispute");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let funder_addr = cast(&["wallet", "address", "--private-key", funder]).trim().to_string();
    let funder_before = balance(&url, &funder_addr);
    let slash =
        ["duty", "slash-refuted", "--board", &board, "--duty", &duty, "--channel", &channel];
    let s = with_key(&probers[0], &slash);
    assert_eq!(
        (s["amount"].as_str(), s["reporterShare"].as_str()),
        (Some("1000000000000000000"), Some("100000000000000000")),
        "{s}"
    );
    assert_eq!(balance(&url, &funder_addr) - funder_before, 900_000_000_000_000_000);
    // Once: the same record slashes nothing more.
    let mut again: Vec<&str> = slash.to_vec();
    again.extend(["--l2.rpc-url", &url, "--private-key", &probers[1]]);
    agnt2_fails(&again);

    // The window passes: the refuted (newest) state settles, and the operator withdraws
    // exactly the 0.02 ether streamed.
    node.rpc("evm_increaseTime", json!([61]));
    node.rpc("evm_mine", json!([]));
    let settled = chan(operator, &b_dir, &["settle", "--channel", &channel]);
    assert!(settled.contains("withdrew 20000000000000000 wei"), "{settled}");
}

/// Kills a process by pid on drop (the chain `agnt2 monitor --act` launched runs on its own).
struct KillPid(u32);

impl Drop for KillPid {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-9", &self.0.to_string()]).status();
    }
}

/// The story of the agent economy, end to end with the real binaries on an anvil L1:
///
/// agent A's monitor sees the L1's base fee above its threshold and launches its own L2 (a
/// process of its own), bridges A's funds there through the OP portal, deploys a duty board and
/// posts the plan's duties (an RPC duty paid over a channel, a sequencer-backup duty with
/// escrow); agent B bonds, takes the RPC duty and serves it with a follower of the new chain
/// (derived from the L1 alone); three prober agents probe B's endpoint each epoch; A pays B per
/// epoch through a channel on the hub; B's follower goes down, the probes say so, A stops
/// paying and a prober slashes B's bond — nine tenths to A. The test prints the timeline.
#[test]
fn an_agent_launches_its_l2_hires_an_rpc_operator_pays_it_per_epoch_and_slashes_it() {
    const EPOCH: u64 = 8;
    let started = std::time::Instant::now();
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let l1c = agnt2_client::Client::new(&l1).unwrap();
    let mut l2c: Option<agnt2_client::Client> = None;
    let mut timeline = Vec::new();
    let mut note = |l2c: &Option<agnt2_client::Client>, what: String| {
        let l2 = l2c.as_ref().map_or_else(|| "-".into(), |c| c.block_number().unwrap().to_string());
        let line = format!(
            "[{:>6.1}s] L1 #{:<4} L2 #{:<5} {what}",
            started.elapsed().as_secs_f64(),
            l1c.block_number().unwrap(),
            l2
        );
        println!("{line}");
        timeline.push(line);
    };
    let keys: Vec<String> = agnt2_primitives::dev_signers(7)
        .iter()
        .map(|s| alloy_primitives::hex::encode_prefixed(s.to_bytes()))
        .collect();
    let addr = |k: &str| cast(&["wallet", "address", "--private-key", k]).trim().to_string();
    let (a, b, probers) = (&keys[1], &keys[2], &keys[3..6]);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        json!({
            "agentUri": "agnt2://agent-a",
            "board": {"unbondDelay": 3600, "claimGrace": 600, "missedLimit": 3, "quorum": 3,
                      "minProberBond": "0.5ether"},
            "duties": [
                {"kind": "rpc", "spec": "a follower's JSON-RPC, probed", "rate": "0.01ether",
                 "unitsCap": 100, "epoch": EPOCH, "minBond": "1ether", "escrow": "0"},
                {"kind": "sequencer", "spec": "a standby sequencer", "rate": "0.02ether",
                 "unitsCap": 100, "epoch": EPOCH, "minBond": "2ether", "escrow": "0.5ether"}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let cfg = dir.path().join("thresholds.json");
    std::fs::write(&cfg, r#"{"maxL1BaseFeeGwei": 5}"#).unwrap();

    // The L1 gets expensive: 100 gwei.
    anvil.rpc("anvil_setNextBlockBaseFeePerGas", json!(["0x174876e800"]));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    note(&l2c, "L1 base fee raised to 100 gwei (A's threshold: 5)".into());
    let l2dir = dir.path().join("l2");
    let mut monitor = vec!["monitor", "--l1.rpc-url", &l1, "--config", cfg.to_str().unwrap()];
    monitor.extend(["--blocks", "1", "--json", "--act", "--bridge-amount", "3ether"]);
    monitor.extend(["--private-key", a, "--launch.datadir", l2dir.to_str().unwrap()]);
    monitor.extend(["--launch.plan", plan.to_str().unwrap(), "--"]);
    monitor.extend(["--l1.key", DEV_KEY0, "--http.port", "0", "--block-time", "200"]);
    monitor.extend(["--l1.poll-ms", "50"]);
    let allocs: Vec<String> = keys[2..6].iter().map(|k| format!("{}=10ether", addr(k))).collect();
    for al in &allocs {
        monitor.extend(["--alloc", al]);
    }
    let out = Command::new(agnt2_bin()).current_dir(workspace()).args(&monitor).output().unwrap();
    let pid = std::fs::read_to_string(l2dir.join("launch.pid")).ok();
    let _launched = pid.as_ref().map(|p| KillPid(p.trim().parse().unwrap()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["decision"]["action"], "launch", "{v}");
    let acted = &v["acted"];
    let url = acted["launched"].as_str().unwrap().to_string();
    l2c = Some(agnt2_client::Client::new(&url).unwrap());
    note(&l2c, format!("A's monitor launched an L2 at {url}: {}", v["decision"]["reason"]));
    assert_eq!(acted["bridge"]["bridged"], "3000000000000000000", "{acted}");
    // A has no genesis allocation on the launched chain: its ETH there came through the portal.
    assert_eq!(acted["bridge"]["l2Txs"].as_array().map(Vec::len), Some(1), "{acted}");
    note(&l2c, "3 ether of A's reached the L2 through the OptimismPortal".into());
    let hired = &acted["hired"];
    let board = hired["board"].as_str().unwrap().to_string();
    let (rpc_duty, seq_duty) = (
        hired["duties"][0]["duty"].as_str().unwrap(),
        hired["duties"][1]["duty"].as_str().unwrap(),
    );
    note(
        &l2c,
        format!(
            "A (agent {}) posted duties {rpc_duty} (rpc) and {seq_duty} (sequencer) on board {board}",
            hired["agent"]
        ),
    );
    let with_key = |key: &str, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--l2.rpc-url", &url, "--private-key", key]);
        agnt2(&all)
    };
    let seq = with_key(b, &["duty", "status", "--board", &board, "--duty", seq_duty]);
    assert_eq!(
        (seq["status"].as_str(), seq["escrow"].as_str()),
        (Some("Open"), Some("500000000000000000"))
    );

    // B takes the RPC duty and serves it with a follower of the new chain.
    let b_id = register(&url, b);
    with_key(
        b,
        &["bond", "--board", &board, "--agent", &b_id, "--role", "rpc", "--amount", "1ether"],
    );
    with_key(b, &["duty", "accept", "--board", &board, "--duty", rpc_duty, "--agent", &b_id]);
    let fdir = dir.path().join("b-follower");
    let (genesis, rollup) = (l2dir.join("genesis.json"), l2dir.join("rollup.json"));
    let (follower, _) = Node::spawn(
        &[
            "node",
            "--chain",
            genesis.to_str().unwrap(),
            "--rollup.config",
            rollup.to_str().unwrap(),
            "--l1.rpc-url",
            &l1,
            "--http.port",
            "0",
            "--rollup.sequencer-http",
            &url,
            "--datadir",
            fdir.to_str().unwrap(),
        ],
        &fdir,
    );
    let endpoint = follower.url();
    note(&l2c, format!("B (agent {b_id}) bonded 1 ether, took duty {rpc_duty}, serves {endpoint}"));
    let prober_ids: Vec<String> = probers.iter().map(|k| register(&url, k)).collect();
    // The plan asks probers for a bond: three votes cost three bonds.
    for (k, id) in probers.iter().zip(&prober_ids) {
        let b =
            ["bond", "--board", &board, "--agent", id, "--role", "prober", "--amount", "0.5ether"];
        with_key(k, &b);
    }
    note(&l2c, format!("three prober agents {prober_ids:?} bonded 0.5 ether each"));

    // A's channel to B: an Adjudicator, a hub, 0.2 ether.
    let (adjudicator, hub) = adjudicator_and_hub(&url, a, dir.path());
    let hub_addr = hub.addr.to_string();
    let a_state = dir.path().join("a-channels");
    let b_state = dir.path().join("b-channels");
    let opened = Command::new(agnt2_bin())
        .current_dir(workspace())
        .args(["channel", "open", "--adjudicator", &adjudicator, "--to", &addr(b)])
        .args(["--deposit", "0.2ether", "--hub", &hub_addr, "--state-dir"])
        .arg(&a_state)
        .args(["--l2.rpc-url", &url, "--private-key", a])
        .output()
        .unwrap();
    assert!(opened.status.success(), "{}", String::from_utf8_lossy(&opened.stderr));
    let channel =
        String::from_utf8_lossy(&opened.stdout).split_whitespace().nth(2).unwrap().to_string();
    let mut receiver = Receiver::start(
        dir.path().join("receive.log"),
        &[
            "duty",
            "receive",
            "--board",
            &board,
            "--duty",
            rpc_duty,
            "--adjudicator",
            &adjudicator,
            "--channel",
            &channel,
            "--hub",
            &hub_addr,
            "--state-dir",
            b_state.to_str().unwrap(),
            "--l2.rpc-url",
            &url,
            "--private-key",
            b,
        ],
    );
    note(&l2c, format!("A opened channel {channel} to B with 0.2 ether; B listens on the hub"));

    let l2 = agnt2_client::Client::new(&url).unwrap();
    let board_addr: alloy_primitives::Address = board.parse().unwrap();
    let economy = agnt2_economy::Board::at(l2, board_addr);
    let duty_id = alloy_primitives::U256::from(rpc_duty.parse::<u64>().unwrap());
    let wait_epoch = |e: u64| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(EPOCH * 4);
        while economy.current_unit(duty_id).unwrap() < e {
            assert!(std::time::Instant::now() < until, "epoch {e} did not come");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    // The three probers probe at once (each its own process), early in the epoch.
    let probe_epoch = |e: u64, endpoint: &str, files: &mut Vec<(u64, bool, String)>| {
        let probed: Vec<(u64, bool, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = probers
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let (with_key, board, id) = (&with_key, &board, &prober_ids[i]);
                    let out = dir.path().join(format!("p{i}-e{e}.json"));
                    scope.spawn(move || {
                        let p = with_key(
                            k,
                            &["probe", "--board", board, "--duty", rpc_duty, "--agent", id]
                                .into_iter()
                                .chain(["--endpoint", endpoint, "--max-lag", "100000"])
                                .chain(["--timeout", "2", "--out", out.to_str().unwrap()])
                                .collect::<Vec<_>>(),
                        );
                        let (epoch, ok) =
                            (p["epoch"].as_u64().unwrap(), p["ok"].as_bool().unwrap());
                        assert_eq!(epoch, e, "the probe fell into the next epoch: {p}");
                        (epoch, ok, out.to_str().unwrap().to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        files.extend(probed);
    };
    let mut probed: Vec<(u64, bool, String)> = Vec::new();
    // Probing starts with the next epoch, at its start (a probe speaks for the epoch it is
    // made in); the epochs before are settled unpaid.
    let e0 = economy.current_unit(duty_id).unwrap() + 1;
    let from = e0.to_string();
    let stream = |files: &[(u64, bool, String)]| -> Value {
        let mut args = vec!["duty", "stream", "--board", &board, "--duty", rpc_duty];
        // The epochs before the probers started are settled unpaid.
        args.extend(["--from", &from]);
        args.extend(["--channel", &channel, "--hub", &hub_addr, "--state-dir"]);
        args.push(a_state.to_str().unwrap());
        args.push("--probes");
        args.extend(files.iter().map(|f| f.2.as_str()));
        with_key(a, &args)
    };

    // Two epochs up: probed ok, paid over the channel.
    for e in e0..e0 + 2 {
        wait_epoch(e);
        probe_epoch(e, &endpoint, &mut probed);
        note(&l2c, format!("epoch {e}: three probers probed B's endpoint"));
    }
    wait_epoch(e0 + 2);
    let paid = stream(&probed);
    note(&l2c, format!("A streamed: {paid}"));
    assert_eq!(paid["paid"], "20000000000000000", "two epochs at 0.01 ether: {paid}");
    let mut total = 0u128;
    for _ in 0..paid["epochs"].as_u64().unwrap() {
        let r = receiver.next();
        total = r["total"].as_str().unwrap().parse().unwrap();
        note(&l2c, format!("B countersigned: {r}"));
    }
    assert!(probed.iter().all(|p| p.1), "B was up: {probed:?}");
    assert_eq!(total, 20_000_000_000_000_000, "two epochs at 0.01 ether");

    // B's endpoint goes down.
    drop(follower);
    note(&l2c, "B's follower is down".into());
    let down_from = economy.current_unit(duty_id).unwrap();
    let mut down = Vec::new();
    for e in down_from..down_from + 3 {
        wait_epoch(e);
        probe_epoch(e, &endpoint, &mut down);
        note(&l2c, format!("epoch {e}: probes say down"));
    }
    assert!(down.iter().all(|p| !p.1), "B was down: {down:?}");
    wait_epoch(down_from + 3);
    probed.extend(down.iter().cloned());
    let unpaid = stream(&probed);
    note(&l2c, format!("A streamed: {unpaid}"));
    assert_eq!(unpaid["paid"], "0", "nothing for down epochs: {unpaid}");

    // A prober reports: B is slashed, A gets nine tenths of the bond.
    let a_before: u128 = cast(&["balance", &addr(a), "--rpc-url", &url]).trim().parse().unwrap();
    let (from, to) = (down_from.to_string(), (down_from + 3).to_string());
    let mut slash = vec!["duty", "slash-missed", "--board", &board, "--duty", rpc_duty];
    slash.extend(["--from", &from, "--to", &to, "--probes"]);
    slash.extend(down.iter().map(|p| p.2.as_str()));
    let s = with_key(&probers[0], &slash);
    note(&l2c, format!("prober slashed B: {s}"));
    assert_eq!(s["amount"], "1000000000000000000", "{s}");
    let a_after: u128 = cast(&["balance", &addr(a), "--rpc-url", &url]).trim().parse().unwrap();
    assert_eq!(a_after - a_before, 900_000_000_000_000_000, "A got the slashed share");
    let status = with_key(a, &["duty", "status", "--board", &board, "--duty", rpc_duty]);
    assert_eq!(status["status"], "Open", "open again for another operator: {status}");
    note(&l2c, "duty open again for another operator".into());
    drop(hub);
    println!("\ntimeline:\n{}", timeline.join("\n"));
}

/// Roles: a bridge manager is a session key of the agent that lists the L2ToL1MessagePasser
/// among its counterparties; through the agent's AgentTreasury it may bridge the treasury's ETH
/// to the agent's owner on the L1 — and nothing else — up to the session's spend limit. On a
/// devnet with the native identity and sessions precompiles.
#[test]
fn a_bridge_manager_key_may_only_bridge_to_the_owner_up_to_its_limit() {
    const PASSER: &str = "0x4200000000000000000000000000000000000016";
    let node = Node::start(&[]);
    let url = node.url();
    let keys: Vec<String> = agnt2_primitives::dev_signers(4)
        .iter()
        .map(|s| alloy_primitives::hex::encode_prefixed(s.to_bytes()))
        .collect();
    let (owner, manager, scoped_elsewhere, stranger) = (&keys[0], &keys[1], &keys[2], &keys[3]);
    let addr = |k: &str| cast(&["wallet", "address", "--private-key", k]).trim().to_string();
    let agent = register(&url, owner);
    let treasury = forge_create(
        &url,
        owner,
        "src/economy/AgentTreasury.sol:AgentTreasury",
        &[
            "--constructor-args",
            IDENTITY,
            "0x0000000000000000000000000000000000008008",
            PASSER,
            &agent,
        ],
    );
    cast(&["send", &treasury, "--value", "3ether", "--private-key", owner, "--rpc-url", &url]);
    let expiry = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap()
        + std::time::Duration::from_secs(86_400))
    .as_secs()
    .to_string();
    let open = |key: &str, counterparty: &str| {
        cast(&[
            "send",
            "0x0000000000000000000000000000000000008008",
            "open(uint256,address,uint64,uint256,address[])",
            &agent,
            &addr(key),
            &expiry,
            "1000000000000000000",
            &format!("[{counterparty}]"),
            "--private-key",
            owner,
            "--rpc-url",
            &url,
        ]);
    };
    open(manager, PASSER);
    // A session for something else (the board, say) is not a bridge manager.
    open(scoped_elsewhere, "0x00000000000000000000000000000000000b0a2d");
    let bridge = |key: &str, amount: &str| {
        Command::new(tool("cast"))
            .args(["send", &treasury, "bridgeToOwner(uint256,uint32)", amount, "100000"])
            .args(["--json", "--private-key", key, "--rpc-url", &url])
            .output()
            .unwrap()
    };
    let passer_before = balance(&url, PASSER);
    let ok = bridge(manager, "600000000000000000");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(balance(&url, PASSER) - passer_before, 600_000_000_000_000_000, "withdrawn");
    assert_eq!(balance(&url, &treasury), 2_400_000_000_000_000_000);
    // Past the session's 1 ether limit: refused.
    let over = bridge(manager, "600000000000000000");
    assert!(!over.status.success(), "the manager went over its limit");
    assert!(String::from_utf8_lossy(&over.stderr).contains("revert"));
    // Others: refused.
    assert!(!bridge(scoped_elsewhere, "1").status.success(), "a session for another counterparty");
    assert!(!bridge(stranger, "1").status.success(), "a key without a session");
    // The manager cannot move funds on the L2 either.
    let moved = Command::new(tool("cast"))
        .args(["send", &treasury, "withdraw(address,uint256)", &addr(manager), "1"])
        .args(["--private-key", manager, "--rpc-url", &url])
        .output()
        .unwrap();
    assert!(!moved.status.success(), "the manager withdrew on the L2");
    // The rest of its budget still goes through; the withdrawal names the owner as its target.
    let rest = bridge(manager, "400000000000000000");
    assert!(rest.status.success(), "{}", String::from_utf8_lossy(&rest.stderr));
    let receipt: Value = serde_json::from_slice(&rest.stdout).unwrap();
    let passed = receipt["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["address"].as_str().unwrap().eq_ignore_ascii_case(PASSER))
        .unwrap_or_else(|| panic!("no MessagePassed: {receipt}"));
    let target = passed["topics"][3].as_str().unwrap();
    assert!(
        target.to_lowercase().ends_with(&addr(owner)[2..].to_lowercase()),
        "the withdrawal goes to the owner: {passed}"
    );
    // The owner is not limited.
    let owner_bridge = bridge(owner, "2000000000000000000");
    assert!(owner_bridge.status.success(), "{}", String::from_utf8_lossy(&owner_bridge.stderr));
    assert_eq!(balance(&url, &treasury), 0);
}

/// Equivocation end to end: a devnet sequencer started with `--sequencer.block-signing-key`
/// signs every block it builds (`optimism_blockSignature`); a snapshot and a revert make it
/// build a second, different block at the same height — two signed blocks for one height —
/// and `agnt2 duty slash-equivocation` slashes the sequencer duty's operator, whose signer it
/// is, on those two signatures.
#[test]
fn a_sequencer_that_signs_two_blocks_at_one_height_is_slashed() {
    let keys: Vec<String> = agnt2_primitives::dev_signers(7)
        .iter()
        .map(|s| alloy_primitives::hex::encode_prefixed(s.to_bytes()))
        .collect();
    let (funder, operator, sender, reporter, block_key) =
        (&keys[0], &keys[1], &keys[2], &keys[3], &keys[6]);
    let node = Node::start(&["--sequencer.block-signing-key", block_key]);
    let url = node.url();
    let signer = cast(&["wallet", "address", "--private-key", block_key]).trim().to_string();
    let (board, verifier) = deploy_board(&url, funder, &[]);
    let funder_id = register(&url, funder);
    let operator_id = register(&url, operator);
    let with_key = |key: &str, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--l2.rpc-url", &url, "--private-key", key]);
        agnt2(&all)
    };
    let mut post = vec!["duty", "post", "--board", &board, "--funder-agent", &funder_id];
    post.extend(["--kind", "sequencer", "--rate", "1gwei", "--units-cap", "10", "--epoch", "60"]);
    post.extend(["--min-bond", "1ether", "--verifier", &verifier, "--escrow", "1gwei"]);
    let duty = with_key(funder, &post)["duty"].as_str().unwrap().to_string();
    let bond = ["bond", "--board", &board, "--agent", &operator_id, "--role", "sequencer"];
    with_key(operator, &bond.into_iter().chain(["--amount", "1ether"]).collect::<Vec<_>>());
    let accept = ["duty", "accept", "--board", &board, "--duty", &duty, "--agent", &operator_id];
    with_key(operator, &accept.into_iter().chain(["--signer", &signer]).collect::<Vec<_>>());

    // One height, two blocks.
    let block_of = |to: &str| -> (u64, String) {
        let out = cast(&["send", to, "--value", "1", "--private-key", sender, "--rpc-url", &url]);
        let hash = out
            .lines()
            .find_map(|l| l.strip_prefix("blockHash"))
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|| panic!("no blockHash in {out}"));
        let n = out.lines().find_map(|l| l.strip_prefix("blockNumber")).unwrap().trim();
        (n.parse().unwrap(), hash)
    };
    let snap = node.rpc("evm_snapshot", json!([]));
    let (na, ha) = block_of("0x00000000000000000000000000000000000000a1");
    node.rpc("evm_revert", json!([snap]));
    let (nb, hb) = block_of("0x00000000000000000000000000000000000000b2");
    assert_eq!(na, nb, "one height");
    assert_ne!(ha, hb, "two blocks");
    let sig = node.rpc("optimism_blockSignature", json!([ha]));
    assert_eq!(sig["signer"].as_str().unwrap().to_lowercase(), signer.to_lowercase(), "{sig}");
    assert_eq!(sig["number"], na);
    // A block this node did not sign has no signature.
    let unknown =
        node.rpc_raw("optimism_blockSignature", json!([format!("0x{}", "11".repeat(32))]));
    assert!(unknown.get("error").is_some(), "{unknown}");

    // The same block twice is no evidence; the two are.
    let mut same = vec!["duty", "slash-equivocation", "--board", &board, "--duty", &duty];
    same.extend([
        "--hash-a",
        &ha,
        "--hash-b",
        &ha,
        "--l2.rpc-url",
        &url,
        "--private-key",
        reporter,
    ]);
    agnt2_fails(&same);
    let mut slash = vec!["duty", "slash-equivocation", "--board", &board, "--duty", &duty];
    slash.extend(["--hash-a", &ha, "--hash-b", &hb]);
    let s = with_key(reporter, &slash);
    assert_eq!(s["height"], na, "{s}");
    assert_eq!(s["amount"], "1000000000000000000", "{s}");
    assert_eq!(s["operatorAgent"], operator_id, "{s}");
}
