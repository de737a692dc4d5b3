// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentIdentity} from "./IDutyVerifier.sol";

/// @notice The session reads the treasury makes (agnt2 0x8008).
interface ISessionsView {
    struct Session {
        address key;
        uint64 expiry;
        uint256 spendLimit;
        uint256 spent;
        address[] counterparties;
    }

    function isValid(uint256 agentId, address key, address counterparty) external view returns (bool);
    function get(uint256 agentId, address key) external view returns (Session memory);
}

/// @notice The OP Stack's L2ToL1MessagePasser predeploy (0x4200…0016).
interface IMessagePasser {
    function initiateWithdrawal(address target, uint256 gasLimit, bytes calldata data) external payable;
}

/// @title AgentTreasury
/// @notice An agent's funds on the L2, with scoped managers: a bridge manager is a session key
///         of the agent (agnt2's Sessions precompile) that lists the L2ToL1MessagePasser among
///         its counterparties; it may only bridge the treasury's ETH to the agent's owner on
///         the L1, up to the session's spend limit (counted here, per session: a reopened
///         session starts a new budget), until the session expires or is closed. It cannot
///         send anywhere else, or anything on the L2. The owner of the agent (whoever holds it
///         now) may do both without a limit.
contract AgentTreasury {
    IAgentIdentity public immutable identity;
    ISessionsView public immutable sessions;
    IMessagePasser public immutable messagePasser;
    uint256 public immutable agentId;
    /// What each key has bridged under its session of a given expiry.
    mapping(address => mapping(uint64 => uint256)) public bridged;

    event Bridged(address indexed by, address indexed to, uint256 amount, uint256 bridgedInSession);
    event Withdrawn(address indexed to, uint256 amount);

    error NotAllowed();
    error OverLimit(uint256 limit, uint256 wouldBe);
    error TransferFailed();

    constructor(IAgentIdentity identity_, ISessionsView sessions_, IMessagePasser messagePasser_, uint256 agentId_) {
        identity = identity_;
        sessions = sessions_;
        messagePasser = messagePasser_;
        agentId = agentId_;
    }

    receive() external payable {}

    /// @notice Bridges `amount` to the agent's owner on the L1 (a withdrawal to prove and
    ///         finalize there); the owner, or a bridge manager within its limit.
    function bridgeToOwner(uint256 amount, uint32 minGasLimit) external {
        address owner = identity.ownerOf(agentId);
        if (msg.sender != owner) {
            if (!sessions.isValid(agentId, msg.sender, address(messagePasser))) revert NotAllowed();
            ISessionsView.Session memory s = sessions.get(agentId, msg.sender);
            uint256 wouldBe = bridged[msg.sender][s.expiry] + amount;
            if (wouldBe > s.spendLimit) revert OverLimit(s.spendLimit, wouldBe);
            bridged[msg.sender][s.expiry] = wouldBe;
            emit Bridged(msg.sender, owner, amount, wouldBe);
        } else {
            emit Bridged(msg.sender, owner, amount, 0);
        }
        messagePasser.initiateWithdrawal{value: amount}(owner, minGasLimit, "");
    }

    /// @notice The owner moves funds on the L2.
    function withdraw(address to, uint256 amount) external {
        if (msg.sender != identity.ownerOf(agentId)) revert NotAllowed();
        emit Withdrawn(to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}
