//! Withdrawals (OP withdrawals spec): initiated on L2 at the L2ToL1MessagePasser, proven on L1
//! against a proposed output root with an `eth_getProof` of the message's storage slot, then
//! finalized on L1 after the finalization period.

use agnt2_client::Client;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use eyre::{WrapErr, bail, eyre};
use serde_json::{Value, json};

/// The L2ToL1MessagePasser predeploy.
pub const MESSAGE_PASSER: Address =
    Address::new([0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16]);

alloy_sol_types::sol! {
    /// The message passer's event.
    event MessagePassed(uint256 indexed nonce, address indexed sender, address indexed target, uint256 value, uint256 gasLimit, bytes data, bytes32 withdrawalHash);

    /// A withdrawal as the portal takes it (`Types.WithdrawalTransaction`).
    #[derive(Debug, PartialEq, Eq)]
    struct WithdrawalTransaction {
        uint256 nonce;
        address sender;
        address target;
        uint256 value;
        uint256 gasLimit;
        bytes data;
    }

    /// `Types.OutputRootProof`.
    #[derive(Debug, PartialEq, Eq)]
    struct OutputRootProof {
        bytes32 version;
        bytes32 stateRoot;
        bytes32 messagePasserStorageRoot;
        bytes32 latestBlockhash;
    }

    /// The L1 and L2 calls of a withdrawal.
    interface IWithdrawals {
        function initiateWithdrawal(address target, uint256 gasLimit, bytes data) external payable;
        function getL2OutputIndexAfter(uint256 l2BlockNumber) external view returns (uint256);
        function latestBlockNumber() external view returns (uint256);
        function getL2Output(uint256 index) external view returns (bytes32 outputRoot, uint128 timestamp, uint128 l2BlockNumber);
        function proveWithdrawalTransaction(WithdrawalTransaction tx, uint256 l2OutputIndex, OutputRootProof outputRootProof, bytes[] withdrawalProof) external;
        function finalizeWithdrawalTransaction(WithdrawalTransaction tx) external;
        function provenWithdrawals(bytes32 withdrawalHash) external view returns (bytes32 outputRoot, uint128 timestamp, uint128 l2OutputIndex);
        function finalizedWithdrawals(bytes32 withdrawalHash) external view returns (bool);
        function FINALIZATION_PERIOD_SECONDS() external view returns (uint256);
    }
}

/// A withdrawal initiated on L2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// The message, as the portal takes it.
    pub tx: WithdrawalTransaction,
    /// Its hash (the message passer's key).
    pub hash: B256,
    /// The L2 block that initiated it.
    pub l2_block: u64,
}

/// The withdrawal hash: `keccak256(abi.encode(nonce, sender, target, value, gasLimit, data))`.
pub fn withdrawal_hash(tx: &WithdrawalTransaction) -> B256 {
    keccak256(
        (tx.nonce, tx.sender, tx.target, tx.value, tx.gasLimit, tx.data.clone())
            .abi_encode_params(),
    )
}

/// The withdrawal an L2 transaction initiated (its `MessagePassed` event).
pub fn from_l2_tx(l2: &Client, hash: B256) -> eyre::Result<Withdrawal> {
    let r = l2.call("eth_getTransactionReceipt", json!([hash]))?;
    if r.is_null() {
        bail!("no L2 receipt for {hash}");
    }
    if r["status"] != json!("0x1") {
        bail!("L2 transaction {hash} reverted: it initiated no withdrawal");
    }
    let l2_block = agnt2_client::hex_u64(&r["blockNumber"])?;
    for log in r["logs"].as_array().into_iter().flatten() {
        let addr: Address = serde_json::from_value(log["address"].clone())?;
        let topics: Vec<B256> = serde_json::from_value(log["topics"].clone())?;
        if addr != MESSAGE_PASSER || topics.first() != Some(&MessagePassed::SIGNATURE_HASH) {
            continue;
        }
        let data: Bytes = serde_json::from_value(log["data"].clone())?;
        let ev = MessagePassed::decode_raw_log(topics, &data)
            .map_err(|e| eyre!("bad MessagePassed: {e}"))?;
        let tx = WithdrawalTransaction {
            nonce: ev.nonce,
            sender: ev.sender,
            target: ev.target,
            value: ev.value,
            gasLimit: ev.gasLimit,
            data: ev.data,
        };
        let computed = withdrawal_hash(&tx);
        if computed != ev.withdrawalHash {
            bail!("the event's withdrawal hash {} is not {computed}", ev.withdrawalHash);
        }
        return Ok(Withdrawal { tx, hash: computed, l2_block });
    }
    bail!("L2 transaction {hash} initiated no withdrawal (no MessagePassed event)")
}

/// What the L1 knows of a withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The L2 block of the newest output root (none proposed: `None`).
    pub latest_output_block: Option<u64>,
    /// Proven at this L1 timestamp (0: not proven).
    pub proven_at: u64,
    /// The withdrawal may be finalized from this L1 timestamp on (when proven).
    pub finalizable_at: Option<u64>,
    /// Finalized on L1.
    pub finalized: bool,
}

