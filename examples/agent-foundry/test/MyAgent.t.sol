// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Agnt2Test} from "agnt2/agnt2/Agnt2.sol";
import {MyAgent} from "../src/MyAgent.sol";

interface Vm {
    function prank(address) external;
    function expectRevert(bytes calldata) external;
}

/// @notice Runs in plain `forge test`: Agnt2Test installs the Solidity twins of agnt2's agent
///         precompiles, so the agent's constructor registers it as it will on agnt2.
contract MyAgentTest is Agnt2Test {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address constant KEY = address(0x5E55);
    address constant SHOP = address(0x5409);

    function test_the_agent_registers_itself_and_its_session_key_pays_within_limits() public {
        MyAgent agent = new MyAgent{value: 1 ether}("ipfs://my-agent", KEY, 0.1 ether, 0.25 ether);
        uint256 id = agent.agentId();
        require(agent.IDENTITY().ownerOf(id) == address(agent), "the agent owns itself");
        require(keccak256(bytes(agent.IDENTITY().tokenURI(id))) == keccak256("ipfs://my-agent"), "uri");
        require(agent.CAPABILITIES().has(id, agent.PAY()), "pay capability");
        require(agent.SESSIONS().isValid(id, KEY, SHOP), "session open");
        vm.prank(KEY);
        agent.pay(payable(SHOP), 0.1 ether);
        vm.prank(KEY);
        agent.pay(payable(SHOP), 0.1 ether);
        require(SHOP.balance == 0.2 ether, "paid twice");
        vm.expectRevert(
            bytes(
                "Sessions: spend limit exceeded: spent 200000000000000000 + 100000000000000000 > limit 250000000000000000"
            )
        );
        vm.prank(KEY);
        agent.pay(payable(SHOP), 0.1 ether);
        vm.expectRevert(bytes("Sessions: no open session for this key"));
        agent.pay(payable(SHOP), 0.01 ether);
    }
}
