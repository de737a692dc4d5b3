// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICapabilities
/// @notice Capabilities of agents, served natively by agnt2 at
///         0x0000000000000000000000000000000000008007. An agent's owner grants a bytes32
///         capability with a scope, a limit (their meaning belongs to whoever checks them) and
///         an expiry (unix seconds, inclusive; 0: none). Granting again replaces a grant.
interface ICapabilities {
    struct Grant {
        bytes32 capability;
        bytes32 scope;
        uint256 limit;
        uint64 expiry;
        address grantor;
    }

    event CapabilityGranted(
        uint256 indexed agentId, bytes32 indexed capability, bytes32 scope, uint256 limit, uint64 expiry, address indexed grantor
    );
    event CapabilityRevoked(uint256 indexed agentId, bytes32 indexed capability, address indexed revokedBy);

    /// @notice Owner only.
    function grant(uint256 agentId, bytes32 capability, bytes32 scope, uint256 limit, uint64 expiry) external;
    /// @notice Owner only.
    function revoke(uint256 agentId, bytes32 capability) external;
    /// @notice Granted and not expired.
    function has(uint256 agentId, bytes32 capability) external view returns (bool);
    /// @notice The grant (expired or not); reverts if none.
    function get(uint256 agentId, bytes32 capability) external view returns (Grant memory);
    /// @notice The unexpired grants.
    function list(uint256 agentId) external view returns (Grant[] memory);
}
