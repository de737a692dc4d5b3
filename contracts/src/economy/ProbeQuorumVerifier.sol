// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentIdentity, IDutyVerifier} from "./IDutyVerifier.sol";

/// @notice The bond a board holds for an agent and role.
interface IBondView {
    function bonds(uint256 agentId, bytes32 role)
        external
        view
        returns (uint256 amount, uint256 locked, uint256 unbonding, uint64 unbondAt);
}

/// @title ProbeQuorumVerifier
/// @notice Counts the epochs of an RPC / follower duty from probes: EIP-712 statements
///         `Probe(dutyId, agentId, epoch, ok, latencyMs, headSeen)` signed by prober agents
///         (by the agent's owner or its agentWallet), each a real request against the
///         operator's endpoint checked against the prober's own node (`agnt2 probe`). An epoch
///         is done when at least `quorum` distinct probers said ok, missed when at least
///         `quorum` said not ok. Probers must be registered agents other than the operator and
///         the funder, and — when `minProberBond` is set — bonded on the board for the role
///         "prober" at least that much (three votes then cost three bonds: the quorum's Sybil
///         price). Each verdict is also emitted in the ERC-8004 Validation Registry's
///         `ValidationResponse` shape (response 100 done, 0 missed), so reputation tools read
///         it.
///
/// Evidence is `abi.encode(Probe[] probes, bytes[] signatures)`, the probes ordered by
/// (epoch, agentId) strictly ascending: one probe per prober per epoch.
contract ProbeQuorumVerifier is IDutyVerifier {
    struct Probe {
        uint256 dutyId;
        uint256 agentId;
        uint64 epoch;
        bool ok;
        uint32 latencyMs;
        uint64 headSeen;
    }

    bytes32 public constant PROBE_TYPEHASH =
        keccak256("Probe(uint256 dutyId,uint256 agentId,uint64 epoch,bool ok,uint32 latencyMs,uint64 headSeen)");

    IAgentIdentity public immutable identity;
    address public immutable board;
    uint8 public immutable quorum;
    /// The board bond (role "prober") a prober needs; 0: none.
    uint256 public immutable minProberBond;
    bytes32 public immutable DOMAIN_SEPARATOR;

    /// ERC-8004 Validation Registry's response event.
    event ValidationResponse(
        address indexed validatorAddress,
        uint256 indexed agentId,
        bytes32 indexed requestHash,
        uint8 response,
        string responseURI,
        bytes32 responseHash,
        string tag
    );

    error OnlyBoard();
    error BadProbe(uint256 index);
    error BadSignature(uint256 index);
    error NotAProber(uint256 index);

    constructor(IAgentIdentity identity_, address board_, uint8 quorum_, uint256 minProberBond_) {
        require(quorum_ >= 1, "quorum");
        identity = identity_;
        board = board_;
        quorum = quorum_;
        minProberBond = minProberBond_;
        DOMAIN_SEPARATOR = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("agnt2-probes"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    /// @notice The EIP-712 digest a prober signs.
    function probeDigest(Probe memory p) public view returns (bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(PROBE_TYPEHASH, p.dutyId, p.agentId, p.epoch, p.ok, p.latencyMs, p.headSeen));
        return keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR, structHash));
    }

    function unitsDone(
        uint256 dutyId,
        uint256 operatorAgentId,
        uint256 funderAgentId,
        uint64 from,
        uint64 to,
        bytes calldata evidence
    ) external returns (uint64) {
        return _count(dutyId, operatorAgentId, funderAgentId, from, to, evidence, true);
    }

    function unitsMissed(
        uint256 dutyId,
        uint256 operatorAgentId,
        uint256 funderAgentId,
        uint64 from,
        uint64 to,
        bytes calldata evidence
    ) external returns (uint64) {
        return _count(dutyId, operatorAgentId, funderAgentId, from, to, evidence, false);
    }

    /// Epochs of `[from, to)` with at least `quorum` valid probes saying `ok == want`.
    function _count(
        uint256 dutyId,
        uint256 operatorAgentId,
        uint256 funderAgentId,
        uint64 from,
        uint64 to,
        bytes calldata evidence,
        bool want
    ) internal returns (uint64 verdicts) {
        if (msg.sender != board) revert OnlyBoard();
        (Probe[] memory probes, bytes[] memory sigs) = abi.decode(evidence, (Probe[], bytes[]));
        if (probes.length != sigs.length) revert BadProbe(probes.length);
        uint256 votes;
        for (uint256 i = 0; i < probes.length; i++) {
            Probe memory p = probes[i];
            if (p.dutyId != dutyId || p.epoch < from || p.epoch >= to) revert BadProbe(i);
            if (i > 0) {
                Probe memory q = probes[i - 1];
                // Strictly ascending by (epoch, agentId): no prober counts twice in an epoch.
                if (p.epoch < q.epoch || (p.epoch == q.epoch && p.agentId <= q.agentId)) revert BadProbe(i);
                if (p.epoch != q.epoch) {
                    if (votes >= quorum) verdicts += 1;
                    _emitVerdict(dutyId, operatorAgentId, q.epoch, want, votes >= quorum);
                    votes = 0;
                }
            }
            if (p.agentId == operatorAgentId || p.agentId == funderAgentId) revert NotAProber(i);
            if (minProberBond > 0) {
                (uint256 bonded,,,) = IBondView(board).bonds(p.agentId, "prober");
                if (bonded < minProberBond) revert NotAProber(i);
            }
            address signer = _recover(probeDigest(p), sigs[i]);
            if (signer == address(0)) revert BadSignature(i);
            if (identity.ownerOf(p.agentId) != signer && identity.getAgentWallet(p.agentId) != signer) {
                revert BadSignature(i);
            }
            if (p.ok == want) votes += 1;
        }
        if (probes.length > 0) {
            if (votes >= quorum) verdicts += 1;
            _emitVerdict(dutyId, operatorAgentId, probes[probes.length - 1].epoch, want, votes >= quorum);
        }
    }

    function _emitVerdict(uint256 dutyId, uint256 operatorAgentId, uint64 epoch, bool want, bool reached) internal {
        if (!reached) return;
        bytes32 request = keccak256(abi.encode(block.chainid, board, dutyId, epoch));
        emit ValidationResponse(address(this), operatorAgentId, request, want ? 100 : 0, "", bytes32(0), "agnt2.probe");
    }

    function _recover(bytes32 digest, bytes memory sig) internal pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
