// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {L1Block} from "../src/predeploys/L1Block.sol";
import {GasPriceOracle} from "../src/predeploys/GasPriceOracle.sol";
import {L2ToL1MessagePasser} from "../src/predeploys/L2ToL1MessagePasser.sol";
import {FeeVault} from "../src/predeploys/FeeVault.sol";

interface Vm {
    function prank(address) external;
    function etch(address, bytes calldata) external;
    function expectRevert(bytes4) external;
    function deal(address, uint256) external;
    function store(address, bytes32, bytes32) external;
}

contract PredeploysTest {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;
    address constant L1_BLOCK = 0x4200000000000000000000000000000000000015;

    function _jovianCalldata() internal pure returns (bytes memory) {
        return abi.encodePacked(
            bytes4(0x3db6be2b),
            uint32(1368), // baseFeeScalar
            uint32(810949), // blobBaseFeeScalar
            uint64(3), // sequenceNumber
            uint64(1000), // timestamp
            uint64(77), // number
            uint256(1 gwei), // basefee
            uint256(1), // blobBaseFee
            bytes32(uint256(0xabc)), // hash
            bytes32(uint256(0xdef)), // batcherHash
            uint32(5), // operatorFeeScalar
            uint64(6), // operatorFeeConstant
            uint16(7) // daFootprintGasScalar
        );
    }

    function test_l1block_jovian_layout() public {
        L1Block b = new L1Block();
        vm.prank(DEPOSITOR);
        (bool ok,) = address(b).call(_jovianCalldata());
        require(ok, "jovian call failed");
        require(b.number() == 77 && b.timestamp() == 1000, "number/timestamp");
        require(b.basefee() == 1 gwei && b.blobBaseFee() == 1, "fees");
        require(b.baseFeeScalar() == 1368 && b.blobBaseFeeScalar() == 810949, "scalars");
        require(b.sequenceNumber() == 3 && b.hash() == bytes32(uint256(0xabc)), "seq/hash");
        require(b.operatorFeeScalar() == 5 && b.operatorFeeConstant() == 6, "operator fee");
        require(b.daFootprintGasScalar() == 7, "da footprint");
    }

    function test_l1block_rejects_others() public {
        L1Block b = new L1Block();
        vm.expectRevert(L1Block.NotDepositor.selector);
        b.setL1BlockValuesJovian();
    }

    /// The Solidity FastLZ length agrees with op-revm's vectors.
    function test_flz_matches_op_revm() public {
        GasPriceOracle g = new GasPriceOracle();
        require(g.flzCompressLen(new bytes(1000)) == 21, "zeros");
        require(g.flzCompressLen(hex"FACADE") == 4, "facade");
        require(g.flzCompressLen("") == 0, "empty");
        bytes memory call_ = hex"02f901550a758302df1483be21b88304743f94f80e51afb613d764fa61751affd3313c190a86bb870151bd62fd12adb8e41ef24f3f000000000000000000000000000000000000000000000000000000000000006e000000000000000000000000af88d065e77c8cc2239327c5edb3a432268e5831000000000000000000000000000000000000000000000000000000000003c1e5000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000a000000000000000000000000000000000000000000000000000000000000000148c89ed219d02f1a5be012c689b4f5b731827bebe000000000000000000000000c001a033fd89cb37c31b2cba46b6466e040c61fc9b2a3675a7f5f493ebd5ad77c497f8a07cdf65680e238392693019b4092f610222e71b7cec06449cb922b93b6a12744e";
        require(g.flzCompressLen(call_) == 202, "sample call");
    }

    function test_message_passer_records_withdrawals() public {
        L2ToL1MessagePasser p = new L2ToL1MessagePasser();
        uint256 nonce = p.messageNonce();
        require(nonce == 1 << 240, "versioned nonce");
        p.initiateWithdrawal(address(0xbeef), 100000, hex"01");
        bytes32 h = keccak256(abi.encode(nonce, address(this), address(0xbeef), 0, 100000, hex"01"));
        require(p.sentMessages(h), "hash recorded");
        require(p.messageNonce() == nonce + 1, "nonce bumped");
    }

    function test_fee_vault_withdraws_to_recipient() public {
        FeeVault v = new FeeVault();
        vm.store(address(v), bytes32(0), bytes32(uint256(uint160(address(0xcafe)))));
        vm.deal(address(v), 5 ether);
        v.withdraw();
        require(address(0xcafe).balance == 5 ether && v.totalProcessed() == 5 ether, "swept");
    }
}
