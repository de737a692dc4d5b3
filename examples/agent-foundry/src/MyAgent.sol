// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IIdentityRegistry} from "agnt2/interfaces/IIdentityRegistry.sol";
import {ICapabilities} from "agnt2/interfaces/ICapabilities.sol";
import {ISessions} from "agnt2/interfaces/ISessions.sol";

/// @notice An agent that is an agent from its first block: its constructor registers it in
///         agnt2's IdentityRegistry (ERC-8004), grants it the "pay" capability and opens a
///         session for its operator's hot key, which may then pay out of the agent's balance
///         within the session's limit.
contract MyAgent {
    IIdentityRegistry public constant IDENTITY = IIdentityRegistry(0x0000000000000000000000000000000000008004);
    ICapabilities public constant CAPABILITIES = ICapabilities(0x0000000000000000000000000000000000008007);
    ISessions public constant SESSIONS = ISessions(0x0000000000000000000000000000000000008008);
    bytes32 public constant PAY = keccak256("pay");

    uint256 public immutable agentId;

    constructor(string memory uri, address sessionKey, uint256 perPayment, uint256 sessionLimit) payable {
        uint256 id = IDENTITY.register(uri);
        agentId = id;
        CAPABILITIES.grant(id, PAY, bytes32(0), perPayment, 0);
        SESSIONS.open(id, sessionKey, uint64(block.timestamp + 1 days), sessionLimit, new address[](0));
    }

    /// @notice The session key pays `to`: at most the capability's per-payment limit, within
    ///         the session's spend limit (the Sessions precompile keeps the count).
    function pay(address payable to, uint256 amount) external {
        ICapabilities.Grant memory g = CAPABILITIES.get(agentId, PAY);
        require(amount <= g.limit, "over the per-payment limit");
        SESSIONS.recordSpend(agentId, msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        require(ok, "payment failed");
    }

    receive() external payable {}
}
