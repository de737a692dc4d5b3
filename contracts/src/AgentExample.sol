// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {ICapabilities} from "./interfaces/ICapabilities.sol";
import {ISessions} from "./interfaces/ISessions.sol";

/// @notice An agent contract over the native agent precompiles: it registers itself, grants
///         itself capabilities, opens session keys, and lets a session key pay out of its
///         balance within the session's limits.
contract AgentExample {
    IIdentityRegistry public constant IDENTITY = IIdentityRegistry(0x0000000000000000000000000000000000008004);
    ICapabilities public constant CAPABILITIES = ICapabilities(0x0000000000000000000000000000000000008007);
    ISessions public constant SESSIONS = ISessions(0x0000000000000000000000000000000000008008);
    bytes32 public constant PAY = keccak256("pay");

    address public immutable operator;
    uint256 public agentId;

    constructor() payable {
        operator = msg.sender;
    }

    modifier onlyOperator() {
        require(msg.sender == operator, "not the operator");
        _;
    }

    /// @notice Registers this contract as an agent with `uri` and one metadata entry.
    function registerSelf(string calldata uri) external returns (uint256 id) {
        IIdentityRegistry.MetadataEntry[] memory meta = new IIdentityRegistry.MetadataEntry[](1);
        meta[0] = IIdentityRegistry.MetadataEntry("kind", bytes("example"));
        id = IDENTITY.register(uri, meta);
        agentId = id;
    }

    /// @notice Registers and then reverts: the registration must leave no trace.
    function registerThenRevert(string calldata uri) external {
        IDENTITY.register(uri);
        revert("changed my mind");
    }

    /// @notice A write through STATICCALL must fail.
    function staticRegister() external view returns (bool ok) {
        (ok,) = address(IDENTITY).staticcall(abi.encodeWithSignature("register()"));
    }

    /// @notice A write through DELEGATECALL must fail.
    function delegateRegister() external returns (bool ok) {
        (ok,) = address(IDENTITY).delegatecall(abi.encodeWithSignature("register()"));
    }

    /// @notice Grants this agent `capability` (this contract owns the agent).
    function grant(bytes32 capability, uint256 limit, uint64 expiry) external onlyOperator {
        CAPABILITIES.grant(agentId, capability, bytes32(uint256(uint160(address(this)))), limit, expiry);
    }

    /// @notice Opens a session key for this agent.
    function openSession(address key, uint64 expiry, uint256 spendLimit, address[] calldata counterparties)
        external
        onlyOperator
    {
        SESSIONS.open(agentId, key, expiry, spendLimit, counterparties);
    }

    /// @notice A session key pays `to` out of this contract's balance: the agent needs the
    ///         "pay" capability, each payment at most its limit, and the session must be valid
    ///         for `to` with room under its spend limit.
    function pay(address payable to, uint256 amount) external {
        require(CAPABILITIES.has(agentId, PAY), "no pay capability");
        ICapabilities.Grant memory g = CAPABILITIES.get(agentId, PAY);
        require(g.limit == 0 || amount <= g.limit, "over the per-payment limit");
        SESSIONS.recordSpend(agentId, msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        require(ok, "payment failed");
    }

    receive() external payable {}
}
