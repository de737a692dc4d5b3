// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Counter} from "../src/Counter.sol";

interface Vm {
    function startBroadcast() external;
    function stopBroadcast() external;
}

/// @notice Deploys a Counter and sends a few transactions to it (run with --broadcast).
contract CounterScript {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external {
        vm.startBroadcast();
        Counter c = new Counter(10);
        c.increment();
        c.increment();
        c.setNumber(42);
        c.increment();
        vm.stopBroadcast();
    }
}
