// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface IL1Block {
    function basefee() external view returns (uint256);
    function blobBaseFee() external view returns (uint256);
    function baseFeeScalar() external view returns (uint32);
    function blobBaseFeeScalar() external view returns (uint32);
    function operatorFeeScalar() external view returns (uint32);
    function operatorFeeConstant() external view returns (uint64);
}

/// @title GasPriceOracle
/// @notice agnt2's GasPriceOracle predeploy at 0x420000000000000000000000000000000000000F. Keeps
///         the OP Stack ABI and answers with the Fjord (FastLZ) L1 fee and the Jovian operator
///         fee, which are the rules agnt2 runs from genesis. Wallets (viem's `estimateL1Fee`)
///         call `getL1Fee` with the unsigned RLP of a transaction.
contract GasPriceOracle {
    /// @notice Number of decimals of the scalars.
    uint256 public constant DECIMALS = 6;

    IL1Block internal constant L1_BLOCK = IL1Block(0x4200000000000000000000000000000000000015);

    int256 private constant COST_INTERCEPT = -42_585_600;
    uint256 private constant COST_FASTLZ_COEF = 836_500;
    uint256 private constant MIN_TRANSACTION_SIZE = 100;

    /// @notice Storage kept for ABI and layout compatibility (slot 0): all true at agnt2 genesis.
    bool public isEcotone;
    bool public isFjord;
    bool public isIsthmus;
    bool public isJovian;

    function version() external pure returns (string memory) {
        return "agnt2-1.0.0";
    }

    function decimals() external pure returns (uint256) {
        return DECIMALS;
    }

    function gasPrice() external view returns (uint256) {
        return block.basefee;
    }

    function baseFee() external view returns (uint256) {
        return block.basefee;
    }

    function l1BaseFee() public view returns (uint256) {
        return L1_BLOCK.basefee();
    }

    function blobBaseFee() public view returns (uint256) {
        return L1_BLOCK.blobBaseFee();
    }

    function baseFeeScalar() public view returns (uint32) {
        return L1_BLOCK.baseFeeScalar();
    }

    function blobBaseFeeScalar() public view returns (uint32) {
        return L1_BLOCK.blobBaseFeeScalar();
    }

    /// @notice The L1 fee of a transaction whose unsigned RLP is `_data`.
    function getL1Fee(bytes memory _data) external view returns (uint256) {
        return _fjordL1Cost(flzCompressLen(_data) + 68);
    }

    /// @notice An upper bound of the L1 fee for an unsigned transaction of `_unsignedTxSize` bytes.
    function getL1FeeUpperBound(uint256 _unsignedTxSize) external view returns (uint256) {
        uint256 txSize = _unsignedTxSize + 68;
        return _fjordL1Cost(txSize + txSize / 255 + 16);
    }

    /// @notice The L1 gas a transaction with unsigned RLP `_data` is charged for.
    function getL1GasUsed(bytes memory _data) external pure returns (uint256) {
        return _estimatedSizeScaled(flzCompressLen(_data) + 68) * 16 / 1e6;
    }

    /// @notice The operator fee for `_gasUsed` gas (Jovian rule).
    function getOperatorFee(uint256 _gasUsed) external view returns (uint256) {
        return _gasUsed * uint256(L1_BLOCK.operatorFeeScalar()) * 100
            + uint256(L1_BLOCK.operatorFeeConstant());
    }

    function _fjordL1Cost(uint256 _fastLzSize) internal view returns (uint256) {
        uint256 feeScaled = uint256(baseFeeScalar()) * 16 * l1BaseFee()
            + uint256(blobBaseFeeScalar()) * blobBaseFee();
        return _estimatedSizeScaled(_fastLzSize) * feeScaled / 1e12;
    }

    function _estimatedSizeScaled(uint256 _fastLzSize) internal pure returns (uint256) {
        int256 estimated = COST_INTERCEPT + int256(COST_FASTLZ_COEF * _fastLzSize);
        int256 minimum = int256(MIN_TRANSACTION_SIZE * 1e6);
        return uint256(estimated < minimum ? minimum : estimated);
    }

    /// @notice Length of the FastLZ (level 1) compression of `input`, as op-revm computes it.
    function flzCompressLen(bytes memory input) public pure returns (uint256) {
        uint256 n = input.length;
        uint256 idx = 2;
        uint256 limit = n < 13 ? 0 : n - 13;
        uint256 anchor = 0;
        uint256 size = 0;
        uint256[] memory htab = new uint256[](8192);
        while (idx < limit) {
            uint256 r;
            uint256 distance;
            while (true) {
                uint256 seq = _u24(input, idx);
                uint256 h = _hash(seq);
                r = htab[h];
                htab[h] = idx;
                distance = idx - r;
                if (idx >= limit) break;
                idx++;
                if (distance < 8192 && seq == _u24(input, r)) break;
            }
            if (idx >= limit) break;
            idx--;
            if (idx > anchor) size = _literals(idx - anchor, size);
            uint256 len = _cmp(input, r + 3, idx + 3, limit + 9);
            size = _match(len, size);
            idx = idx + len;
            htab[_hash(_u24(input, idx))] = idx;
            idx++;
            htab[_hash(_u24(input, idx))] = idx;
            idx++;
            anchor = idx;
        }
        return _literals(n - anchor, size);
    }

    function _literals(uint256 r, uint256 size) private pure returns (uint256) {
        size += 0x21 * (r / 0x20);
        r %= 0x20;
        return r != 0 ? size + r + 1 : size;
    }

    function _cmp(bytes memory input, uint256 p, uint256 q, uint256 r) private pure returns (uint256 l) {
        uint256 end = r - q;
        while (l < end) {
            if (input[p + l] != input[q + l]) end = 0;
            l++;
        }
    }

    function _match(uint256 l, uint256 size) private pure returns (uint256) {
        l -= 1;
        size += 3 * (l / 262);
        return l % 262 >= 6 ? size + 3 : size + 2;
    }

    function _hash(uint256 v) private pure returns (uint256) {
        return ((v * 2654435769) >> 19) & 0x1fff;
    }

    function _u24(bytes memory input, uint256 i) private pure returns (uint256) {
        return uint256(uint8(input[i])) | (uint256(uint8(input[i + 1])) << 8)
            | (uint256(uint8(input[i + 2])) << 16);
    }
}
