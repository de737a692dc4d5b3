// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CAPABILITIES} from "./AgentState.sol";
import {Trie, Twin} from "./Trie.sol";
import {ICapabilities} from "../interfaces/ICapabilities.sol";

/// @title CapabilitiesTwin
/// @notice The Solidity twin of agnt2's Capabilities precompile (`0x…8007`,
///         `crates/agent/src/capabilities.rs`): the same ABI, events, revert reasons and
///         interaction-trie slots, for Foundry's EVM, which does not run the precompile.
contract CapabilitiesTwin is Twin, ICapabilities {
    function _name() internal pure override returns (string memory) {
        return "Capabilities";
    }

    function _self() internal pure override returns (address) {
        return CAPABILITIES;
    }

    /// @dev expiry (64) | grantor (160) | position in the agent's list (32).
    function _word(uint256 id, bytes32 cap) private view returns (uint64 expiry, address grantor, uint256 pos) {
        uint256 w = Trie.load(Trie.slot(Trie.CAPABILITY, id, abi.encodePacked(cap)));
        expiry = uint64(w);
        grantor = address(uint160(w >> 64));
        pos = w >> 224;
    }

    function _pack(uint64 expiry, address grantor, uint256 pos) private pure returns (uint256) {
        return uint256(expiry) | (uint256(uint160(grantor)) << 64) | (pos << 224);
    }

    function grant(uint256 agentId, bytes32 capability, bytes32 scope, uint256 limit, uint64 expiry) external {
        _writable();
        _requireOwner(agentId, msg.sender);
        if (capability == bytes32(0)) _fail("capability id is zero");
        if (expiry != 0 && expiry < block.timestamp) _fail("expiry is in the past");
        bytes memory key = abi.encodePacked(capability);
        (,, uint256 pos) = _word(agentId, capability);
        if (pos == 0) pos = Trie.push(Trie.CAPABILITY_LIST, agentId, uint256(capability));
        Trie.store(Trie.slot(Trie.CAPABILITY, agentId, key), _pack(expiry, msg.sender, pos));
        Trie.store(Trie.slot(Trie.CAPABILITY_SCOPE, agentId, key), uint256(scope));
        Trie.store(Trie.slot(Trie.CAPABILITY_LIMIT, agentId, key), limit);
        emit CapabilityGranted(agentId, capability, scope, limit, expiry, msg.sender);
    }

    function revoke(uint256 agentId, bytes32 capability) external {
        _writable();
        _requireOwner(agentId, msg.sender);
        bytes memory key = abi.encodePacked(capability);
        (,, uint256 pos) = _word(agentId, capability);
        if (pos == 0) _fail("capability not granted");
        (bool moved, uint256 other) = Trie.remove(Trie.CAPABILITY_LIST, agentId, pos);
        if (moved) {
            (uint64 e, address g,) = _word(agentId, bytes32(other));
            Trie.store(Trie.slot(Trie.CAPABILITY, agentId, abi.encodePacked(other)), _pack(e, g, pos));
        }
        Trie.store(Trie.slot(Trie.CAPABILITY, agentId, key), 0);
        Trie.store(Trie.slot(Trie.CAPABILITY_SCOPE, agentId, key), 0);
        Trie.store(Trie.slot(Trie.CAPABILITY_LIMIT, agentId, key), 0);
        emit CapabilityRevoked(agentId, capability, msg.sender);
    }

    function has(uint256 agentId, bytes32 capability) external view returns (bool) {
        (uint64 expiry,, uint256 pos) = _word(agentId, capability);
        return pos != 0 && (expiry == 0 || block.timestamp <= expiry);
    }

    function _grant(uint256 id, bytes32 cap) private view returns (bool found, Grant memory g) {
        (uint64 expiry, address grantor, uint256 pos) = _word(id, cap);
        if (pos == 0) return (false, g);
        bytes memory key = abi.encodePacked(cap);
        g = Grant({
            capability: cap,
            scope: bytes32(Trie.load(Trie.slot(Trie.CAPABILITY_SCOPE, id, key))),
            limit: Trie.load(Trie.slot(Trie.CAPABILITY_LIMIT, id, key)),
            expiry: expiry,
            grantor: grantor
        });
        found = true;
    }

    function get(uint256 agentId, bytes32 capability) external view returns (Grant memory g) {
        bool found;
        (found, g) = _grant(agentId, capability);
        if (!found) _fail("capability not granted");
    }

    function list(uint256 agentId) external view returns (Grant[] memory out) {
        uint256[] memory caps = Trie.list(Trie.CAPABILITY_LIST, agentId);
        out = new Grant[](caps.length);
        uint256 n;
        for (uint256 i; i < caps.length; ++i) {
            (bool found, Grant memory g) = _grant(agentId, bytes32(caps[i]));
            if (!found) revert("corrupt capability list in the interaction trie");
            if (g.expiry == 0 || block.timestamp <= g.expiry) out[n++] = g;
        }
        assembly {
            mstore(out, n)
        }
    }
}
