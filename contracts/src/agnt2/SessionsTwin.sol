// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SESSIONS} from "./AgentState.sol";
import {Trie, Twin} from "./Trie.sol";
import {ISessions} from "../interfaces/ISessions.sol";

/// @title SessionsTwin
/// @notice The Solidity twin of agnt2's Sessions precompile (`0x…8008`,
///         `crates/agent/src/sessions.rs`): the same ABI, events, revert reasons and
///         interaction-trie slots, for Foundry's EVM, which does not run the precompile.
contract SessionsTwin is Twin, ISessions {
    /// @dev expiry (64) | position in the agent's list (32) | epoch (32) | counterparties (32) |
    ///      owner tag (96).
    struct Word {
        uint64 expiry;
        uint256 pos;
        uint256 epoch;
        uint256 parties;
        uint256 ownerTag;
    }

    uint256 private constant MAX_COUNTERPARTIES = 64;
    uint256 private constant U32 = type(uint32).max;

    function _name() internal pure override returns (string memory) {
        return "Sessions";
    }

    function _self() internal pure override returns (address) {
        return SESSIONS;
    }

    function _slot(uint8 kind, uint256 id, address key) private pure returns (uint256) {
        return Trie.slot(kind, id, abi.encodePacked(key));
    }

    function _word(uint256 id, address key) private view returns (Word memory w) {
        uint256 raw = Trie.load(_slot(Trie.SESSION, id, key));
        w.expiry = uint64(raw);
        w.pos = (raw >> 64) & U32;
        w.epoch = (raw >> 96) & U32;
        w.parties = (raw >> 128) & U32;
        w.ownerTag = raw >> 160;
    }

    function _pack(Word memory w) private pure returns (uint256) {
        return uint256(w.expiry) | (w.pos << 64) | (w.epoch << 96) | (w.parties << 128)
            | ((w.ownerTag & ((1 << 96) - 1)) << 160);
    }

    function _owner(uint256 id) private view returns (address owner) {
        (owner,,) = Trie.ownerWord(id);
    }

    /// @dev Empty when the key is valid for `counterparty`; else why not.
    function _check(uint256 id, address key, address counterparty) private view returns (string memory) {
        Word memory w = _word(id, key);
        if (w.pos == 0) return "no open session for this key";
        if (block.timestamp > w.expiry) return "session expired";
        if (Trie.ownerTag(_owner(id)) != w.ownerTag) return "the agent changed hands since this session was opened";
        if (counterparty != address(0) && w.parties != 0) {
            uint256 epoch = Trie.load(Trie.slot(Trie.SESSION_ALLOWED, id, abi.encodePacked(key, counterparty)));
            if (epoch != w.epoch) return "counterparty not allowed in this session";
        }
        return "";
    }

    function open(uint256 agentId, address key, uint64 expiry, uint256 spendLimit, address[] calldata counterparties)
        external
    {
        _writable();
        _requireOwner(agentId, msg.sender);
        if (key == address(0)) _fail("session key is the zero address");
        if (expiry <= block.timestamp) _fail("expiry must be in the future");
        if (counterparties.length > MAX_COUNTERPARTIES) _fail("at most 64 counterparties");
        Word memory w = _word(agentId, key);
        if (w.pos == 0) w.pos = Trie.push(Trie.SESSION_LIST, agentId, Trie.addressId(key));
        w.expiry = expiry;
        w.epoch = (w.epoch + 1) & U32;
        w.parties = counterparties.length;
        w.ownerTag = Trie.ownerTag(msg.sender);
        Trie.store(_slot(Trie.SESSION, agentId, key), _pack(w));
        Trie.store(_slot(Trie.SESSION_LIMIT, agentId, key), spendLimit);
        Trie.store(_slot(Trie.SESSION_SPENT, agentId, key), 0);
        for (uint256 i; i < counterparties.length; ++i) {
            Trie.store(
                Trie.slot(Trie.SESSION_PARTY, agentId, abi.encodePacked(key, uint64(i))),
                Trie.addressId(counterparties[i])
            );
            Trie.store(Trie.slot(Trie.SESSION_ALLOWED, agentId, abi.encodePacked(key, counterparties[i])), w.epoch);
        }
        emit SessionOpened(agentId, key, expiry, spendLimit, counterparties);
    }

    function close(uint256 agentId, address key) external {
        _writable();
        if (msg.sender != key) _requireOwner(agentId, msg.sender);
        Word memory w = _word(agentId, key);
        if (w.pos == 0) _fail("no open session for this key");
        (bool moved, uint256 other) = Trie.remove(Trie.SESSION_LIST, agentId, w.pos);
        if (moved) {
            address m = address(uint160(other));
            Word memory mw = _word(agentId, m);
            mw.pos = w.pos;
            Trie.store(_slot(Trie.SESSION, agentId, m), _pack(mw));
        }
        Trie.store(_slot(Trie.SESSION, agentId, key), _pack(Word(0, 0, w.epoch, 0, 0)));
        Trie.store(_slot(Trie.SESSION_LIMIT, agentId, key), 0);
        Trie.store(_slot(Trie.SESSION_SPENT, agentId, key), 0);
        emit SessionClosed(agentId, key, msg.sender);
    }

    function isValid(uint256 agentId, address key, address counterparty) external view returns (bool) {
        return bytes(_check(agentId, key, counterparty)).length == 0;
    }

    function recordSpend(uint256 agentId, address key, address counterparty, uint256 amount)
        external
        returns (uint256 remaining)
    {
        _writable();
        address owner = _owner(agentId);
        if (owner == address(0)) _fail("unknown agent");
        if (msg.sender != key && msg.sender != owner && msg.sender != Trie.wallet(agentId, owner)) {
            _fail("caller is neither the session key, the owner nor the agent wallet");
        }
        string memory why = _check(agentId, key, counterparty);
        if (bytes(why).length != 0) _fail(why);
        uint256 limit = Trie.load(_slot(Trie.SESSION_LIMIT, agentId, key));
        uint256 spentSlot = _slot(Trie.SESSION_SPENT, agentId, key);
        uint256 spent = Trie.load(spentSlot);
        if (amount > type(uint256).max - spent || spent + amount > limit) {
            _fail(
                string.concat(
                    "spend limit exceeded: spent ",
                    Trie.dec(spent),
                    " + ",
                    Trie.dec(amount),
                    " > limit ",
                    Trie.dec(limit)
                )
            );
        }
        Trie.store(spentSlot, spent + amount);
        emit SpendRecorded(agentId, key, counterparty, amount, spent + amount);
        return limit - (spent + amount);
    }

    function get(uint256 agentId, address key) external view returns (Session memory s) {
        Word memory w = _word(agentId, key);
        if (w.pos == 0) _fail("no open session for this key");
        s.key = key;
        s.expiry = w.expiry;
        s.spendLimit = Trie.load(_slot(Trie.SESSION_LIMIT, agentId, key));
        s.spent = Trie.load(_slot(Trie.SESSION_SPENT, agentId, key));
        s.counterparties = new address[](w.parties);
        for (uint256 i; i < w.parties; ++i) {
            s.counterparties[i] =
                Trie.loadAddress(Trie.slot(Trie.SESSION_PARTY, agentId, abi.encodePacked(key, uint64(i))));
        }
    }

    function list(uint256 agentId) external view returns (address[] memory out) {
        uint256 tag = Trie.ownerTag(_owner(agentId));
        uint256[] memory keys = Trie.list(Trie.SESSION_LIST, agentId);
        out = new address[](keys.length);
        uint256 n;
        for (uint256 i; i < keys.length; ++i) {
            address key = address(uint160(keys[i]));
            Word memory w = _word(agentId, key);
            if (w.pos != 0 && block.timestamp <= w.expiry && w.ownerTag == tag) out[n++] = key;
        }
        assembly {
            mstore(out, n)
        }
    }
}
