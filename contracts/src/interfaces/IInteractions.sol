// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IInteractions
/// @notice Attested interactions of agents, served natively by agnt2 at
///         0x0000000000000000000000000000000000008009. The attester is the caller; readers
///         choose which attesters they trust. Either agent may be 0, not both.
interface IInteractions {
    event InteractionRecorded(
        address indexed attester, uint256 indexed agentA, uint256 indexed agentB, uint256 volume, uint64 count
    );

    /// @notice Adds one interaction of `volume` to the pair and to each named agent's totals
    ///         under the caller (none to the totals when both are the same agent).
    function record(uint256 agentA, uint256 agentB, uint256 volume) external;
    function get(address attester, uint256 agentA, uint256 agentB)
        external
        view
        returns (uint64 count, uint256 volume, uint64 lastBlock);
    function totals(address attester, uint256 agentId)
        external
        view
        returns (uint64 count, uint256 volume, uint64 lastBlock);
}
