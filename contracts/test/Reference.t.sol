// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IdentityRegistrySol} from "../src/reference/IdentityRegistrySol.sol";
import {ReputationRegistrySol} from "../src/reference/ReputationRegistrySol.sol";

/// @notice A second address for the Solidity reference registries' rules.
contract Client {
    function rate(ReputationRegistrySol r, uint256 id, int128 v, uint8 d, string calldata tag) external {
        r.giveFeedback(id, v, d, tag, "", "", "", bytes32(0));
    }
}

/// @notice The Solidity registries the gas benchmark compares against behave like ERC-8004's.
contract ReferenceTest {
    IdentityRegistrySol identity = new IdentityRegistrySol();
    ReputationRegistrySol reputation = new ReputationRegistrySol(identity);

    /// @notice This test contract owns the agents it registers (a contract receiver).
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC721Received.selector;
    }

    function test_register_and_read_back() public {
        uint256 a = identity.register("ipfs://a");
        uint256 b = identity.register("ipfs://b");
        require(a == 0 && b == 1, "ids from 0, as _lastId++");
        require(identity.ownerOf(b) == address(this), "owner");
        require(identity.balanceOf(address(this)) == 2, "balance");
        require(keccak256(bytes(identity.tokenURI(a))) == keccak256("ipfs://a"), "uri");
        require(identity.getAgentWallet(a) == address(this), "wallet starts as the owner");
    }

    function test_feedback_rules() public {
        uint256 id = identity.register("ipfs://rated");
        Client c = new Client();
        c.rate(reputation, id, 90, 0, "starred");
        c.rate(reputation, id, 70, 0, "starred");
        require(reputation.getLastIndex(id, address(c)) == 2, "indexes count from 1");
        require(reputation.getClients(id).length == 1, "a client is listed once");
        (int128 v,,,, bool revoked) = reputation.readFeedback(id, address(c), 2);
        require(v == 70 && !revoked, "read back");
        (bool ok,) = address(reputation).call(
            abi.encodeCall(ReputationRegistrySol.giveFeedback, (id, 1, 0, "", "", "", "", bytes32(0)))
        );
        require(!ok, "the owner cannot rate its agent");
        (ok,) = address(c).call(abi.encodeCall(Client.rate, (reputation, id, 1, 19, "")));
        require(!ok, "decimals above 18");
    }
}
