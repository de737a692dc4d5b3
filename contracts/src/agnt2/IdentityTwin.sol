// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IDENTITY} from "./AgentState.sol";
import {Trie, Twin} from "./Trie.sol";
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";

/// @title IdentityTwin
/// @notice The Solidity twin of agnt2's ERC-8004 IdentityRegistry precompile (`0x…8004`,
///         `crates/agent/src/identity.rs`): the same ABI, events, revert reasons and
///         interaction-trie slots, for Foundry's EVM, which does not run the precompile.
contract IdentityTwin is Twin, IIdentityRegistry {
    string private constant WALLET_KEY = "agentWallet";
    bytes32 private constant WALLET_SET_TYPEHASH =
        keccak256("AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 deadline)");
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    function _name() internal pure override returns (string memory) {
        return "IdentityRegistry";
    }

    function _self() internal pure override returns (address) {
        return IDENTITY;
    }

    function _isWallet(string memory key) private pure returns (bool) {
        return keccak256(bytes(key)) == keccak256(bytes(WALLET_KEY));
    }

    function register() external returns (uint256) {
        _writable();
        return _register("", new MetadataEntry[](0));
    }

    function register(string calldata agentURI) external returns (uint256) {
        _writable();
        return _register(agentURI, new MetadataEntry[](0));
    }

    function register(string calldata agentURI, MetadataEntry[] calldata metadata) external returns (uint256) {
        _writable();
        return _register(agentURI, metadata);
    }

    function _register(string memory uri, MetadataEntry[] memory metadata) private returns (uint256 id) {
        for (uint256 i; i < metadata.length; ++i) {
            if (_isWallet(metadata[i].metadataKey)) _fail("agentWallet is reserved");
        }
        id = Trie.load(Trie.LAST_ID) + 1;
        Trie.store(Trie.LAST_ID, id);
        uint256 pos = Trie.push(Trie.OWNED, Trie.addressId(msg.sender), id);
        Trie.store(Trie.slot(Trie.OWNER, id), Trie.packOwner(msg.sender, block.number, pos));
        if (bytes(uri).length != 0) Trie.storeBytes(Trie.slot(Trie.URI, id), bytes(uri));
        emit Transfer(address(0), msg.sender, id);
        emit Registered(id, uri, msg.sender);
        for (uint256 i; i < metadata.length; ++i) {
            Trie.storeBytes(Trie.metadataSlot(id, metadata[i].metadataKey), metadata[i].metadataValue);
            emit MetadataSet(id, metadata[i].metadataKey, metadata[i].metadataKey, metadata[i].metadataValue);
        }
    }

    function setAgentURI(uint256 agentId, string calldata newURI) external {
        _writable();
        _requireOwner(agentId, msg.sender);
        Trie.storeBytes(Trie.slot(Trie.URI, agentId), bytes(newURI));
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    function setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) external {
        _writable();
        if (_isWallet(metadataKey)) _fail("agentWallet is reserved: use setAgentWallet");
        _requireOwner(agentId, msg.sender);
        Trie.storeBytes(Trie.metadataSlot(agentId, metadataKey), metadataValue);
        emit MetadataSet(agentId, metadataKey, metadataKey, metadataValue);
    }

    function getMetadata(uint256 agentId, string calldata metadataKey) external view returns (bytes memory) {
        (address owner,,) = Trie.ownerWord(agentId);
        if (owner == address(0)) _fail("unknown agent");
        if (_isWallet(metadataKey)) return abi.encodePacked(Trie.wallet(agentId, owner));
        return Trie.loadBytes(Trie.metadataSlot(agentId, metadataKey));
    }

    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature) external {
        _writable();
        (address owner,,) = _requireOwner(agentId, msg.sender);
        if (newWallet == address(0)) _fail("new wallet is the zero address: use unsetAgentWallet");
        if (deadline < block.timestamp) _fail("proof deadline has passed");
        if (deadline > block.timestamp + 300) _fail("proof deadline is more than 5 minutes ahead");
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ERC8004IdentityRegistry"),
                keccak256("1"),
                block.chainid,
                IDENTITY
            )
        );
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01", domain, keccak256(abi.encode(WALLET_SET_TYPEHASH, agentId, newWallet, owner, deadline))
            )
        );
        if (_recover(digest, signature) != newWallet) _fail("proof is not signed by the new wallet");
        Trie.store(Trie.slot(Trie.WALLET, agentId), Trie.addressId(newWallet));
        emit MetadataSet(agentId, WALLET_KEY, WALLET_KEY, abi.encodePacked(newWallet));
    }

    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address signer) {
        if (sig.length != 65) _fail(string.concat("signature must be 65 bytes, got ", Trie.dec(sig.length)));
        uint8 v = uint8(sig[64]);
        if (v == 0 || v == 1) v += 27;
        else if (v != 27 && v != 28) _fail(string.concat("invalid signature v ", Trie.dec(uint8(sig[64]))));
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        if (uint256(s) > HALF_ORDER) _fail("signature s is in the upper half of the order");
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) _fail("signature does not recover");
    }

    function getAgentWallet(uint256 agentId) external view returns (address) {
        (address owner,,) = Trie.ownerWord(agentId);
        if (owner == address(0)) _fail("unknown agent");
        return Trie.wallet(agentId, owner);
    }

    function unsetAgentWallet(uint256 agentId) external {
        _writable();
        _requireOwner(agentId, msg.sender);
        Trie.store(Trie.slot(Trie.WALLET, agentId), 0);
    }

    function ownerOf(uint256 tokenId) external view returns (address owner) {
        (owner,,) = Trie.ownerWord(tokenId);
        if (owner == address(0)) _fail("unknown agent");
    }

    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) _fail("zero address is not an owner");
        return Trie.load(Trie.balanceSlot(owner));
    }

    function tokenOfOwnerByIndex(address owner, uint256 index) external view returns (uint256) {
        if (index >= Trie.load(Trie.balanceSlot(owner))) _fail("owner index out of bounds");
        return Trie.load(Trie.listSlot(Trie.OWNED, Trie.addressId(owner), Trie.sat64(index)));
    }

    function tokenURI(uint256 tokenId) external view returns (string memory) {
        (address owner,,) = Trie.ownerWord(tokenId);
        if (owner == address(0)) _fail("unknown agent");
        return string(Trie.loadBytes(Trie.slot(Trie.URI, tokenId)));
    }

    function name() external pure returns (string memory) {
        return "AgentIdentity";
    }

    function symbol() external pure returns (string memory) {
        return "AGENT";
    }

    function totalAgents() external view returns (uint256) {
        return Trie.load(Trie.LAST_ID);
    }

    function transferFrom(address from, address to, uint256 tokenId) external {
        _writable();
        _transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        _writable();
        _transfer(from, to, tokenId);
    }

    function _transfer(address from, address to, uint256 id) private {
        (address owner, uint256 registered, uint256 pos) = Trie.ownerWord(id);
        if (owner == address(0)) _fail("unknown agent");
        if (owner != from) _fail("from is not the owner");
        if (msg.sender != owner) _fail("caller is not the owner");
        if (to == address(0)) _fail("transfer to the zero address");
        (bool moved, uint256 other) = Trie.remove(Trie.OWNED, Trie.addressId(from), pos);
        if (moved) {
            (address o, uint256 reg,) = Trie.ownerWord(other);
            Trie.store(Trie.slot(Trie.OWNER, other), Trie.packOwner(o, reg, pos));
        }
        uint256 newPos = Trie.push(Trie.OWNED, Trie.addressId(to), id);
        Trie.store(Trie.slot(Trie.OWNER, id), Trie.packOwner(to, registered, newPos));
        Trie.store(Trie.slot(Trie.WALLET, id), 0);
        emit Transfer(from, to, id);
    }
}
