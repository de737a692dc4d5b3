//! The L1-info deposit: the first transaction of every block.

use crate::constants::{
    L1_BLOCK, L1_INFO_DEPOSITOR, L1_INFO_GAS_LIMIT, SET_L1_BLOCK_VALUES_JOVIAN,
};
use alloy_primitives::{B256, Bytes, TxKind, U256, keccak256};
use op_alloy_consensus::TxDeposit;

/// The attributes of the L1 block an L2 block is derived from (synthesized in dev mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L1BlockAttributes {
    /// L1 block number.
    pub number: u64,
    /// L1 block timestamp.
    pub timestamp: u64,
    /// L1 base fee.
    pub base_fee: U256,
    /// L1 blob base fee.
    pub blob_base_fee: U256,
    /// L1 block hash.
    pub hash: B256,
    /// Versioned hash of the batcher address.
    pub batcher_hash: B256,
    /// Scalar applied to the L1 base fee (6 decimals).
    pub base_fee_scalar: u32,
    /// Scalar applied to the L1 blob base fee (6 decimals).
    pub blob_base_fee_scalar: u32,
    /// Operator fee scalar.
    pub operator_fee_scalar: u32,
    /// Operator fee constant.
    pub operator_fee_constant: u64,
    /// Jovian DA footprint gas scalar.
    pub da_footprint_gas_scalar: u16,
}

/// One L1 block as the L2 adopts it: its attributes and its user deposits, in log order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Epoch {
    /// The L1 block's attributes.
    pub attrs: L1BlockAttributes,
    /// Its deposits (type 0x7E).
    pub deposits: Vec<TxDeposit>,
}

impl L1BlockAttributes {
    /// The attributes the L1Block predeploy holds, from its storage (`slot(i)` reads slot `i`),
    /// and the sequence number of the block that wrote them. The layout is OP's: slot 0
    /// `number ‖ timestamp`, 1 basefee, 2 hash, 3 `sequenceNumber ‖ blobBaseFeeScalar ‖
    /// baseFeeScalar`, 4 batcherHash, 7 blobBaseFee, 8 `operatorFeeConstant ‖
    /// operatorFeeScalar ‖ daFootprintGasScalar` (each packed from the low-order end).
    pub fn from_l1_block_storage(slot: impl Fn(u64) -> U256) -> (Self, u64) {
        let bits = |v: U256, shift: usize, width: usize| -> u64 {
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            (v >> shift).as_limbs()[0] & mask
        };
        let (s0, s3, s8) = (slot(0), slot(3), slot(8));
        let attrs = Self {
            number: bits(s0, 0, 64),
            timestamp: bits(s0, 64, 64),
            base_fee: slot(1),
            blob_base_fee: slot(7),
            hash: B256::from(slot(2).to_be_bytes::<32>()),
            batcher_hash: B256::from(slot(4).to_be_bytes::<32>()),
            base_fee_scalar: bits(s3, 96, 32) as u32,
            blob_base_fee_scalar: bits(s3, 64, 32) as u32,
            operator_fee_scalar: bits(s8, 64, 32) as u32,
            operator_fee_constant: bits(s8, 0, 64),
            da_footprint_gas_scalar: bits(s8, 96, 16) as u16,
        };
        (attrs, bits(s3, 0, 64))
    }

    /// Dev-mode attributes: a fixed, plausible L1 (1 gwei base fee, blob base fee 1) whose
    /// number follows the L2 block so that every block's L1 info differs.
    pub fn dev(l2_number: u64, l2_timestamp: u64) -> Self {
        Self {
            number: l2_number,
            timestamp: l2_timestamp,
            base_fee: U256::from(1_000_000_000u64),
            blob_base_fee: U256::from(1u64),
            hash: keccak256(l2_number.to_be_bytes()),
            batcher_hash: B256::ZERO,
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
            operator_fee_scalar: 0,
            operator_fee_constant: 0,
            da_footprint_gas_scalar: 0,
        }
    }

    /// Calldata of `setL1BlockValuesJovian()`: 178 packed bytes.
    pub fn jovian_calldata(&self, sequence_number: u64) -> Bytes {
        let mut out = Vec::with_capacity(178);
        out.extend_from_slice(&SET_L1_BLOCK_VALUES_JOVIAN);
        out.extend_from_slice(&self.base_fee_scalar.to_be_bytes());
        out.extend_from_slice(&self.blob_base_fee_scalar.to_be_bytes());
        out.extend_from_slice(&sequence_number.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.base_fee.to_be_bytes::<32>());
        out.extend_from_slice(&self.blob_base_fee.to_be_bytes::<32>());
        out.extend_from_slice(self.hash.as_slice());
        out.extend_from_slice(self.batcher_hash.as_slice());
        out.extend_from_slice(&self.operator_fee_scalar.to_be_bytes());
        out.extend_from_slice(&self.operator_fee_constant.to_be_bytes());
        out.extend_from_slice(&self.da_footprint_gas_scalar.to_be_bytes());
        out.into()
    }

