//! `agnt2 monitor --act` on a `launch` decision: run `agnt2 launch` as a process of its own
//! (it outlives the monitor), bridge the agent's funds to the new L2, and hire for it — deploy
//! a duty board and post the duties of a plan file as the agent.

use agnt2_client::{Client, parse_amount};
use agnt2_economy::{Board, NewDuty, role};
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, bail, eyre};
use serde::Deserialize;
use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// What to hire for a launched chain (`--launch.plan`, JSON, camelCase; unknown fields are an
/// error).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Plan {
    /// The agent's registration URI on the new chain.
    #[serde(default = "default_uri")]
    agent_uri: String,
    /// The board's parameters.
    #[serde(default)]
    board: BoardPlan,
    /// The duties to post.
    #[serde(default)]
    duties: Vec<DutyPlan>,
}

fn default_uri() -> String {
    "agnt2://launched-by-monitor".into()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct BoardPlan {
    unbond_delay: u64,
    claim_grace: u64,
    missed_limit: u64,
    reporter_bps: u16,
    quorum: u8,
    /// Wei or with a unit.
    min_prober_bond: String,
}

impl Default for BoardPlan {
    fn default() -> Self {
        Self {
            unbond_delay: 7 * 24 * 3600,
            claim_grace: 24 * 3600,
            missed_limit: 3,
            reporter_bps: 1_000,
            quorum: 3,
            min_prober_bond: "0".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DutyPlan {
    kind: String,
    #[serde(default)]
    spec: String,
    rate: String,
    units_cap: u64,
    epoch: u64,
    min_bond: String,
    /// `0` for a duty paid over a channel (`agnt2 duty stream`).
    escrow: String,
}

impl Plan {
    /// Reads and checks a plan (amounts and kinds parse) before anything is launched.
    pub(crate) fn load(path: &Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let plan: Self = serde_json::from_str(&text)
            .wrap_err_with(|| format!("{} is not a launch plan", path.display()))?;
        parse_amount(&plan.board.min_prober_bond).wrap_err("board.minProberBond")?;
        for d in &plan.duties {
            role(&d.kind)?;
            for a in [&d.rate, &d.min_bond, &d.escrow] {
                parse_amount(a).wrap_err_with(|| format!("duty {:?}", d.kind))?;
            }
        }
        Ok(plan)
    }
}

/// Starts `agnt2 launch --l1.rpc-url L1 --datadir DIR ARGS…` in its own process group (it keeps
/// running after the monitor exits; its pid is in `DIR/launch.pid`, its log in
/// `DIR/launch.log`) and waits for its JSON-RPC; the URL.
pub(crate) fn start(l1: &str, dir: &Path, args: &[String]) -> eyre::Result<(String, u32)> {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    let out_path = dir.join("launch.out");
    let out = std::fs::File::create(&out_path)?;
    let log = std::fs::File::create(dir.join("launch.log"))?;
    let mut child = Command::new(std::env::current_exe()?)
        .arg("launch")
        .args(["--l1.rpc-url", l1, "--datadir"])
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(log)
        .process_group(0)
        .spawn()
        .wrap_err("starting agnt2 launch")?;
    let pid = child.id();
    std::fs::write(dir.join("launch.pid"), format!("{pid}\n"))?;
    let started = Instant::now();
    loop {
        let printed = std::fs::read_to_string(&out_path).unwrap_or_default();
        if let Some(addr) = printed.lines().find_map(|l| l.strip_prefix("Listening on ")) {
            return Ok((format!("http://{}", addr.trim()), pid));
        }
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(dir.join("launch.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            bail!(
                "agnt2 launch exited ({status}) before serving:\n{printed}\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("agnt2 launch did not serve JSON-RPC within 5 minutes (see {})", dir.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// On the launched chain at `l2`: registers the agent, deploys a board, posts the plan's
/// duties; what was done.
pub(crate) fn hire(
    l2: &str,
    key: &PrivateKeySigner,
    plan: &Plan,
    artifacts: &Path,
) -> eyre::Result<Value> {
    let client = Client::new(l2)?;
    let (agent, _) = agnt2_sidecar::register::ensure_registered(&client, key, &plan.agent_uri)
        .wrap_err("registering the agent on the new chain")?;
    let b = &plan.board;
    let params = (b.unbond_delay, b.claim_grace, b.missed_limit, b.reporter_bps, b.quorum);
    let min_prober_bond = parse_amount(&b.min_prober_bond)?;
    let extra = (min_prober_bond, alloy_primitives::Address::ZERO);
    let (board, verifier) = crate::duty::deploy(&client, key, artifacts, params, extra)?;
    let on = Board::at(client, board);
    let mut duties = Vec::new();
    for d in &plan.duties {
        let id = on
            .post(
                key,
                &NewDuty {
                    funder_agent: agent,
                    kind: role(&d.kind)?,
                    spec: d.spec.clone(),
                    rate: parse_amount(&d.rate)?,
                    units_cap: d.units_cap,
                    epoch: d.epoch,
                    min_bond: parse_amount(&d.min_bond)?,
                    verifier,
                    escrow: parse_amount(&d.escrow)?,
                },
            )
            .wrap_err_with(|| format!("posting the {} duty", d.kind))?;
        duties.push(json!({ "duty": id.to_string(), "kind": d.kind }));
    }
    Ok(json!({
        "agent": agent.to_string(),
        "board": board,
        "verifier": verifier,
        "duties": duties,
    }))
}

/// The datadir and plan of a launch, when the monitor may perform one.
#[derive(Debug)]
pub(crate) struct LaunchAct {
    pub(crate) datadir: PathBuf,
    pub(crate) plan: Option<Plan>,
}

impl LaunchAct {
    /// The launch as a whole: start, bridge, hire.
    pub(crate) fn run(
        &self,
        l1: &str,
        args: &[String],
        key: &PrivateKeySigner,
        bridge: impl FnOnce(&str) -> eyre::Result<Value>,
        artifacts: &Path,
    ) -> eyre::Result<Value> {
        let (url, pid) = start(l1, &self.datadir, args)?;
        let bridged = bridge(&url).map_err(|e| eyre!("bridging to the launched chain: {e:#}"))?;
        let hired = match &self.plan {
            Some(plan) => hire(&url, key, plan, artifacts)?,
            None => Value::Null,
        };
        Ok(json!({
            "launched": url,
            "pid": pid,
            "datadir": self.datadir,
            "bridge": bridged,
            "hired": hired,
        }))
    }
}
