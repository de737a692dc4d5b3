//! The chain spec: chain id, hardforks, fee rules and the genesis of a chain.

use crate::Header;
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, constants::EMPTY_ROOT_HASH};
use alloy_eips::{eip1559::BaseFeeParams, eip7685::EMPTY_REQUESTS_HASH};
use alloy_genesis::Genesis;
use alloy_hardforks::ForkCondition;
use alloy_op_hardforks::{OpChainHardforks, OpHardfork};
use alloy_primitives::{B64, B256, Bytes};
use std::path::Path;

/// Errors of loading a chain spec.
#[derive(Debug, thiserror::Error)]
pub enum ChainSpecError {
    /// The genesis file could not be read.
    #[error("cannot read genesis file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The genesis JSON is malformed.
    #[error("malformed genesis JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A setting agnt2 needs is missing or unsupported.
    #[error("unsupported genesis: {0}")]
    Unsupported(String),
}

/// The OP hardforks agnt2 runs, in activation order, with the genesis config key of each.
const OP_FORKS: [(OpHardfork, &str); 8] = [
    (OpHardfork::Regolith, "regolithTime"),
    (OpHardfork::Canyon, "canyonTime"),
    (OpHardfork::Ecotone, "ecotoneTime"),
    (OpHardfork::Fjord, "fjordTime"),
    (OpHardfork::Granite, "graniteTime"),
    (OpHardfork::Holocene, "holoceneTime"),
    (OpHardfork::Isthmus, "isthmusTime"),
    (OpHardfork::Jovian, "jovianTime"),
];

/// Everything the node needs to know about a chain.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// The genesis as loaded.
    pub genesis: Genesis,
    /// OP (and implied Ethereum) hardfork activations.
    pub hardforks: OpChainHardforks,
    /// EIP-1559 parameters after Canyon.
    pub base_fee_params: BaseFeeParams,
    /// Jovian minimum base fee (wei), written into every header's extra data.
    pub min_base_fee: u64,
}

impl ChainSpec {
    /// The devnet chain embedded in the binary (`genesis/devnet.json`).
    pub fn devnet() -> Self {
        // The embedded file is checked by the tests of this crate, so it always parses.
        Self::from_json(include_str!("../../../genesis/devnet.json")).expect("embedded genesis")
    }

    /// Loads a geth-style genesis file.
    pub fn from_file(path: &Path) -> Result<Self, ChainSpecError> {
        let raw = std::fs::read_to_string(path)
            .map_err(|source| ChainSpecError::Read { path: path.display().to_string(), source })?;
        Self::from_json(&raw)
    }

    /// Parses a geth-style genesis JSON. agnt2 runs every OP hardfork through Jovian from
    /// genesis; a genesis that schedules them later is rejected rather than half-supported.
    pub fn from_json(raw: &str) -> Result<Self, ChainSpecError> {
        let genesis: Genesis = serde_json::from_str(raw)?;
        let cfg = &genesis.config;
        if matches!(cfg.chain_id, 1 | 1337 | 31337) {
            return Err(ChainSpecError::Unsupported(format!(
                "chain id {} clashes with a well-known chain; pick another",
                cfg.chain_id
            )));
        }
        let mut forks = vec![(OpHardfork::Bedrock, ForkCondition::Block(0))];
        for (fork, key) in OP_FORKS {
            let at = cfg.extra_fields.get(key).and_then(serde_json::Value::as_u64);
            if at != Some(0) {
                return Err(ChainSpecError::Unsupported(format!(
                    "{key} must be 0: agnt2 runs every OP hardfork through Jovian from genesis"
                )));
            }
            forks.push((fork, ForkCondition::Timestamp(0)));
        }
        let op = cfg.extra_fields.get("optimism");
        let param = |k: &str, default: u64| {
            op.and_then(|o| o.get(k)).and_then(serde_json::Value::as_u64).unwrap_or(default)
        };
        let base_fee_params = BaseFeeParams::new(
            param("eip1559DenominatorCanyon", 250) as u128,
            param("eip1559Elasticity", 6) as u128,
        );
        if base_fee_params.max_change_denominator == 0 || base_fee_params.elasticity_multiplier == 0
        {
            return Err(ChainSpecError::Unsupported("EIP-1559 parameters must be non-zero".into()));
        }
        if genesis.base_fee_per_gas.is_none() {
            return Err(ChainSpecError::Unsupported("baseFeePerGas is required".into()));
        }
        let min_base_fee = param("minBaseFee", 0);
        Ok(Self { genesis, hardforks: OpChainHardforks::new(forks), base_fee_params, min_base_fee })
    }

