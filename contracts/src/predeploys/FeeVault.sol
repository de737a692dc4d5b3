// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title FeeVault
/// @notice agnt2's fee vaults (SequencerFeeVault 0x…11, BaseFeeVault 0x…19, L1FeeVault 0x…1a,
///         OperatorFeeVault 0x…1b). The EVM credits fees to them directly; anyone may sweep the
///         balance to the recipient once it reaches the minimum. Recipient and minimum live in
///         storage so that genesis (or a later upgrade) sets them per vault.
contract FeeVault {
    /// @notice Where withdrawals go (slot 0).
    address public recipient;
    /// @notice The smallest balance that may be withdrawn (slot 1).
    uint256 public minWithdrawalAmount;
    /// @notice Total amount ever withdrawn (slot 2).
    uint256 public totalProcessed;

    event Withdrawal(uint256 value, address to, address from);

    error BelowMinimum(uint256 balance, uint256 minimum);
    error TransferFailed();

    receive() external payable {}

    function version() external pure returns (string memory) {
        return "agnt2-1.0.0";
    }

    /// @notice Sends the whole balance to the recipient.
    function withdraw() external {
        uint256 value = address(this).balance;
        if (value < minWithdrawalAmount) revert BelowMinimum(value, minWithdrawalAmount);
        totalProcessed += value;
        emit Withdrawal(value, recipient, msg.sender);
        (bool ok,) = recipient.call{value: value}("");
        if (!ok) revert TransferFailed();
    }
}
