// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AGENT_STATE} from "./AgentState.sol";

/// @title Trie
/// @notice The interaction trie's key schema and storage layout (docs/agents.md, the code form
///         of `agnt2_agent::keys`): `slot = keccak256(kind ‖ agentId ‖ subkey)`, byte strings in
///         Solidity's layout under their slot, lists with their length at no subkey. The twins
///         read and write the trie through `AgentStateTwin` at `0x…8000`.
library Trie {
    uint8 internal constant OWNER = 1;
    uint8 internal constant URI = 2;
    uint8 internal constant METADATA = 3;
    uint8 internal constant WALLET = 4;
    uint8 internal constant FEEDBACK = 7;
    uint8 internal constant FEEDBACK_TAG1 = 8;
    uint8 internal constant FEEDBACK_TAG2 = 9;
    uint8 internal constant LAST_INDEX = 10;
    uint8 internal constant CLIENTS = 11;
    uint8 internal constant RESPONSES = 12;
    uint8 internal constant OWNED = 13;
    uint8 internal constant CAPABILITY = 14;
    uint8 internal constant CAPABILITY_SCOPE = 15;
    uint8 internal constant CAPABILITY_LIMIT = 16;
    uint8 internal constant CAPABILITY_LIST = 17;
    uint8 internal constant SESSION = 18;
    uint8 internal constant SESSION_LIMIT = 19;
    uint8 internal constant SESSION_SPENT = 20;
    uint8 internal constant SESSION_LIST = 21;
    uint8 internal constant SESSION_PARTY = 22;
    uint8 internal constant SESSION_ALLOWED = 23;
    uint8 internal constant RESPONSES_BY = 24;
    uint8 internal constant INTERACTION = 25;
    uint8 internal constant INTERACTION_VOLUME = 26;
    uint8 internal constant INTERACTION_TOTAL = 27;
    uint8 internal constant INTERACTION_TOTAL_VOLUME = 28;

    /// @dev The last agent id issued.
    uint256 internal constant LAST_ID = 1;

    function slot(uint8 kind, uint256 id, bytes memory sub) internal pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(kind, id, sub)));
    }

    function slot(uint8 kind, uint256 id) internal pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(kind, id)));
    }

    function listSlot(uint8 kind, uint256 id, uint256 i) internal pure returns (uint256) {
        return slot(kind, id, abi.encodePacked(i));
    }

    function addressId(address a) internal pure returns (uint256) {
        return uint256(uint160(a));
    }

    function feedbackSub(address client, uint64 index) internal pure returns (bytes memory) {
        return abi.encodePacked(client, index);
    }

    function metadataSlot(uint256 id, string memory key) internal pure returns (uint256) {
        return slot(METADATA, id, abi.encodePacked(keccak256(bytes(key))));
    }

    function balanceSlot(address owner) internal pure returns (uint256) {
        return slot(OWNED, addressId(owner));
    }

    /// @dev `min(w, 2^64 - 1)`, as the precompiles read counters.
    function sat64(uint256 w) internal pure returns (uint64) {
        return w > type(uint64).max ? type(uint64).max : uint64(w);
    }

    // ------------------------------------------------------------------ access

    function load(uint256 s) internal view returns (uint256 v) {
        (bool ok, bytes memory out) = AGENT_STATE.staticcall(abi.encode(s));
        if (!ok || out.length != 32) revert("agnt2 twins: the interaction trie's account has no AgentStateTwin");
        v = abi.decode(out, (uint256));
    }

    function store(uint256 s, uint256 v) internal {
        (bool ok,) = AGENT_STATE.call(abi.encode(s, v));
        if (!ok) revert("agnt2 twins: writing the interaction trie failed");
    }

    /// @dev Whether this frame may write: the probe's TSTORE fails under STATICCALL (with a
    ///      small gas budget, so a refused write does not burn the caller's gas).
    function writable() internal returns (bool ok) {
        (ok,) = AGENT_STATE.call{gas: 5_000}("");
    }

    function loadAddress(uint256 s) internal view returns (address) {
        return address(uint160(load(s)));
    }

    function dataSlot(uint256 base) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(base)));
    }

    function loadBytes(uint256 base) internal view returns (bytes memory out) {
        uint256 head = load(base);
        if (head & 1 == 0) {
            uint256 len = (head & 0xff) / 2;
            if (len > 31) revert("corrupt short byte string in the interaction trie");
            out = new bytes(len);
            bytes32 h = bytes32(head);
            for (uint256 i; i < len; ++i) {
                out[i] = h[i];
            }
            return out;
        }
        uint256 n = head >> 1;
        if (n < 32 || n > (1 << 24)) revert("corrupt byte string length in the interaction trie");
        uint256 first = dataSlot(base);
        out = new bytes(((n + 31) / 32) * 32);
        for (uint256 i; i < (n + 31) / 32; ++i) {
            uint256 w = load(first + i);
            assembly {
                mstore(add(add(out, 32), mul(i, 32)), w)
            }
        }
        assembly {
            mstore(out, n)
        }
    }

    function storeBytes(uint256 base, bytes memory data) internal {
        uint256 head = load(base);
        uint256 oldWords = head & 1 == 1 ? ((head >> 1) + 31) / 32 : 0;
        if (oldWords > (1 << 19)) oldWords = 1 << 19;
        uint256 first = dataSlot(base);
        uint256 words;
        if (data.length <= 31) {
            bytes32 w;
            assembly {
                w := mload(add(data, 32))
            }
            // Keep the data's bytes, zero the rest, length × 2 in the last byte.
            uint256 mask = data.length == 0 ? 0 : ~(type(uint256).max >> (data.length * 8));
            store(base, (uint256(w) & mask) | (data.length * 2));
        } else {
            store(base, data.length * 2 + 1);
            words = (data.length + 31) / 32;
            for (uint256 i; i < words; ++i) {
                uint256 w;
                assembly {
                    w := mload(add(add(data, 32), mul(i, 32)))
                }
                uint256 left = data.length - i * 32;
                if (left < 32) w &= ~(type(uint256).max >> (left * 8));
                store(first + i, w);
            }
        }
        for (uint256 i = words; i < oldWords; ++i) {
            store(first + i, 0);
        }
    }

    function listLength(uint8 kind, uint256 id) internal view returns (uint256 n) {
        n = load(slot(kind, id));
        if (n > type(uint32).max) revert("corrupt list length in the interaction trie");
    }

    function list(uint8 kind, uint256 id) internal view returns (uint256[] memory out) {
        uint256 n = listLength(kind, id);
        out = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            out[i] = load(listSlot(kind, id, i));
        }
    }

    /// @dev Appends `value`; returns its 1-based position.
    function push(uint8 kind, uint256 id, uint256 value) internal returns (uint256) {
        uint256 lenSlot = slot(kind, id);
        uint64 n = sat64(load(lenSlot));
        store(listSlot(kind, id, n), value);
        store(lenSlot, uint256(n) + 1);
        return uint256(n) + 1;
    }

    /// @dev Removes the entry at 1-based `pos` by moving the last one into its place; returns
    ///      whether one moved and which.
    function remove(uint8 kind, uint256 id, uint256 pos) internal returns (bool moved, uint256 last) {
        uint256 lenSlot = slot(kind, id);
        uint64 n = sat64(load(lenSlot));
        if (pos == 0 || pos > n) revert("corrupt list position in the interaction trie");
        uint256 lastSlot = listSlot(kind, id, n - 1);
        if (pos < n) {
            last = load(lastSlot);
            store(listSlot(kind, id, pos - 1), last);
            moved = true;
        }
        store(lastSlot, 0);
        store(lenSlot, n - 1);
    }

    // ------------------------------------------------------------------ packed words

    /// @dev owner (160) | registered block (48) | position in the owner's list (48).
    function ownerWord(uint256 id) internal view returns (address owner, uint256 registered, uint256 pos) {
        uint256 w = load(slot(OWNER, id));
        owner = address(uint160(w));
        registered = (w >> 160) & ((1 << 48) - 1);
        pos = (w >> 208) & ((1 << 48) - 1);
    }

    function packOwner(address owner, uint256 registered, uint256 pos) internal pure returns (uint256) {
        return addressId(owner) | (registered << 160) | (pos << 208);
    }

    function wallet(uint256 id, address owner) internal view returns (address w) {
        w = loadAddress(slot(WALLET, id));
        if (w == address(0)) w = owner;
    }

    /// @dev The low 96 bits of an owner's address, kept in its sessions' words.
    function ownerTag(address owner) internal pure returns (uint256) {
        return uint256(uint160(owner)) & ((1 << 96) - 1);
    }

    /// @dev Decimal digits of `v`.
    function dec(uint256 v) internal pure returns (string memory) {
        if (v == 0) return "0";
        uint256 n;
        for (uint256 t = v; t != 0; t /= 10) {
            ++n;
        }
        bytes memory b = new bytes(n);
        for (; v != 0; v /= 10) {
            b[--n] = bytes1(uint8(48 + v % 10));
        }
        return string(b);
    }
}

/// @title Twin
/// @notice What every twin shares with the precompile shell: named reverts and the rule that
///         writes need a direct, non-static call to the precompile's own address.
///         No immutables: the runtime code is what is etched or put in a genesis.
abstract contract Twin {
    function _name() internal pure virtual returns (string memory);

    /// @dev The precompile's address.
    function _self() internal pure virtual returns (address);

    function _fail(string memory message) internal pure {
        revert(string.concat(_name(), ": ", message));
    }

    function _writable() internal {
        if (address(this) != _self() || !Trie.writable()) _fail("state changes need a direct, non-static call");
    }

    /// @dev Agent `id` exists and `caller` owns it; its owner word.
    function _requireOwner(uint256 id, address caller)
        internal
        view
        returns (address owner, uint256 registered, uint256 pos)
    {
        (owner, registered, pos) = Trie.ownerWord(id);
        if (owner == address(0)) _fail("unknown agent");
        if (owner != caller) _fail("caller is not the owner");
    }
}
