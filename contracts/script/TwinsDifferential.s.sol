// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Agnt2Script} from "../src/agnt2/Agnt2.sol";

interface VmDiff {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function envString(string calldata name) external view returns (string memory);
    function readFileBinary(string calldata path) external view returns (bytes memory);
    function chainId(uint256) external;
    function roll(uint256) external;
    function warp(uint256) external;
    function prank(address) external;
    function record() external;
    function accesses(address) external returns (bytes32[] memory reads, bytes32[] memory writes);
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
    function load(address, bytes32) external view returns (bytes32);
    function toString(uint256) external pure returns (string memory);
    function toString(bytes calldata) external pure returns (string memory);
}

/// @notice The twins' half of the differential test `tests/tests/twins.rs`: the test runs a
///         scenario of calls against the native precompiles on a running node and hands this
///         script, through `AGNT2_DIFF`, each call with what the node answered (success, return
///         data, logs, at which block and time) and the interaction-trie slots the scenario
///         changed. The script makes the same calls, from the same senders at the same block
///         numbers and times, against the twins and fails at the first difference: success,
///         return data, logs (emitter, topics, data), a slot's final value, or a slot the twins
///         wrote that the node did not change.
contract TwinsDifferential is Agnt2Script {
    VmDiff constant vm = VmDiff(address(uint160(uint256(keccak256("hevm cheat code")))));
    address constant AGENT_STATE = 0x0000000000000000000000000000000000008000;

    struct Log {
        address emitter;
        bytes32[] topics;
        bytes data;
    }

    struct Case {
        address from;
        address to;
        bytes data;
        uint64 number;
        uint64 timestamp;
        bool ok;
        bytes ret;
        Log[] logs;
    }

    struct Slot {
        bytes32 slot;
        bytes32 value;
    }

    function run() external returns (uint256 cases, uint256 slots) {
        (Case[] memory all, Slot[] memory changed) =
            abi.decode(vm.readFileBinary(vm.envString("AGNT2_DIFF")), (Case[], Slot[]));
        vm.chainId(80042);
        vm.record();
        for (uint256 i; i < all.length; ++i) {
            _check(i, all[i]);
        }
        (, bytes32[] memory writes) = vm.accesses(AGENT_STATE);
        for (uint256 i; i < changed.length; ++i) {
            bytes32 got = vm.load(AGENT_STATE, changed[i].slot);
            if (got != changed[i].value) {
                revert(
                    string.concat(
                        "slot ",
                        vm.toString(uint256(changed[i].slot)),
                        ": node ",
                        vm.toString(uint256(changed[i].value)),
                        ", twins ",
                        vm.toString(uint256(got))
                    )
                );
            }
        }
        for (uint256 i; i < writes.length; ++i) {
            if (vm.load(AGENT_STATE, writes[i]) == bytes32(0)) continue;
            bool known;
            for (uint256 j; j < changed.length && !known; ++j) {
                known = changed[j].slot == writes[i];
            }
            if (!known) {
                revert(string.concat("the twins wrote slot ", vm.toString(uint256(writes[i])), ", the node did not"));
            }
        }
        return (all.length, changed.length);
    }

    function _check(uint256 i, Case memory c) private {
        vm.roll(c.number);
        vm.warp(c.timestamp);
        vm.recordLogs();
        vm.prank(c.from);
        (bool ok, bytes memory ret) = c.to.call(c.data);
        VmDiff.Log[] memory logs = vm.getRecordedLogs();
        string memory at = string.concat("call ", vm.toString(i), ": ");
        if (ok != c.ok) revert(string.concat(at, "success differs; twins returned ", vm.toString(ret)));
        if (keccak256(ret) != keccak256(c.ret)) {
            revert(string.concat(at, "return data: node ", vm.toString(c.ret), ", twins ", vm.toString(ret)));
        }
        if (logs.length != c.logs.length) revert(string.concat(at, "number of logs differs"));
        for (uint256 j; j < logs.length; ++j) {
            Log memory want = c.logs[j];
            if (
                logs[j].emitter != want.emitter
                    || keccak256(abi.encode(logs[j].topics)) != keccak256(abi.encode(want.topics))
                    || keccak256(logs[j].data) != keccak256(want.data)
            ) revert(string.concat(at, "log ", vm.toString(j), " differs; twins' data ", vm.toString(logs[j].data)));
        }
    }
}
