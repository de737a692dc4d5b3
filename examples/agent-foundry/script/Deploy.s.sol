// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Agnt2Script} from "agnt2/agnt2/Agnt2.sol";
import {MyAgent} from "../src/MyAgent.sol";

interface Vm {
    function startBroadcast() external;
    function stopBroadcast() external;
    function envOr(string calldata name, address defaultValue) external view returns (address);
}

/// @notice `forge script script/Deploy.s.sol --rpc-url $AGNT2 --broadcast --private-key $KEY`:
///         deploys MyAgent with 0.5 ether. The simulation runs the agent's constructor against
///         the twins the agnt2 genesis holds at the precompile addresses; the node then runs
///         the native precompiles.
contract Deploy is Agnt2Script {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external returns (MyAgent agent) {
        address key = vm.envOr("SESSION_KEY", address(0x5E55));
        vm.startBroadcast();
        agent = new MyAgent{value: 0.5 ether}("ipfs://my-agent", key, 0.1 ether, 0.25 ether);
        vm.stopBroadcast();
    }
}
