// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IDutyVerifier
/// @notice What a duty board asks a verifier: of the units (epochs) `[from, to)` of a duty,
///         how many does `evidence` prove done by the operator, and how many missed. A
///         verifier reverts on evidence it cannot accept (a bad signature, a unit outside the
///         range, a prober that may not attest) and never counts a unit twice within one call;
///         the board never asks about a unit twice.
interface IDutyVerifier {
    function unitsDone(
        uint256 dutyId,
        uint256 operatorAgentId,
        uint256 funderAgentId,
        uint64 from,
        uint64 to,
        bytes calldata evidence
    ) external returns (uint64 done);

    function unitsMissed(
        uint256 dutyId,
        uint256 operatorAgentId,
        uint256 funderAgentId,
        uint64 from,
        uint64 to,
        bytes calldata evidence
    ) external returns (uint64 missed);
}

/// @notice The identity calls the economy contracts make (ERC-8004, agnt2 0x8004).
interface IAgentIdentity {
    function ownerOf(uint256 agentId) external view returns (address);
    function getAgentWallet(uint256 agentId) external view returns (address);
}

/// @notice The session-key check the duty board makes (agnt2 0x8008).
interface IAgentSessions {
    function isValid(uint256 agentId, address key, address counterparty) external view returns (bool);
}
