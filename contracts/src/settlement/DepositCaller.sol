// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The OptimismPortal's deposit entry point.
interface IOptimismPortal {
    function depositTransaction(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes calldata data)
        external
        payable;
}

/// @title DepositCaller
/// @notice An L1 contract that deposits through the portal, so that its L2 sender is aliased
///         (`address + 0x1111000000000000000000000000000000001111`). Used by the settlement tests.
contract DepositCaller {
    function deposit(IOptimismPortal portal, address to, uint64 gasLimit, bytes calldata data) external payable {
        portal.depositTransaction{value: msg.value}(to, msg.value, gasLimit, false, data);
    }
}
