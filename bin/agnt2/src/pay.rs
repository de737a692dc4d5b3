//! `agnt2 pay <url>`: a curl-like request to a service behind agnt2-sidecar that pays a `402`
//! over the caller's open channel to the service (the `agnt2-channel` scheme, docs/sidecar.md).

use crate::channel::Saved;
use agnt2_channels::Key;
use agnt2_sidecar::{
    payer::Payer,
    scheme::{self, PaymentRequired},
};
use alloy_primitives::{Address, B256, U256};
use bytes::Bytes;
use clap::Args;
use eyre::{WrapErr, bail, eyre};
use std::{io::Write, path::PathBuf};

/// Options of `agnt2 pay`.
#[derive(Debug, Args)]
pub(crate) struct PayArgs {
    /// The URL.
    url: String,
    /// HTTP method.
    #[arg(short = 'X', long = "request", default_value = "GET")]
    method: String,
    /// A header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Request body (`@file` reads a file).
    #[arg(short = 'd', long = "data")]
    data: Option<String>,
    /// Print the response status and headers before the body.
    #[arg(short = 'i', long = "include")]
    include: bool,
    /// The channel to pay with (default: the one in --state-dir to the service's address).
    #[arg(long)]
    channel: Option<B256>,
    /// Pay at most this per request (wei or with a unit). Default: 0.001 ether.
    #[arg(long = "max-price", alias = "max-amount")]
    max_amount: Option<String>,
    /// Your key (side A of the channel).
    #[command(flatten)]
    key: agnt2_cli::PrivateKeyArgs,
    /// Where `agnt2 channel` keeps channel states.
    #[arg(long = "state-dir", default_value = ".agnt2/channels")]
    state_dir: PathBuf,
    /// Send the request this many times (each paid), printing the last response.
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// Afterwards, rate the service's agent in the Reputation precompile (ERC-8004):
    /// `reachable` (percent of requests answered without a server error) and `responseTime`
    /// (mean milliseconds), from your key.
    #[arg(long)]
    feedback: bool,
    /// The rollup's JSON-RPC (for --feedback, and to check a service that countersigns with a
    /// session key).
    #[command(flatten)]
    l2: agnt2_cli::L2RpcArgs,
}

/// Runs `agnt2 pay`.
pub(crate) fn run(args: PayArgs) -> eyre::Result<()> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(run_async(args))
}

async fn run_async(args: PayArgs) -> eyre::Result<()> {
    let key = Key::from_hex(args.key.hex()?).wrap_err("--private-key")?;
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| eyre!("header {h:?} is not `Name: value`"))
        })
        .collect::<eyre::Result<Vec<_>>>()?;
    let body = match &args.data {
        Some(d) if d.starts_with('@') => {
            Bytes::from(std::fs::read(&d[1..]).wrap_err_with(|| format!("reading {}", &d[1..]))?)
        }
        Some(d) => Bytes::from(d.clone()),
        None => Bytes::new(),
    };
    let method = args.method.to_ascii_uppercase();
    let uri: hyper::Uri = args.url.parse().wrap_err_with(|| format!("URL {}", args.url))?;
    let pq = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();

    // Ask once without paying: a free route answers, a priced one says what it costs.
    let probe = agnt2_sidecar::payer::plain_request(&method, &args.url, &headers, body.clone())
        .await
        .map_err(|e| eyre!("{e}"))?;
    if probe.status != hyper::StatusCode::PAYMENT_REQUIRED {
        return print(&probe, args.include);
    }
    let required: PaymentRequired = probe
        .headers
        .get(scheme::PAYMENT_REQUIRED)
        .ok_or_else(|| eyre!("402 without a PAYMENT-REQUIRED header"))
        .and_then(|h| scheme::decode(h.as_bytes()).map_err(|e| eyre!("PAYMENT-REQUIRED: {e}")))?;
    let r = required
        .accepts
        .iter()
        .find(|r| r.scheme == scheme::SCHEME)
        .ok_or_else(|| eyre!("the service takes no {} payment", scheme::SCHEME))?;
    let saved = match args.channel {
        Some(id) => Saved::load(&args.state_dir, &id)?,
        None => find_channel(&args.state_dir, &key, r.pay_to, r.asset)?,
    };
    let id = saved.params.id();
    let signer_key = alloy_signer_local::PrivateKeySigner::from_bytes(&key.secret_bytes())?;
    let mut payer = Payer::new(key, saved.params, saved.latest).map_err(|e| eyre!("{e}"))?;
    payer.set_deposits(saved.deposits);
    if let Some(m) = &args.max_amount {
        payer.max_amount = agnt2_client::parse_amount(m)?;
    }
    payer.remember(&method, &pq, r);
    if let Some(signer) = r.extra.get("signer").and_then(|v| v.as_str()) {
        let signer: Address = signer.parse().map_err(|e| eyre!("the service's signer: {e}"))?;
        if signer != saved.params.b {
            admit_session_signer(&args.l2.l2_rpc_url, &saved.params, signer, &signer_key).await?;
            payer.allow_countersigner(signer);
        }
    }
    let mut last = None;
    let mut total = U256::ZERO;
    let (mut answered, mut elapsed) = (0u64, std::time::Duration::ZERO);
    let agent_id = r.extra.get("agentId").and_then(|v| v.as_str()).map(str::to_string);
    let n = args.count.max(1);
    for _ in 0..n {
        let t = std::time::Instant::now();
        let res = payer.request(&method, &args.url, &headers, body.clone()).await;
        elapsed += t.elapsed();
        answered += u64::from(res.as_ref().is_ok_and(|p| !p.status.is_server_error()));
        // Whatever happened, keep the newest co-signed state.
        Saved { params: saved.params, deposits: saved.deposits, latest: payer.latest().clone() }
            .save(&args.state_dir)?;
        let paid = res.map_err(|e| eyre!("{e}"))?;
        total += paid.paid;
        last = Some(paid);
    }
    let last = last.ok_or_else(|| eyre!("no request was made"))?;
    let token = saved.params.token;
    let unit = if token.is_zero() { "wei".to_string() } else { format!("of token {token}") };
    eprintln!("paid {total} {unit} over channel {id} (version {})", payer.latest().state.version);
    if args.feedback {
        let agent: U256 = agent_id
            .ok_or_else(|| eyre!("the service names no agent id to rate"))?
            .parse()
            .map_err(|e| eyre!("the service's agent id: {e}"))?;
        let reachable = u8::try_from(answered * 100 / n).unwrap_or(100);
        let mean_ms = elapsed.as_millis() as u64 / n;
        let (url, endpoint) = (args.l2.l2_rpc_url.clone(), args.url.clone());
        let txs = tokio::task::spawn_blocking(move || {
            agnt2_sidecar::register::give_feedback(
                &agnt2_client::Client::new(&url)?,
                &signer_key,
                agent,
                &endpoint,
                reachable,
                mean_ms,
            )
        })
        .await??;
        eprintln!(
            "rated agent {agent}: reachable {reachable}, responseTime {mean_ms} ms (tx {})",
            txs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        );
    }
    print(&last, args.include)
}

