// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @dev The agent precompiles' addresses and the interaction trie's account.
address constant AGENT_STATE = 0x0000000000000000000000000000000000008000;
address constant IDENTITY = 0x0000000000000000000000000000000000008004;
address constant REPUTATION = 0x0000000000000000000000000000000000008005;
address constant CAPABILITIES = 0x0000000000000000000000000000000000008007;
address constant SESSIONS = 0x0000000000000000000000000000000000008008;
address constant INTERACTIONS = 0x0000000000000000000000000000000000008009;

/// @title AgentStateTwin
/// @notice The interaction trie's account (`0x…8000`) for the Solidity twins of agnt2's agent
///         precompiles: its storage is the interaction trie, written only by the twins at the
///         precompile addresses. Calldata of 32 bytes reads a slot, of 64 bytes writes one (a
///         twin only), empty calldata is the twins' write probe: it fails under STATICCALL, as
///         the precompiles' writes do. On an agnt2 node the precompiles run instead of the
///         twins, so nothing ever writes through this code there.
contract AgentStateTwin {
    fallback(bytes calldata data) external returns (bytes memory) {
        if (data.length == 0) {
            assembly {
                tstore(0, 0)
            }
            return "";
        }
        if (data.length == 32) {
            return abi.encode(_load(uint256(bytes32(data))));
        }
        if (data.length == 64) {
            address c = msg.sender;
            if (c != IDENTITY && c != REPUTATION && c != CAPABILITIES && c != SESSIONS && c != INTERACTIONS) {
                revert("AgentState: only the agent precompiles write the interaction trie");
            }
            (uint256 slot, uint256 value) = abi.decode(data, (uint256, uint256));
            assembly {
                sstore(slot, value)
            }
            return "";
        }
        revert("AgentState: 32 bytes read a slot, 64 bytes write one");
    }

    function _load(uint256 slot) private view returns (uint256 v) {
        assembly {
            v := sload(slot)
        }
    }
}
