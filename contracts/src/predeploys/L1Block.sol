// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title L1Block
/// @notice agnt2's L1Block predeploy at 0x4200000000000000000000000000000000000015. Keeps the OP
///         Stack ABI and storage layout: the first transaction of every L2 block (the L1-info
///         deposit from the depositor account) writes the attributes of an L1 block here, and
///         op-revm reads the fee parameters straight from slots 1, 3, 7 and 8.
contract L1Block {
    /// @notice The system account that sends the L1-info deposit.
    address public constant DEPOSITOR_ACCOUNT = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;

    uint64 public number; // slot 0
    uint64 public timestamp; // slot 0
    uint256 public basefee; // slot 1
    bytes32 public hash; // slot 2
    uint64 public sequenceNumber; // slot 3
    uint32 public blobBaseFeeScalar; // slot 3
    uint32 public baseFeeScalar; // slot 3
    bytes32 public batcherHash; // slot 4
    uint256 public l1FeeOverhead; // slot 5 (pre-Ecotone, unused)
    uint256 public l1FeeScalar; // slot 6 (pre-Ecotone, unused)
    uint256 public blobBaseFee; // slot 7
    uint64 public operatorFeeConstant; // slot 8
    uint32 public operatorFeeScalar; // slot 8
    uint16 public daFootprintGasScalar; // slot 8

    error NotDepositor();
    error BadLength(uint256 got);

    function version() external pure returns (string memory) {
        return "agnt2-1.0.0";
    }

    /// @notice The token that pays for gas: always ETH on agnt2 (OP's marker address, 18 decimals).
    ///         OP's messengers and bridges ask before moving value.
    function gasPayingToken() external pure returns (address addr_, uint8 decimals_) {
        return (0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE, 18);
    }

    function gasPayingTokenName() external pure returns (string memory) {
        return "Ether";
    }

    function gasPayingTokenSymbol() external pure returns (string memory) {
        return "ETH";
    }

    function isCustomGasToken() external pure returns (bool) {
        return false;
    }

    /// @notice Ecotone layout: 160 packed bytes after the selector.
    function setL1BlockValuesEcotone() external {
        _setEcotone(164);
    }

    /// @notice Isthmus layout: Ecotone + operatorFeeScalar (u32) + operatorFeeConstant (u64).
    function setL1BlockValuesIsthmus() external {
        _setEcotone(176);
        _setOperatorFee();
    }

    /// @notice Jovian layout: Isthmus + daFootprintGasScalar (u16).
    function setL1BlockValuesJovian() external {
        _setEcotone(178);
        _setOperatorFee();
        daFootprintGasScalar = uint16(bytes2(msg.data[176:178]));
    }

    function _setEcotone(uint256 expectedLength) internal {
        if (msg.sender != DEPOSITOR_ACCOUNT) revert NotDepositor();
        if (msg.data.length != expectedLength) revert BadLength(msg.data.length);
        baseFeeScalar = uint32(bytes4(msg.data[4:8]));
        blobBaseFeeScalar = uint32(bytes4(msg.data[8:12]));
        sequenceNumber = uint64(bytes8(msg.data[12:20]));
        timestamp = uint64(bytes8(msg.data[20:28]));
        number = uint64(bytes8(msg.data[28:36]));
        basefee = uint256(bytes32(msg.data[36:68]));
        blobBaseFee = uint256(bytes32(msg.data[68:100]));
        hash = bytes32(msg.data[100:132]);
        batcherHash = bytes32(msg.data[132:164]);
    }

    function _setOperatorFee() internal {
        operatorFeeScalar = uint32(bytes4(msg.data[164:168]));
        operatorFeeConstant = uint64(bytes8(msg.data[168:176]));
    }
}
