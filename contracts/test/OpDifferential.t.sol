// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OpArtifacts, VmOp} from "./OpArtifacts.sol";
import {L1Block} from "../src/predeploys/L1Block.sol";
import {GasPriceOracle} from "../src/predeploys/GasPriceOracle.sol";
import {L2ToL1MessagePasser} from "../src/predeploys/L2ToL1MessagePasser.sol";

interface IOpPasser {
    function initiateWithdrawal(address, uint256, bytes calldata) external payable;
    function messageNonce() external view returns (uint256);
    function sentMessages(bytes32) external view returns (bool);
}

interface IOpGasPriceOracle {
    function setEcotone() external;
    function setFjord() external;
    function getL1Fee(bytes calldata) external view returns (uint256);
    function getL1GasUsed(bytes calldata) external view returns (uint256);
    function getL1FeeUpperBound(uint256) external view returns (uint256);
    function l1BaseFee() external view returns (uint256);
    function blobBaseFee() external view returns (uint256);
    function baseFeeScalar() external view returns (uint32);
    function blobBaseFeeScalar() external view returns (uint32);
}

/// @notice agnt2's predeploys against the OP Stack's own (forge artifacts of the npm package
///         contracts-bedrock 0.17.3 by eth-optimism, installed by `make tools`): the same calls
///         on both, then the same storage, return values and events.
contract OpDifferentialTest is OpArtifacts {
    address constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;
    address constant L1_BLOCK = 0x4200000000000000000000000000000000000015;

    function _slots(address a, address b, uint256 n) internal view {
        for (uint256 i; i < n; i++) {
            require(vm.load(a, bytes32(i)) == vm.load(b, bytes32(i)), "storage slot differs");
        }
    }

    function test_message_passer_matches_op() public {
        address op = address(0xA11CE);
        _etchOp("L2ToL1MessagePasser", op);
        L2ToL1MessagePasser ours = new L2ToL1MessagePasser();
        address sender = address(0x5E4D);
        vm.deal(sender, 10 ether);
        bytes[3] memory datas = [bytes(""), bytes(hex"deadbeef"), abi.encode(uint256(7), "agnt2")];
        for (uint256 i; i < datas.length; i++) {
            vm.recordLogs();
            vm.prank(sender);
            IOpPasser(op).initiateWithdrawal{value: i * 1 gwei}(address(0xBEEF), 100_000 + i, datas[i]);
            VmOp.Log[] memory a = vm.getRecordedLogs();
            vm.recordLogs();
            vm.prank(sender);
            ours.initiateWithdrawal{value: i * 1 gwei}(address(0xBEEF), 100_000 + i, datas[i]);
            VmOp.Log[] memory b = vm.getRecordedLogs();
            require(a.length == 1 && b.length == 1, "one MessagePassed each");
            require(keccak256(abi.encode(a[0].topics)) == keccak256(abi.encode(b[0].topics)), "event topics");
            require(keccak256(a[0].data) == keccak256(b[0].data), "event data (incl. the withdrawal hash)");
            require(IOpPasser(op).messageNonce() == ours.messageNonce(), "nonce");
        }
        _slots(op, address(ours), 2);
        // sentMessages: the slot the L1 portal proves against, for each withdrawal.
        bytes32 h = keccak256(abi.encode(uint256(1) << 240, sender, address(0xBEEF), uint256(0), uint256(100_000), bytes("")));
        bytes32 slot = keccak256(abi.encode(h, uint256(0)));
        require(vm.load(op, slot) == bytes32(uint256(1)) && vm.load(address(ours), slot) == bytes32(uint256(1)), "sentMessages");
    }

    function _ecotoneCalldata(uint64 seq) internal pure returns (bytes memory) {
        return abi.encodePacked(
            bytes4(keccak256("setL1BlockValuesEcotone()")),
            uint32(1368), // baseFeeScalar
            uint32(810949), // blobBaseFeeScalar
            seq,
            uint64(1_700_000_000), // timestamp
            uint64(19_000_000), // number
            uint256(7 gwei), // basefee
            uint256(3), // blobBaseFee
            bytes32(uint256(0xabc)), // hash
            bytes32(uint256(uint160(address(0xBA7C4E7)))) // batcherHash
        );
    }

    function test_l1_block_ecotone_update_matches_op() public {
        address op = address(0xB10C);
        _etchOp("L1Block", op);
        L1Block ours = new L1Block();
        for (uint64 seq; seq < 3; seq++) {
            bytes memory cd = _ecotoneCalldata(seq);
            vm.prank(DEPOSITOR);
            (bool okA,) = op.call(cd);
            vm.prank(DEPOSITOR);
            (bool okB,) = address(ours).call(cd);
            require(okA && okB, "both take the depositor's update");
            _slots(op, address(ours), 8);
        }
        // Anyone else is refused by both.
        (bool a,) = op.call(_ecotoneCalldata(9));
        (bool b,) = address(ours).call(_ecotoneCalldata(9));
        require(!a && !b, "only the depositor");
    }

    function test_gas_price_oracle_fjord_fees_match_op() public {
        // Both oracles read the L1Block at its predeploy address.
        vm.etch(L1_BLOCK, address(new L1Block()).code);
        vm.prank(DEPOSITOR);
        (bool ok,) = L1_BLOCK.call(_ecotoneCalldata(0));
        require(ok, "L1 values");
        address op = address(0x6A50);
        _etchOp("GasPriceOracle", op);
        vm.prank(DEPOSITOR);
        IOpGasPriceOracle(op).setEcotone();
        vm.prank(DEPOSITOR);
        IOpGasPriceOracle(op).setFjord();
        GasPriceOracle ours = new GasPriceOracle();
        IOpGasPriceOracle o = IOpGasPriceOracle(op);
        require(o.l1BaseFee() == ours.l1BaseFee() && o.blobBaseFee() == ours.blobBaseFee(), "fee inputs");
        require(o.baseFeeScalar() == ours.baseFeeScalar() && o.blobBaseFeeScalar() == ours.blobBaseFeeScalar(), "scalars");
        bytes[4] memory txs = [
            bytes(""),
            bytes(hex"02f86b82a4aa80843b9aca00843b9aca0082520894000000000000000000000000000000000000beef0180c0"),
            abi.encodePacked(keccak256("a"), keccak256("b"), keccak256("c"), new bytes(300)),
            new bytes(4000)
        ];
        for (uint256 i; i < txs.length; i++) {
            require(o.getL1Fee(txs[i]) == ours.getL1Fee(txs[i]), "getL1Fee");
            require(o.getL1GasUsed(txs[i]) == ours.getL1GasUsed(txs[i]), "getL1GasUsed");
        }
        for (uint256 n = 100; n < 100_000; n *= 7) {
            require(o.getL1FeeUpperBound(n) == ours.getL1FeeUpperBound(n), "getL1FeeUpperBound");
        }
    }
}
