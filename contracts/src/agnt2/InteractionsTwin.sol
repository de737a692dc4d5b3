// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {INTERACTIONS} from "./AgentState.sol";
import {Trie, Twin} from "./Trie.sol";
import {IInteractions} from "../interfaces/IInteractions.sol";

/// @title InteractionsTwin
/// @notice The Solidity twin of agnt2's Interactions precompile (`0x…8009`,
///         `crates/agent/src/interactions.rs`): the same ABI, event, revert reasons and
///         interaction-trie slots, for Foundry's EVM, which does not run the precompile.
contract InteractionsTwin is Twin, IInteractions {
    function _name() internal pure override returns (string memory) {
        return "Interactions";
    }

    function _self() internal pure override returns (address) {
        return INTERACTIONS;
    }

    /// @dev count (64) | last block (64) at `word`, the volume at `volumeSlot`; returns the count.
    function _add(uint256 word, uint256 volumeSlot, uint256 volume) private returns (uint64 count) {
        uint256 w = Trie.load(word);
        count = uint64(w);
        if (count != type(uint64).max) ++count;
        Trie.store(word, uint256(count) | (uint256(uint64(block.number)) << 64));
        uint256 v = Trie.load(volumeSlot);
        Trie.store(volumeSlot, type(uint256).max - v < volume ? type(uint256).max : v + volume);
    }

    function record(uint256 agentA, uint256 agentB, uint256 volume) external {
        _writable();
        if (agentA == 0 && agentB == 0) _fail("no agent named");
        bytes memory sub = abi.encodePacked(msg.sender, agentB);
        uint64 count =
            _add(Trie.slot(Trie.INTERACTION, agentA, sub), Trie.slot(Trie.INTERACTION_VOLUME, agentA, sub), volume);
        bytes memory me = abi.encodePacked(msg.sender);
        // As the precompile: each named agent's totals, none when both are the same agent.
        if (agentA != 0 && !(agentA == agentB)) {
            _add(
                Trie.slot(Trie.INTERACTION_TOTAL, agentA, me),
                Trie.slot(Trie.INTERACTION_TOTAL_VOLUME, agentA, me),
                volume
            );
        }
        if (agentB != 0 && agentA != agentB) {
            _add(
                Trie.slot(Trie.INTERACTION_TOTAL, agentB, me),
                Trie.slot(Trie.INTERACTION_TOTAL_VOLUME, agentB, me),
                volume
            );
        }
        emit InteractionRecorded(msg.sender, agentA, agentB, volume, count);
    }

    function _read(uint256 word, uint256 volumeSlot) private view returns (uint64, uint256, uint64) {
        uint256 w = Trie.load(word);
        return (uint64(w), Trie.load(volumeSlot), uint64(w >> 64));
    }

    function get(address attester, uint256 agentA, uint256 agentB)
        external
        view
        returns (uint64 count, uint256 volume, uint64 lastBlock)
    {
        bytes memory sub = abi.encodePacked(attester, agentB);
        return _read(Trie.slot(Trie.INTERACTION, agentA, sub), Trie.slot(Trie.INTERACTION_VOLUME, agentA, sub));
    }

    function totals(address attester, uint256 agentId)
        external
        view
        returns (uint64 count, uint256 volume, uint64 lastBlock)
    {
        bytes memory me = abi.encodePacked(attester);
        return
            _read(Trie.slot(Trie.INTERACTION_TOTAL, agentId, me), Trie.slot(Trie.INTERACTION_TOTAL_VOLUME, agentId, me));
    }
}
