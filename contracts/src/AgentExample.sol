// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/// @notice An agent contract that registers itself with the native IdentityRegistry.
contract AgentExample {
    IIdentityRegistry public constant IDENTITY = IIdentityRegistry(0x0000000000000000000000000000000000008004);
    uint256 public agentId;

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
}