    /// Chain id.
    pub const fn chain_id(&self) -> u64 {
        self.genesis.config.chain_id
    }

    /// Gas limit of every block.
    pub const fn gas_limit(&self) -> u64 {
        self.genesis.gas_limit
    }

    /// Jovian header extra data: version 1, EIP-1559 denominator and elasticity, min base fee.
    pub fn extra_data(&self) -> Bytes {
        let mut out = Vec::with_capacity(17);
        out.push(1u8);
        out.extend_from_slice(&(self.base_fee_params.max_change_denominator as u32).to_be_bytes());
        out.extend_from_slice(&(self.base_fee_params.elasticity_multiplier as u32).to_be_bytes());
        out.extend_from_slice(&self.min_base_fee.to_be_bytes());
        out.into()
    }

    /// Base fee of the block after `parent` (EIP-1559 with the Canyon parameters, Jovian
    /// minimum, and Jovian's DA footprint counted as gas used).
    pub fn next_base_fee(&self, parent: &Header) -> u64 {
        let used = parent.gas_used.max(parent.blob_gas_used.unwrap_or_default());
        let next = alloy_eips::eip1559::calc_next_block_base_fee(
            used,
            parent.gas_limit,
            parent.base_fee_per_gas.unwrap_or_default(),
            self.base_fee_params,
        );
        next.max(self.min_base_fee)
    }

    /// The genesis header, given the state root of the genesis allocation.
    pub fn genesis_header(&self, state_root: B256, message_passer_root: B256) -> Header {
        let g = &self.genesis;
        Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: g.coinbase,
            state_root,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Default::default(),
            difficulty: g.difficulty,
            number: 0,
            gas_limit: g.gas_limit,
            gas_used: 0,
            timestamp: g.timestamp,
            extra_data: g.extra_data.clone(),
            mix_hash: g.mix_hash,
            nonce: B64::from(g.nonce),
            base_fee_per_gas: g.base_fee_per_gas.map(|f| f as u64),
            withdrawals_root: Some(message_passer_root),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            requests_hash: Some(EMPTY_REQUESTS_HASH),
            block_access_list_hash: None,
            slot_number: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_devnet_parses() {
        let spec = ChainSpec::devnet();
        assert_eq!(spec.chain_id(), 80042);
        let alloc = &spec.genesis.alloc;
        // 20 dev accounts, 10 predeploys (4 fee vaults, L1Block, L2ToL1MessagePasser, the
        // messenger, the bridge, GasPriceOracle, aUSD), the interaction trie's account and the
        // five agent precompiles' twins.
        assert_eq!(alloc.len(), 36);
        let dev = crate::dev_signers(20);
        assert!(dev.iter().all(|s| alloc[&s.address()].balance > alloy_primitives::U256::ZERO));
        assert!(alloc[&crate::constants::DEVNET_USD].code.as_ref().is_some_and(|c| c.len() > 100));
        let identity = alloy_primitives::address!("0x0000000000000000000000000000000000008004");
        let twin = alloc[&identity].code.as_ref().unwrap();
        assert!(twin.len() > 1000, "the Solidity twin, not the 0xfe placeholder");
        assert_eq!(spec.extra_data().len(), 17);
    }

    #[test]
    fn rejects_well_known_chain_ids_and_late_forks() {
        let raw = include_str!("../../../genesis/devnet.json");
        let clash = raw.replace("\"chainId\": 80042", "\"chainId\": 31337");
        assert!(matches!(ChainSpec::from_json(&clash), Err(ChainSpecError::Unsupported(_))));
        let late = raw.replace("\"jovianTime\": 0", "\"jovianTime\": 10");
        assert!(matches!(ChainSpec::from_json(&late), Err(ChainSpecError::Unsupported(_))));
        assert!(matches!(ChainSpec::from_json("{"), Err(ChainSpecError::Json(_))));
    }

    #[test]
    fn base_fee_moves_with_usage() {
        let spec = ChainSpec::devnet();
        let mut parent = spec.genesis_header(B256::ZERO, B256::ZERO);
        let start = parent.base_fee_per_gas.unwrap();
        parent.gas_used = parent.gas_limit;
        assert!(spec.next_base_fee(&parent) > start);
        parent.gas_used = 0;
        assert!(spec.next_base_fee(&parent) < start);
    }
}