    /// Reads [`Self::jovian_calldata`] back (or Ecotone's and Isthmus's shorter forms, whose
    /// later fields stay zero): the attributes and the sequence number; `None` when `input` is
    /// shorter than Ecotone's 164 bytes.
    pub fn from_calldata(input: &[u8]) -> Option<(Self, u64)> {
        if input.len() < 164 {
            return None;
        }
        let u16_at = |o: usize| input.get(o..o + 2)?.try_into().ok().map(u16::from_be_bytes);
        let u32_at = |o: usize| input.get(o..o + 4)?.try_into().ok().map(u32::from_be_bytes);
        let u64_at = |o: usize| input.get(o..o + 8)?.try_into().ok().map(u64::from_be_bytes);
        let attrs = Self {
            base_fee_scalar: u32_at(4)?,
            blob_base_fee_scalar: u32_at(8)?,
            timestamp: u64_at(20)?,
            number: u64_at(28)?,
            base_fee: U256::from_be_slice(&input[36..68]),
            blob_base_fee: U256::from_be_slice(&input[68..100]),
            hash: B256::from_slice(&input[100..132]),
            batcher_hash: B256::from_slice(&input[132..164]),
            operator_fee_scalar: u32_at(164).unwrap_or_default(),
            operator_fee_constant: u64_at(168).unwrap_or_default(),
            da_footprint_gas_scalar: u16_at(176).unwrap_or_default(),
        };
        Some((attrs, u64_at(12)?))
    }
}

/// The L1-info deposit for an L2 block with `sequence_number` within its L1 epoch.
///
/// Source hash: `keccak256(bytes32(1) ‖ keccak256(l1BlockHash ‖ bytes32(sequenceNumber)))`.
pub fn l1_info_deposit(attrs: &L1BlockAttributes, sequence_number: u64) -> TxDeposit {
    let mut inner = [0u8; 64];
    inner[..32].copy_from_slice(attrs.hash.as_slice());
    inner[56..].copy_from_slice(&sequence_number.to_be_bytes());
    let mut outer = [0u8; 64];
    outer[31] = 1;
    outer[32..].copy_from_slice(keccak256(inner).as_slice());
    TxDeposit {
        source_hash: keccak256(outer),
        from: L1_INFO_DEPOSITOR,
        to: TxKind::Call(L1_BLOCK),
        mint: 0,
        value: U256::ZERO,
        gas_limit: L1_INFO_GAS_LIMIT,
        is_system_transaction: false,
        input: attrs.jovian_calldata(sequence_number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use op_alloy_consensus::L1InfoDepositSource;

    #[test]
    fn calldata_is_178_bytes() {
        let a = L1BlockAttributes::dev(7, 100);
        assert_eq!(a.jovian_calldata(3).len(), 178);
    }

    #[test]
    fn calldata_reads_back() {
        let a = L1BlockAttributes {
            operator_fee_scalar: 9,
            operator_fee_constant: 10,
            da_footprint_gas_scalar: 11,
            batcher_hash: B256::repeat_byte(5),
            blob_base_fee: U256::from(77),
            ..L1BlockAttributes::dev(7, 100)
        };
        let input = a.jovian_calldata(3);
        assert_eq!(L1BlockAttributes::from_calldata(&input), Some((a, 3)));
        // Ecotone's form: the Isthmus/Jovian fields read as zero.
        let ecotone = L1BlockAttributes {
            operator_fee_scalar: 0,
            operator_fee_constant: 0,
            da_footprint_gas_scalar: 0,
            ..a
        };
        assert_eq!(L1BlockAttributes::from_calldata(&input[..164]), Some((ecotone, 3)));
        assert_eq!(L1BlockAttributes::from_calldata(&input[..163]), None);
    }

    #[test]
    fn source_hash_matches_op_alloy() {
        let a = L1BlockAttributes::dev(7, 100);
        let tx = l1_info_deposit(&a, 3);
        assert_eq!(tx.source_hash, L1InfoDepositSource::new(a.hash, 3).source_hash());
    }
}
