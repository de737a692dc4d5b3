// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../src/channels/Adjudicator.sol";
import {DutyBoard} from "../src/economy/DutyBoard.sol";
import {IAgentIdentity, IAgentSessions, IDutyVerifier} from "../src/economy/IDutyVerifier.sol";
import {SwarmProposals} from "../src/economy/SwarmProposals.sol";
import {IdentityRegistrySol} from "../src/reference/IdentityRegistrySol.sol";

interface VmSwarm {
    function prank(address) external;
    function deal(address, uint256) external;
    function warp(uint256) external;
    function expectRevert(bytes calldata) external;
    function expectRevert(bytes4) external;
    function expectRevert() external;
}

/// Agents of a swarm vote, weighted by their bonds, to fund a duty from their pool.
contract SwarmProposalsTest {
    VmSwarm constant vm = VmSwarm(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes32 constant RPC = "rpc";
    address constant A = address(0xA);
    address constant B = address(0xB);
    address constant C = address(0xC);
    address constant D = address(0xD); // registered, never bonded

    IdentityRegistrySol ids;
    DutyBoard board;
    SwarmProposals swarm;
    uint256 a;
    uint256 b;
    uint256 c;
    uint256 d;

    function setUp() public {
        ids = new IdentityRegistrySol();
        board = new DutyBoard(
            IAgentIdentity(address(ids)), IAgentSessions(address(0)), 7 days, 1 days, 3, 1_000, Adjudicator(address(0))
        );
        swarm = new SwarmProposals(board, RPC, 1 days, 2 ether, "swarm");
        (a, b, c, d) = (_agent(A, 3 ether), _agent(B, 2 ether), _agent(C, 1 ether), _agent(D, 0));
        vm.deal(address(this), 10 ether);
        (bool ok,) = address(swarm).call{value: 5 ether}("");
        require(ok, "pool");
    }

    function _agent(address who, uint256 bonded) internal returns (uint256 id) {
        vm.prank(who);
        id = ids.register("member");
        if (bonded > 0) {
            vm.deal(who, bonded);
            vm.prank(who);
            board.bond{value: bonded}(id, RPC);
        }
    }

    function _propose(uint256 escrow) internal returns (uint256) {
        return swarm.propose(RPC, "rpc for the swarm", 1 gwei, 100, 60, 1 ether, IDutyVerifier(address(0x99)), escrow);
    }

    function _vote(address who, uint256 agent, uint256 id, bool yes) internal {
        vm.prank(who);
        swarm.vote(id, agent, yes);
    }

    function test_a_passed_proposal_posts_the_duty_from_the_pool_once() public {
        uint256 id = _propose(1 ether);
        _vote(A, a, id, true); // 3
        _vote(B, b, id, false); // 2
        _vote(C, c, id, true); // 1
        (,,,,,,,,,, uint256 yes, uint256 no,,) = swarm.proposals(id);
        require(yes == 4 ether && no == 2 ether, "weighted by bond");
        // Not before the deadline.
        vm.expectRevert(SwarmProposals.VotingOpen.selector);
        swarm.execute(id);
        vm.warp(block.timestamp + 1 days);
        uint256 dutyId = swarm.execute(id);
        DutyBoard.Duty memory duty = board.getDuty(dutyId);
        require(duty.funderAgentId == swarm.agentId() && duty.funder == address(swarm), "the swarm funds it");
        require(duty.escrow == 1 ether && address(swarm).balance == 4 ether, "paid from the pool");
        vm.expectRevert(SwarmProposals.AlreadyExecuted.selector);
        swarm.execute(id);
    }

    function test_votes_are_one_per_agent_by_its_owner_with_a_bond_in_time() public {
        uint256 id = _propose(1 ether);
        _vote(A, a, id, true);
        vm.expectRevert(SwarmProposals.AlreadyVoted.selector);
        _vote(A, a, id, true);
        // B's agent, voted by someone else.
        vm.expectRevert(SwarmProposals.NotOwner.selector);
        _vote(C, b, id, true);
        // No bond, no weight.
        vm.expectRevert(SwarmProposals.NoWeight.selector);
        _vote(D, d, id, true);
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(SwarmProposals.VotingClosed.selector);
        _vote(B, b, id, false);
    }

    function test_rejected_light_and_unaffordable_proposals_do_not_post() public {
        // More against than for.
        uint256 against = _propose(1 ether);
        _vote(A, a, against, false);
        _vote(B, b, against, true);
        // For, but under the minimum weight (1 ether < 2 ether).
        uint256 light = _propose(1 ether);
        _vote(C, c, light, true);
        // Passed, but the pool cannot pay it.
        uint256 dear = _propose(50 ether);
        _vote(A, a, dear, true);
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(SwarmProposals.NotPassed.selector);
        swarm.execute(against);
        vm.expectRevert(SwarmProposals.NotPassed.selector);
        swarm.execute(light);
        vm.expectRevert(abi.encodeWithSelector(SwarmProposals.Underfunded.selector, 5 ether, 50 ether));
        swarm.execute(dear);
        require(board.dutyCount() == 0, "nothing posted");
    }

    function test_the_vote_must_end_before_a_bond_could_move_to_another_agent() public {
        vm.expectRevert();
        new SwarmProposals(board, RPC, 7 days, 1, "swarm");
    }
}
