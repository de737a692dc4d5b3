//! agnt2-economy: the agent economy from an agent's side. Bindings of the contracts in
//! `contracts/src/economy` (the duty board, the probe-quorum verifier, the ERC-8183 kernel),
//! probes signed as EIP-712 typed data, and the evidence a claim or a slash carries.
//!
//! The digests here are computed by alloy's EIP-712 implementation from the type strings, not
//! by the contracts' code: the e2e tests check the two agree.

mod board;
pub mod monitor;
mod probe;
pub mod stream;

pub use board::{Board, Check, NewDuty, Paid, Probed, Slash};

pub use probe::{SignedProbe, evidence, probe_domain};

pub use bindings::*;

/// The contracts' ABI (generated items are documented by the Solidity sources).
#[allow(missing_docs, clippy::too_many_arguments)]
mod bindings {
    alloy_sol_types::sol! {
        /// A probe of an operator's endpoint (the verifier's EIP-712 type).
        #[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        struct Probe {
            uint256 dutyId;
            uint256 agentId;
            uint64 epoch;
            bool ok;
            uint32 latencyMs;
            uint64 headSeen;
        }

        /// The duty board (`contracts/src/economy/DutyBoard.sol`).
        #[derive(Debug)]
        interface IDutyBoard {
            enum Status { None, Open, Active, Paused, Ended }

            struct Duty {
                uint256 funderAgentId;
                address funder;
                bytes32 kind;
                string specURI;
                address token;
                uint256 ratePerUnit;
                uint64 unitsCap;
                uint64 epochLength;
                uint256 minBond;
                address verifier;
                uint256 escrow;
                uint64 unitsPaid;
                uint64 nextUnit;
                Status status;
                uint256 operatorAgentId;
                address operatorSigner;
                uint64 activeSince;
                uint64 pausedAt;
                uint64 endUnit;
                uint64 endedAt;
            }

            event DutyPosted(uint256 indexed dutyId, uint256 indexed funderAgentId, bytes32 indexed kind, address token, uint256 ratePerUnit, uint64 unitsCap, uint64 epochLength, uint256 minBond, address verifier, uint256 escrow);
            event UnitsPaid(uint256 indexed dutyId, uint256 indexed operatorAgentId, uint64 from, uint64 to, uint64 units, uint256 amount);
            event Slashed(uint256 indexed dutyId, uint256 indexed operatorAgentId, bytes32 reason, uint256 amount, address reporter, uint256 reporterShare);

            function postDuty(uint256 funderAgentId, bytes32 kind, string specURI, address token, uint256 ratePerUnit, uint64 unitsCap, uint64 epochLength, uint256 minBond, address verifier, uint256 escrow) external payable returns (uint256 dutyId);
            function topUp(uint256 dutyId, uint256 amount) external payable;
            function acceptDuty(uint256 dutyId, uint256 operatorAgentId, address signer) external;
            function pause(uint256 dutyId) external;
            function resume(uint256 dutyId) external;
            function end(uint256 dutyId) external;
            function refund(uint256 dutyId) external;
            function currentUnit(uint256 dutyId) external view returns (uint64);
            function claim(uint256 dutyId, uint64 to, bytes evidence) external returns (uint256 amount);
            function getDuty(uint256 dutyId) external view returns (Duty memory);
            function dutyCount() external view returns (uint256);
            function bond(uint256 agentId, bytes32 role) external payable;
            function requestUnbond(uint256 agentId, bytes32 role, uint256 amount) external;
            function withdrawUnbonded(uint256 agentId, bytes32 role) external;
            function bonds(uint256 agentId, bytes32 role) external view returns (uint256 amount, uint256 locked, uint256 unbonding, uint64 unbondAt);
            function slashMissed(uint256 dutyId, uint64 from, uint64 to, bytes evidence) external;
            function slashRefutedDispute(uint256 dutyId, bytes32 channelId) external;
            function slashEquivocation(uint256 dutyId, uint64 height, bytes32 hashA, bytes sigA, bytes32 hashB, bytes sigB) external;
        }

        /// The probe-quorum verifier (`contracts/src/economy/ProbeQuorumVerifier.sol`).
        #[derive(Debug)]
        interface IProbeVerifier {
            function probeDigest(Probe p) external view returns (bytes32);
            function quorum() external view returns (uint8);
        }
    }
}

/// A duty kind or bond role as the board stores it: the name's bytes, left-aligned in 32
/// bytes (Solidity's `bytes32("rpc")`); names longer than 32 bytes are refused.
pub fn role(name: &str) -> eyre::Result<alloy_primitives::B256> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 32 {
        eyre::bail!("a role is 1 to 32 bytes, not {:?}", name);
    }
    let mut out = [0u8; 32];
    out[..bytes.len()].copy_from_slice(bytes);
    Ok(out.into())
}

/// The name of a role (`role`'s inverse; trailing zeros dropped).
pub fn role_name(role: alloy_primitives::B256) -> String {
    let end = role.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(&role[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_left_aligned_bytes32() {
        let r = role("rpc").unwrap();
        assert_eq!(&r[..3], b"rpc");
        assert!(r[3..].iter().all(|b| *b == 0));
        assert_eq!(role_name(r), "rpc");
        assert!(role("").is_err());
        assert!(role(&"x".repeat(33)).is_err());
    }
}