/// The caller's channel to `pay_to` among the saved ones.
fn find_channel(
    dir: &std::path::Path,
    key: &Key,
    pay_to: Address,
    asset: Address,
) -> eyre::Result<Saved> {
    let open = if asset.is_zero() {
        format!("agnt2 channel open --to {pay_to}")
    } else {
        format!("agnt2 channel open --to {pay_to} --token {asset}")
    };
    let entries = std::fs::read_dir(dir)
        .wrap_err_with(|| format!("no channel states in {} ({open})", dir.display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(id) = name.strip_suffix(".json").and_then(|n| n.parse::<B256>().ok()) else {
            continue;
        };
        if let Ok(s) = Saved::load(dir, &id)
            && s.params.a == key.address()
            && s.params.b == pay_to
            && s.params.token == asset
        {
            return Ok(s);
        }
    }
    let what = if asset.is_zero() { "ETH".to_string() } else { format!("token {asset}") };
    bail!("no {what} channel from {} to {pay_to} in {} ({open})", key.address(), dir.display())
}

fn print(p: &agnt2_sidecar::payer::Paid, include: bool) -> eyre::Result<()> {
    let mut out = std::io::stdout().lock();
    if include {
        writeln!(out, "HTTP {}", p.status)?;
        for (k, v) in &p.headers {
            writeln!(out, "{k}: {}", v.to_str().unwrap_or("<binary>"))?;
        }
        writeln!(out)?;
    }
    out.write_all(&p.body)?;
    out.flush()?;
    if !p.status.is_success() {
        bail!("HTTP {}", p.status);
    }
    Ok(())
}

/// A service that countersigns with a session key (`extra.signer`): its countersignatures count
/// on chain once the key is admitted to the service's side of the channel. An unadmitted key
/// that holds a valid session of the agent the channel names for the service (for this payer)
/// is admitted here, with cap 0 (the service only receives), from the payer's key.
async fn admit_session_signer(
    l2_url: &str,
    params: &agnt2_channels::ChannelParams,
    signer: Address,
    payer: &alloy_signer_local::PrivateKeySigner,
) -> eyre::Result<()> {
    use agnt2_channels::{
        Adjudicator, Side,
        l2::{ChannelCalls, L2},
    };
    use alloy_sol_types::SolCall;
    let (url, params, payer) = (l2_url.to_string(), *params, payer.clone());
    tokio::task::spawn_blocking(move || {
        let l2 = L2::new(&url)?;
        let id = params.id();
        match l2.admitted(params.adjudicator, id, signer)? {
            Some(a) if a.side == Side::B => return Ok(()),
            Some(_) => bail!("the service's signer {signer} is admitted for the payer's side"),
            None => {}
        }
        let onchain = l2
            .channel(params.adjudicator, id)
            .wrap_err_with(|| format!("reading the channel from {url} (--l2.rpc-url)"))?;
        if onchain.agentB.is_zero() {
            bail!(
                "the service countersigns with the session key {signer}, but the channel names no \
                 agent for it: open one with --to-agent <extra.agentId>"
            );
        }
        if !l2.session_valid(onchain.agentB, signer, params.a)? {
            bail!(
                "the service countersigns with {signer}, which holds no valid session of agent {} \
                 for {}",
                onchain.agentB,
                params.a
            );
        }
        let call = Adjudicator::admitCall { id, key: signer, cap: U256::ZERO };
        let tx = l2
            .transact(&payer, Some(params.adjudicator), U256::ZERO, call.abi_encode())
            .wrap_err_with(|| format!("admitting the service's session key {signer} to {id}"))?;
        eprintln!("admitted the service's session key {signer} to channel {id} (tx {tx})");
        Ok(())
    })
    .await?
}
