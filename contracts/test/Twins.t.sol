// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Agnt2Test} from "../src/agnt2/Agnt2.sol";
import {AgentExample} from "../src/AgentExample.sol";
import {IIdentityRegistry} from "../src/interfaces/IIdentityRegistry.sol";
import {ICapabilities} from "../src/interfaces/ICapabilities.sol";
import {ISessions} from "../src/interfaces/ISessions.sol";

interface VmTwins {
    function prank(address) external;
    function expectRevert(bytes calldata) external;
    function warp(uint256) external;
    function load(address, bytes32) external view returns (bytes32);
}

/// @notice agnt2's agent precompiles in plain `forge test` (no node, no fork): `Agnt2Test`
///         installs the Solidity twins, and an agent contract written for the precompiles runs
///         unchanged. The twins' agreement with the native precompiles, call by call, is
///         `tests/tests/twins.rs` (against a running node).
contract TwinsTest is Agnt2Test {
    VmTwins constant vm = VmTwins(address(uint160(uint256(keccak256("hevm cheat code")))));
    IIdentityRegistry constant ID = IIdentityRegistry(0x0000000000000000000000000000000000008004);
    ICapabilities constant CAPS = ICapabilities(0x0000000000000000000000000000000000008007);
    ISessions constant SESSIONS = ISessions(0x0000000000000000000000000000000000008008);
    address constant ALICE = address(0xA11CE);
    address constant BOB = address(0xB0B);

    function setUp() public {
        vm.warp(1_000_000);
    }

    function test_agents_register_transfer_and_keep_their_lists() public {
        vm.prank(ALICE);
        uint256 a = ID.register("ipfs://a");
        vm.prank(ALICE);
        uint256 b = ID.register("ipfs://b, a uri longer than one storage word");
        require(a == 1 && b == 2, "ids start at 1");
        require(ID.ownerOf(b) == ALICE && ID.balanceOf(ALICE) == 2, "owner");
        require(keccak256(bytes(ID.tokenURI(b))) == keccak256("ipfs://b, a uri longer than one storage word"), "uri");
        vm.prank(ALICE);
        ID.transferFrom(ALICE, BOB, a);
        // Agent 2 moved into agent 1's place in Alice's list.
        require(ID.tokenOfOwnerByIndex(ALICE, 0) == b && ID.balanceOf(ALICE) == 1, "list moved");
        require(ID.ownerOf(a) == BOB && ID.tokenOfOwnerByIndex(BOB, 0) == a, "bob owns a");
        // The owner word is where the precompile keeps it: keccak256(1 ‖ agentId).
        bytes32 word = vm.load(0x0000000000000000000000000000000000008000, keccak256(abi.encodePacked(uint8(1), a)));
        require(address(uint160(uint256(word))) == BOB, "owner word in the interaction trie");
        vm.expectRevert(bytes("IdentityRegistry: caller is not the owner"));
        vm.prank(ALICE);
        ID.setAgentURI(a, "mine");
        vm.expectRevert(bytes("IdentityRegistry: unknown agent"));
        ID.ownerOf(99);
    }

    function test_an_agent_contract_written_for_the_precompiles_runs_on_the_twins() public {
        AgentExample agent = new AgentExample{value: 1 ether}();
        uint256 id = agent.registerSelf("ipfs://example");
        require(ID.ownerOf(id) == address(agent), "the contract owns its agent");
        require(keccak256(ID.getMetadata(id, "kind")) == keccak256("example"), "metadata");
        agent.grant(agent.PAY(), 0.1 ether, 0);
        address key = address(0x5E55);
        address[] memory none = new address[](0);
        agent.openSession(key, uint64(block.timestamp + 3600), 0.15 ether, none);
        require(SESSIONS.isValid(id, key, BOB), "session");
        vm.prank(key);
        agent.pay(payable(BOB), 0.1 ether);
        require(BOB.balance == 0.1 ether, "paid");
        vm.expectRevert(
            bytes(
                "Sessions: spend limit exceeded: spent 100000000000000000 + 100000000000000000 > limit 150000000000000000"
            )
        );
        vm.prank(key);
        agent.pay(payable(BOB), 0.1 ether);
        // Writes through STATICCALL or DELEGATECALL fail, and a reverted registration leaves
        // no agent behind.
        require(!agent.staticRegister() && !agent.delegateRegister(), "static and delegate writes refused");
        uint256 before = ID.totalAgents();
        try agent.registerThenRevert("x") {
            revert("should have reverted");
        } catch {}
        require(ID.totalAgents() == before, "the revert undid the registration");
        require(CAPS.has(id, agent.PAY()), "capability");
    }
}