/// The L1 status of `w` with the portal and oracle at these addresses.
pub fn status(
    l1: &Client,
    portal: Address,
    oracle: Address,
    w: &Withdrawal,
) -> eyre::Result<Status> {
    let latest = l1.view(oracle, &IWithdrawals::latestBlockNumberCall {})?;
    let proven =
        l1.view(portal, &IWithdrawals::provenWithdrawalsCall { withdrawalHash: w.hash })?;
    let period = l1.view(oracle, &IWithdrawals::FINALIZATION_PERIOD_SECONDSCall {})?;
    let finalized =
        l1.view(portal, &IWithdrawals::finalizedWithdrawalsCall { withdrawalHash: w.hash })?;
    let proven_at = u64::try_from(proven.timestamp).unwrap_or(u64::MAX);
    Ok(Status {
        latest_output_block: (latest > U256::ZERO).then(|| latest.saturating_to()),
        proven_at,
        finalizable_at: (proven_at > 0).then(|| proven_at.saturating_add(period.saturating_to())),
        finalized,
    })
}

/// Proves `w` on L1 against the first output root at or after its L2 block.
pub fn prove(
    l1: &Client,
    l2: &Client,
    portal: Address,
    oracle: Address,
    key: &PrivateKeySigner,
    w: &Withdrawal,
) -> eyre::Result<B256> {
    let latest = l1.view(oracle, &IWithdrawals::latestBlockNumberCall {})?;
    if latest < U256::from(w.l2_block) {
        bail!(
            "no output root covers L2 block {} yet (the latest is for block {latest}); wait for the proposer",
            w.l2_block
        );
    }
    let index = l1.view(
        oracle,
        &IWithdrawals::getL2OutputIndexAfterCall { l2BlockNumber: U256::from(w.l2_block) },
    )?;
    let output = l1.view(oracle, &IWithdrawals::getL2OutputCall { index })?;
    let block: u64 =
        u64::try_from(output.l2BlockNumber).map_err(|_| eyre!("output block out of range"))?;
    let b = l2.call("eth_getBlockByNumber", json!([format!("0x{block:x}"), false]))?;
    if b.is_null() {
        bail!("the L2 node does not have block {block}");
    }
    let field = |k: &str| -> eyre::Result<B256> {
        serde_json::from_value(b[k].clone()).wrap_err_with(|| format!("block {block} {k}"))
    };
    let proof_of_root = OutputRootProof {
        version: B256::ZERO,
        stateRoot: field("stateRoot")?,
        messagePasserStorageRoot: field("withdrawalsRoot")?,
        latestBlockhash: field("hash")?,
    };
    let slot = keccak256((w.hash, U256::ZERO).abi_encode());
    let p = l2.call("eth_getProof", json!([MESSAGE_PASSER, [slot], format!("0x{block:x}")]))?;
    let storage: Vec<Value> =
        serde_json::from_value(p["storageProof"].clone()).wrap_err("storageProof")?;
    let entry = storage.first().ok_or_else(|| eyre!("no storage proof returned"))?;
    if entry["value"] != json!("0x1") {
        bail!("the message passer does not hold withdrawal {} at L2 block {block}", w.hash);
    }
    let proof: Vec<Bytes> =
        serde_json::from_value(entry["proof"].clone()).wrap_err("proof nodes")?;
    let c = IWithdrawals::proveWithdrawalTransactionCall {
        tx: w.tx.clone(),
        l2OutputIndex: index,
        outputRootProof: proof_of_root,
        withdrawalProof: proof,
    };
    l1.transact(key, Some(portal), U256::ZERO, c.abi_encode())
}

/// Finalizes a proven withdrawal on L1 (after the finalization period).
pub fn finalize(
    l1: &Client,
    portal: Address,
    key: &PrivateKeySigner,
    w: &Withdrawal,
) -> eyre::Result<B256> {
    let c = IWithdrawals::finalizeWithdrawalTransactionCall { tx: w.tx.clone() };
    l1.transact(key, Some(portal), U256::ZERO, c.abi_encode())
}

/// Initiates a withdrawal on L2: `value` to `target` on L1 with `data`.
pub fn initiate(
    l2: &Client,
    key: &PrivateKeySigner,
    target: Address,
    value: U256,
    gas_limit: u64,
    data: Bytes,
) -> eyre::Result<B256> {
    let c = IWithdrawals::initiateWithdrawalCall { target, gasLimit: U256::from(gas_limit), data };
    l2.transact(key, Some(MESSAGE_PASSER), value, c.abi_encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdrawal_hash_is_the_abi_encoding_of_the_message() {
        let tx = WithdrawalTransaction {
            nonce: U256::from(1) << 240,
            sender: Address::with_last_byte(1),
            target: Address::with_last_byte(2),
            value: U256::from(3),
            gasLimit: U256::from(4),
            data: Bytes::from_static(b"x"),
        };
        // abi.encode of the struct's fields == abi.encode(struct) minus the leading offset.
        let as_struct = tx.abi_encode();
        assert_eq!(withdrawal_hash(&tx), keccak256(&as_struct[32..]));
    }
}
