// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IDENTITY, REPUTATION} from "./AgentState.sol";
import {Trie, Twin} from "./Trie.sol";
import {IReputationRegistry} from "../interfaces/IReputationRegistry.sol";

/// @title ReputationTwin
/// @notice The Solidity twin of agnt2's ERC-8004 ReputationRegistry precompile (`0x…8005`,
///         `crates/agent/src/reputation.rs`): the same ABI, events, revert reasons and
///         interaction-trie slots, for Foundry's EVM, which does not run the precompile.
contract ReputationTwin is Twin, IReputationRegistry {
    struct Feedback {
        address client;
        uint64 index;
        int128 value;
        uint8 valueDecimals;
        string tag1;
        string tag2;
        bool isRevoked;
    }

    uint256 private constant MAX_ABS_VALUE = 1e38;

    function _name() internal pure override returns (string memory) {
        return "ReputationRegistry";
    }

    function _self() internal pure override returns (address) {
        return REPUTATION;
    }

    function _pack(int128 value, uint8 decimals, bool revoked) private pure returns (uint256) {
        return uint256(uint128(value)) | (uint256(decimals) << 128) | ((revoked ? uint256(1) : 0) << 136) | (1 << 144);
    }

    function _unpack(uint256 w) private pure returns (int128 value, uint8 decimals, bool revoked) {
        value = int128(uint128(w));
        decimals = uint8(w >> 128);
        revoked = (w >> 136) & 1 == 1;
    }

    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8 valueDecimals,
        string memory tag1,
        string memory tag2,
        string memory endpoint,
        string memory feedbackURI,
        bytes32 feedbackHash
    ) external {
        _writable();
        uint64 idx = _give(agentId, value, valueDecimals, tag1, tag2);
        emit NewFeedback(
            agentId, msg.sender, idx, value, valueDecimals, tag1, tag1, tag2, endpoint, feedbackURI, feedbackHash
        );
    }

    function _give(uint256 agentId, int128 value, uint8 valueDecimals, string memory tag1, string memory tag2)
        private
        returns (uint64 idx)
    {
        (address owner,,) = Trie.ownerWord(agentId);
        if (owner == address(0)) _fail("unknown agent");
        if (owner == msg.sender) _fail("owners cannot rate their own agent");
        if (valueDecimals > 18) _fail("valueDecimals must be at most 18");
        uint256 abs = value < 0 ? uint256(-int256(value)) : uint256(int256(value));
        if (abs > MAX_ABS_VALUE) _fail("|value| must be at most 1e38");
        uint256 lastSlot = Trie.slot(Trie.LAST_INDEX, agentId, abi.encodePacked(msg.sender));
        idx = Trie.sat64(Trie.load(lastSlot)) + 1;
        Trie.store(lastSlot, idx);
        if (idx == 1) Trie.push(Trie.CLIENTS, agentId, Trie.addressId(msg.sender));
        bytes memory sub = Trie.feedbackSub(msg.sender, idx);
        Trie.store(Trie.slot(Trie.FEEDBACK, agentId, sub), _pack(value, valueDecimals, false));
        Trie.storeBytes(Trie.slot(Trie.FEEDBACK_TAG1, agentId, sub), bytes(tag1));
        Trie.storeBytes(Trie.slot(Trie.FEEDBACK_TAG2, agentId, sub), bytes(tag2));
    }

    function revokeFeedback(uint256 agentId, uint64 feedbackIndex) external {
        _writable();
        uint256 s = Trie.slot(Trie.FEEDBACK, agentId, Trie.feedbackSub(msg.sender, feedbackIndex));
        uint256 w = Trie.load(s);
        if (w == 0) _fail("no such feedback from the caller");
        (int128 value, uint8 decimals, bool revoked) = _unpack(w);
        if (revoked) _fail("feedback already revoked");
        Trie.store(s, _pack(value, decimals, true));
        emit FeedbackRevoked(agentId, msg.sender, feedbackIndex);
    }

    function appendResponse(
        uint256 agentId,
        address clientAddress,
        uint64 feedbackIndex,
        string calldata responseURI,
        bytes32 responseHash
    ) external {
        _writable();
        bytes memory sub = Trie.feedbackSub(clientAddress, feedbackIndex);
        if (Trie.load(Trie.slot(Trie.FEEDBACK, agentId, sub)) == 0) _fail("no such feedback");
        uint256 a = Trie.slot(Trie.RESPONSES, agentId, sub);
        Trie.store(a, Trie.load(a) + 1);
        uint256 b = Trie.slot(Trie.RESPONSES_BY, agentId, abi.encodePacked(msg.sender, sub));
        Trie.store(b, Trie.load(b) + 1);
        emit ResponseAppended(agentId, clientAddress, feedbackIndex, msg.sender, responseURI, responseHash);
    }

    function _feedback(uint256 id, address client, uint64 index) private view returns (bool found, Feedback memory f) {
        bytes memory sub = Trie.feedbackSub(client, index);
        uint256 w = Trie.load(Trie.slot(Trie.FEEDBACK, id, sub));
        if (w == 0) return (false, f);
        (f.value, f.valueDecimals, f.isRevoked) = _unpack(w);
        f.client = client;
        f.index = index;
        f.tag1 = string(Trie.loadBytes(Trie.slot(Trie.FEEDBACK_TAG1, id, sub)));
        f.tag2 = string(Trie.loadBytes(Trie.slot(Trie.FEEDBACK_TAG2, id, sub)));
        found = true;
    }

    function _lastIndex(uint256 id, address client) private view returns (uint64) {
        return Trie.sat64(Trie.load(Trie.slot(Trie.LAST_INDEX, id, abi.encodePacked(client))));
    }

    function _all(uint256 id, address[] memory clients, string memory tag1, string memory tag2, bool withRevoked)
        private
        view
        returns (Feedback[] memory out)
    {
        uint256 total;
        for (uint256 c; c < clients.length; ++c) {
            total += _lastIndex(id, clients[c]);
        }
        out = new Feedback[](total);
        uint256 n;
        bytes32 t1 = keccak256(bytes(tag1));
        bytes32 t2 = keccak256(bytes(tag2));
        for (uint256 c; c < clients.length; ++c) {
            uint64 last = _lastIndex(id, clients[c]);
            for (uint64 i = 1; i <= last && i != 0; ++i) {
                (bool found, Feedback memory f) = _feedback(id, clients[c], i);
                if (!found) continue;
                if (f.isRevoked && !withRevoked) continue;
                if (bytes(tag1).length != 0 && keccak256(bytes(f.tag1)) != t1) continue;
                if (bytes(tag2).length != 0 && keccak256(bytes(f.tag2)) != t2) continue;
                out[n++] = f;
            }
        }
        assembly {
            mstore(out, n)
        }
    }

    function _clamp(int256 v) private pure returns (int256) {
        if (v > type(int128).max) return type(int128).max;
        if (v < type(int128).min) return type(int128).min;
        return v;
    }

    function getSummary(uint256 agentId, address[] calldata clientAddresses, string calldata tag1, string calldata tag2)
        external
        view
        returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals)
    {
        if (clientAddresses.length == 0) _fail("getSummary needs a list of clients");
        Feedback[] memory all = _all(agentId, clientAddresses, tag1, tag2, false);
        int256 sum;
        uint256[19] memory seen;
        for (uint256 i; i < all.length; ++i) {
            uint8 d = all[i].valueDecimals > 18 ? 18 : all[i].valueDecimals;
            // As the precompile: each product and each partial sum saturate at int128's bounds.
            sum = _clamp(sum + _clamp(int256(all[i].value) * int256(10 ** (18 - d))));
            seen[d] += 1;
        }
        count = uint64(all.length);
        if (count == 0) return (0, 0, 0);
        uint8 mode;
        for (uint8 d = 1; d <= 18; ++d) {
            if (seen[d] > seen[mode]) mode = d;
        }
        summaryValue = int128((sum / int256(uint256(count))) / int256(10 ** (18 - mode)));
        summaryValueDecimals = mode;
    }

    function readFeedback(uint256 agentId, address clientAddress, uint64 feedbackIndex)
        external
        view
        returns (int128 value, uint8 valueDecimals, string memory tag1, string memory tag2, bool isRevoked)
    {
        (bool found, Feedback memory f) = _feedback(agentId, clientAddress, feedbackIndex);
        if (!found) _fail("no such feedback");
        return (f.value, f.valueDecimals, f.tag1, f.tag2, f.isRevoked);
    }

    function getClients(uint256 agentId) public view returns (address[] memory out) {
        uint256[] memory raw = Trie.list(Trie.CLIENTS, agentId);
        out = new address[](raw.length);
        for (uint256 i; i < raw.length; ++i) {
            out[i] = address(uint160(raw[i]));
        }
    }

    function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64) {
        return _lastIndex(agentId, clientAddress);
    }

    function readAllFeedback(
        uint256 agentId,
        address[] memory clientAddresses,
        string memory tag1,
        string memory tag2,
        bool includeRevoked
    )
        external
        view
        returns (
            address[] memory,
            uint64[] memory,
            int128[] memory,
            uint8[] memory,
            string[] memory,
            string[] memory,
            bool[] memory
        )
    {
        address[] memory who = clientAddresses.length == 0 ? getClients(agentId) : clientAddresses;
        // One struct of the seven arrays encodes as an offset word, then exactly the tuple of
        // seven the function returns.
        bytes memory out = abi.encode(_columns(_all(agentId, who, tag1, tag2, includeRevoked)));
        assembly {
            return(add(out, 64), sub(mload(out), 32))
        }
    }

    struct Columns {
        address[] clients;
        uint64[] feedbackIndexes;
        int128[] values;
        uint8[] valueDecimals;
        string[] tag1s;
        string[] tag2s;
        bool[] revokedStatuses;
    }

    function _columns(Feedback[] memory all) private pure returns (Columns memory c) {
        uint256 n = all.length;
        c.clients = new address[](n);
        c.feedbackIndexes = new uint64[](n);
        c.values = new int128[](n);
        c.valueDecimals = new uint8[](n);
        c.tag1s = new string[](n);
        c.tag2s = new string[](n);
        c.revokedStatuses = new bool[](n);
        for (uint256 i; i < n; ++i) {
            c.clients[i] = all[i].client;
            c.feedbackIndexes[i] = all[i].index;
            c.values[i] = all[i].value;
            c.valueDecimals[i] = all[i].valueDecimals;
            c.tag1s[i] = all[i].tag1;
            c.tag2s[i] = all[i].tag2;
            c.revokedStatuses[i] = all[i].isRevoked;
        }
    }

    function getResponseCount(
        uint256 agentId,
        address clientAddress,
        uint64 feedbackIndex,
        address[] calldata responders
    ) external view returns (uint64 count) {
        bytes memory sub = Trie.feedbackSub(clientAddress, feedbackIndex);
        if (responders.length == 0) return Trie.sat64(Trie.load(Trie.slot(Trie.RESPONSES, agentId, sub)));
        for (uint256 i; i < responders.length; ++i) {
            uint64 n =
                Trie.sat64(Trie.load(Trie.slot(Trie.RESPONSES_BY, agentId, abi.encodePacked(responders[i], sub))));
            count = type(uint64).max - count < n ? type(uint64).max : count + n;
        }
    }

    function getIdentityRegistry() external pure returns (address) {
        return IDENTITY;
    }
}
