//! The service's ERC-8004 identity: registered in the Identity precompile (0x8004) under the
//! sidecar's key, with its agentURI pointing at the registration file the sidecar serves.

use agnt2_channels::l2::IDENTITY;
use agnt2_client::Client;
use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use eyre::{WrapErr, bail};
use serde_json::{Value, json};

alloy_sol_types::sol! {
    /// The Identity precompile calls the sidecar makes.
    interface IIdentity {
        event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
        function register(string agentURI) external returns (uint256 agentId);
        function setAgentURI(uint256 agentId, string newURI) external;
        function balanceOf(address owner) external view returns (uint256);
        function tokenOfOwnerByIndex(address owner, uint256 index) external view returns (uint256);
        function tokenURI(uint256 tokenId) external view returns (string memory);
    }
}

alloy_sol_types::sol! {
    /// The Reputation precompile call a client makes.
    interface IReputation {
        function giveFeedback(uint256 agentId, int128 value, uint8 valueDecimals, string tag1, string tag2, string endpoint, string feedbackURI, bytes32 feedbackHash) external;
    }
}

/// The Reputation precompile (ERC-8004 ReputationRegistry).
pub const REPUTATION: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x05]);

/// A client's ERC-8004 feedback on a service it paid: `reachable` (100 when every request was
/// answered without a server error, else the share that was, in percent) and `responseTime`
/// (the mean, in milliseconds), each a `giveFeedback` with `endpoint` = the URL. Returns the
/// transactions.
pub fn give_feedback(
    l2: &Client,
    client: &PrivateKeySigner,
    agent_id: U256,
    endpoint: &str,
    reachable_pct: u8,
    response_ms: u64,
) -> eyre::Result<Vec<B256>> {
    let mut txs = Vec::new();
    for (tag, value) in
        [("reachable", i128::from(reachable_pct)), ("responseTime", i128::from(response_ms))]
    {
        let call = IReputation::giveFeedbackCall {
            agentId: agent_id,
            value,
            valueDecimals: 0,
            tag1: tag.into(),
            tag2: String::new(),
            endpoint: endpoint.into(),
            feedbackURI: String::new(),
            feedbackHash: B256::ZERO,
        };
        // `transact` fails on a reverted transaction.
        let tx = l2
            .transact(client, Some(REPUTATION), U256::ZERO, call.abi_encode())
            .wrap_err_with(|| format!("giving {tag} feedback"))?;
        txs.push(tx);
    }
    Ok(txs)
}

/// Where the registration file is served.
pub const REGISTRATION_PATH: &str = "/.well-known/agent-registration.json";

/// The agent id the key owns (its first), registering with `uri` when it owns none, and
/// updating the agentURI when it differs. Returns the id and whether anything was sent.
pub fn ensure_registered(
    l2: &Client,
    signer: &PrivateKeySigner,
    uri: &str,
) -> eyre::Result<(U256, bool)> {
    let me = signer.address();
    let count = l2.view(IDENTITY, &IIdentity::balanceOfCall { owner: me })?;
    if count.is_zero() {
        let receipt = l2
            .transact_receipt(
                signer,
                Some(IDENTITY),
                U256::ZERO,
                IIdentity::registerCall { agentURI: uri.into() }.abi_encode(),
            )
            .wrap_err("registering the agent")?;
        for log in receipt.logs() {
            let topics = log.topics();
            if topics.first() == Some(&IIdentity::Registered::SIGNATURE_HASH) && topics.len() > 1 {
                return Ok((U256::from_be_bytes(topics[1].0), true));
            }
        }
        bail!("the registration {} emitted no Registered event", receipt.transaction_hash);
    }
    let id =
        l2.view(IDENTITY, &IIdentity::tokenOfOwnerByIndexCall { owner: me, index: U256::ZERO })?;
    let current = l2.view(IDENTITY, &IIdentity::tokenURICall { tokenId: id })?;
    if current == uri {
        return Ok((id, false));
    }
    let tx = l2.transact(
        signer,
        Some(IDENTITY),
        U256::ZERO,
        IIdentity::setAgentURICall { agentId: id, newURI: uri.into() }.abi_encode(),
    )?;
    l2.wait_receipt(tx, std::time::Duration::from_secs(30))?;
    Ok((id, true))
}

/// The ERC-8004 registration file of the service.
pub fn registration_file(
    name: &str,
    description: &str,
    endpoint: &str,
    chain_id: u64,
    agent_id: Option<U256>,
    pay_to: Address,
) -> Value {
    let registrations: Vec<Value> = agent_id
        .map(|id| {
            json!({
                "agentId": u64::try_from(id).map_or_else(|_| json!(id.to_string()), |n| json!(n)),
                "agentRegistry": format!("eip155:{chain_id}:{IDENTITY}"),
            })
        })
        .into_iter()
        .collect();
    json!({
        "type": "https://eips.ethereum.org/EIPS/eip-8004#registration-v1",
        "name": name,
        "description": description,
        "image": "",
        "services": [{"name": "web", "endpoint": endpoint}],
        "x402Support": true,
        "active": true,
        "registrations": registrations,
        "supportedTrust": ["reputation"],
        "agentWallet": pay_to,
    })
}
