//! The proposer: posts the L2's output roots to the L2OutputOracle at its submission interval.
//!
//! Each step asks the oracle for the next block it expects (`nextBlockNumber`), and once the L2
//! has that block and the oracle's clock allows it (`computeL2Timestamp(n) < L1 time`), sends
//! `proposeL2Output(outputRoot, n, 0, 0)` with the root from the node's `optimism_outputAtBlock`.

use agnt2_client::Client;
use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use eyre::{WrapErr, eyre};
use serde_json::json;

alloy_sol_types::sol! {
    /// The oracle calls the proposer makes.
    interface IL2OutputOracle {
        function nextBlockNumber() external view returns (uint256);
        function computeL2Timestamp(uint256 l2BlockNumber) external view returns (uint256);
        function proposeL2Output(bytes32 outputRoot, uint256 l2BlockNumber, bytes32 l1BlockHash, uint256 l1BlockNumber) external payable;
    }
}

/// A proposal sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    /// The L2 block.
    pub l2_block: u64,
    /// Its output root.
    pub output_root: B256,
    /// The L1 transaction.
    pub tx: B256,
}

/// Proposes output roots of `l2` to the oracle on `l1`.
#[derive(Debug)]
pub struct Proposer {
    l1: Client,
    l2: Client,
    oracle: Address,
    key: PrivateKeySigner,
    /// The oracle's next block as last read (it moves only when an output is proposed).
    next: std::cell::Cell<Option<u64>>,
}

impl Proposer {
    /// A proposer signing with `key` (the oracle's proposer).
    pub fn new(l1: Client, l2: Client, oracle: Address, key: PrivateKeySigner) -> Self {
        Self { l1, l2, oracle, key, next: std::cell::Cell::new(None) }
    }

    /// Proposes the next output if it is due; `None` when there is nothing to do yet.
    ///
    /// Asks the L2 first (its safe head) and the L1 only once that block is there: the L1 is
    /// often a hosted endpoint that counts requests.
    pub fn step(&self) -> eyre::Result<Option<Proposal>> {
        let safe = self.l2.safe_block_number()?;
        if let Some(next) = self.next.get()
            && safe < next
        {
            return Ok(None);
        }
        let next = self.l1.view(self.oracle, &IL2OutputOracle::nextBlockNumberCall {})?;
        let next_n = u64::try_from(next).map_err(|_| eyre!("next block {next} out of range"))?;
        self.next.set(Some(next_n));
        // Only what the L1 already holds the batches of: a proposal of an unsafe block would
        // commit to a chain no one can derive.
        if safe < next_n {
            return Ok(None);
        }
        let due = self
            .l1
            .view(self.oracle, &IL2OutputOracle::computeL2TimestampCall { l2BlockNumber: next })?;
        if due >= U256::from(self.l1.latest_timestamp()?) {
            return Ok(None);
        }
        let out = self.l2.call("optimism_outputAtBlock", json!([format!("0x{next_n:x}")]))?;
        let root: B256 =
            serde_json::from_value(out["outputRoot"].clone()).wrap_err("outputRoot")?;
        let call = IL2OutputOracle::proposeL2OutputCall {
            outputRoot: root,
            l2BlockNumber: next,
            l1BlockHash: B256::ZERO,
            l1BlockNumber: U256::ZERO,
        };
        let tx = self
            .l1
            .transact(&self.key, Some(self.oracle), U256::ZERO, call.abi_encode())
            .wrap_err_with(|| format!("proposing the output of L2 block {next_n}"))?;
        Ok(Some(Proposal { l2_block: next_n, output_root: root, tx }))
    }
}
