// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DutyBoard} from "../src/economy/DutyBoard.sol";
import {IAgentIdentity, IAgentSessions, IDutyVerifier} from "../src/economy/IDutyVerifier.sol";
import {ProbeQuorumVerifier} from "../src/economy/ProbeQuorumVerifier.sol";
import {IdentityRegistrySol} from "../src/reference/IdentityRegistrySol.sol";
import {ReputationRegistrySol} from "../src/reference/ReputationRegistrySol.sol";
import {PaidFeedback, IReputationFeedback} from "../src/economy/PaidFeedback.sol";
import {Adjudicator} from "../src/channels/Adjudicator.sol";
import {TestToken, FeeToken} from "./Tokens.sol";

interface VmDuty {
    function prank(address) external;
    function deal(address, uint256) external;
    function warp(uint256) external;
    function expectRevert(bytes calldata) external;
    function expectRevert(bytes4) external;
    function expectRevert() external;
    function addr(uint256) external pure returns (address);
    function sign(uint256, bytes32) external pure returns (uint8, bytes32, bytes32);
}

/// Stands in for agnt2's Sessions precompile: one session (agent, key) valid for one
/// counterparty until closed.
contract FakeSessions is IAgentSessions {
    uint256 public agent;
    address public key;
    address public counterparty;
    bool public closed;

    function open(uint256 a, address k, address c) external {
        (agent, key, counterparty, closed) = (a, k, c, false);
    }

    function close() external {
        closed = true;
    }

    function isValid(uint256 a, address k, address c) external view returns (bool) {
        return !closed && a == agent && k == key && (c == counterparty || counterparty == address(0));
    }
}

/// The duty board with the ERC-8004 identity registry (the Solidity one: Foundry's EVM has no
/// agnt2 precompiles) and the probe-quorum verifier: escrow accounting, bonds, slashing with
/// each kind of evidence, and the verifier refusing probes it must not count.
abstract contract DutyBoardBase {
    VmDuty constant vm = VmDuty(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes32 constant RPC = "rpc";
    uint64 constant EPOCH = 60;
    uint256 constant RATE = 1 ether / 100;
    uint256 constant MIN_BOND = 2 ether;

    IdentityRegistrySol ids;
    DutyBoard board;
    ProbeQuorumVerifier verifier;
    FakeSessions sessions;
    Adjudicator adj;

    // Keys: funder, operator, three probers, an outsider, the operator's block signer.
    uint256 constant FUNDER = 0xF0;
    uint256 constant OPERATOR = 0x0B;
    uint256 constant P1 = 0xA1;
    uint256 constant P2 = 0xA2;
    uint256 constant P3 = 0xA3;
    uint256 constant STRANGER = 0x55;
    uint256 constant SIGNER = 0x5E;
    uint256 funderId;
    uint256 operatorId;
    uint256[3] proberIds;

    receive() external payable {}

    function setUp() public {
        ids = new IdentityRegistrySol();
        sessions = new FakeSessions();
        adj = new Adjudicator(60);
        board = new DutyBoard(IAgentIdentity(address(ids)), sessions, 7 days, 1 days, 3, 1_000, adj);
        verifier = new ProbeQuorumVerifier(IAgentIdentity(address(ids)), address(board), 3, 0);
        funderId = _register(FUNDER);
        operatorId = _register(OPERATOR);
        proberIds = [_register(P1), _register(P2), _register(P3)];
        vm.deal(vm.addr(FUNDER), 100 ether);
        vm.deal(vm.addr(OPERATOR), 10 ether);
        vm.deal(vm.addr(STRANGER), 1 ether);
    }

    function _register(uint256 key) internal returns (uint256 id) {
        vm.prank(vm.addr(key));
        id = ids.register("agent");
    }

    /// A funded RPC duty (10 ether escrow, 100 units cap) taken by the bonded operator.
    function _activeDuty() internal returns (uint256 dutyId) {
        vm.prank(vm.addr(FUNDER));
        dutyId = board.postDuty{value: 10 ether}(
            funderId,
            RPC,
            "ipfs://rpc",
            address(0),
            RATE,
            100,
            EPOCH,
            MIN_BOND,
            IDutyVerifier(address(verifier)),
            10 ether
        );
        vm.prank(vm.addr(OPERATOR));
        board.bond{value: 3 ether}(operatorId, RPC);
        vm.prank(vm.addr(OPERATOR));
        board.acceptDuty(dutyId, operatorId, vm.addr(SIGNER));
    }

    function _probe(uint256 key, uint256 agentId, uint256 dutyId, uint64 epoch, bool ok)
        internal
        view
        returns (ProbeQuorumVerifier.Probe memory p, bytes memory sig)
    {
        p = ProbeQuorumVerifier.Probe(dutyId, agentId, epoch, ok, 42, 1_000 + epoch);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, verifier.probeDigest(p));
        sig = abi.encodePacked(r, s, v);
    }

    /// Probes of epochs `[from, to)` by the three probers; `oks[i]` is how many say ok in epoch
    /// `from + i` (the rest say down).
    function _evidence(uint256 dutyId, uint64 from, uint8[] memory oks) internal view returns (bytes memory) {
        uint256 n = oks.length * 3;
        ProbeQuorumVerifier.Probe[] memory probes = new ProbeQuorumVerifier.Probe[](n);
        bytes[] memory sigs = new bytes[](n);
        uint256[3] memory keys = [P1, P2, P3];
        for (uint256 e = 0; e < oks.length; e++) {
            for (uint256 j = 0; j < 3; j++) {
                (probes[e * 3 + j], sigs[e * 3 + j]) =
                    _probe(keys[j], proberIds[j], dutyId, from + uint64(e), j < oks[e]);
            }
        }
        return abi.encode(probes, sigs);
    }

    function _oks(uint8 a, uint8 b, uint8 c) internal pure returns (uint8[] memory o) {
        o = new uint8[](3);
        (o[0], o[1], o[2]) = (a, b, c);
    }

    function _eq(uint256 a, uint256 b, string memory what) internal pure {
        require(a == b, what);
    }

    // ------------------------------------------------------------------ escrow
}

/// The board's escrow, claims, bonds and slashing with probe evidence.
contract DutyBoardTest is DutyBoardBase {
    function test_claims_pay_quorum_epochs_once_and_the_rest_returns_to_the_funder() public {
        uint256 dutyId = _activeDuty();
        address op = vm.addr(OPERATOR);
        uint256 before = op.balance;
        // Not yet: epoch 0 is still running.
        bytes memory early = _evidence(dutyId, 0, new uint8[](1));
        vm.expectRevert(DutyBoard.BadRange.selector);
        _claim(dutyId, 1, early);
        vm.warp(block.timestamp + 3 * EPOCH);
        // Epochs 0 and 2 reach the quorum, epoch 1 has two oks of three: two units paid.
        uint256 paid = _claim(dutyId, 3, _evidence(dutyId, 0, _oks(3, 2, 3)));
        _eq(paid, 2 * RATE, "two units");
        _eq(op.balance - before, 2 * RATE, "paid to the operator's owner");
        // The same range again: nothing is paid twice.
        bytes memory again = _evidence(dutyId, 0, _oks(3, 3, 3));
        vm.expectRevert(DutyBoard.BadRange.selector);
        _claim(dutyId, 3, again);
        // Ended: the rest goes back to the funder once the claim grace has passed.
        vm.prank(vm.addr(FUNDER));
        board.end(dutyId);
        vm.expectRevert(DutyBoard.NotOwner.selector);
        vm.prank(vm.addr(STRANGER));
        board.requestUnbond(operatorId, RPC, 1);
        uint256 funderBefore = vm.addr(FUNDER).balance;
        board.refund(dutyId);
        _eq(vm.addr(FUNDER).balance - funderBefore, 10 ether - 2 * RATE, "the rest is refunded");
        _eq(address(board).balance, 3 ether, "only the bond stays");
        vm.expectRevert(DutyBoard.NothingToDo.selector);
        board.refund(dutyId);
    }

    function test_units_cap_and_escrow_bound_what_is_paid() public {
        vm.prank(vm.addr(FUNDER));
        uint256 dutyId = board.postDuty{value: 3 * RATE}(
            funderId, RPC, "", address(0), RATE, 2, EPOCH, MIN_BOND, IDutyVerifier(address(verifier)), 3 * RATE
        );
        vm.prank(vm.addr(OPERATOR));
        board.bond{value: MIN_BOND}(operatorId, RPC);
        vm.prank(vm.addr(OPERATOR));
        board.acceptDuty(dutyId, operatorId, address(0));
        vm.warp(block.timestamp + 3 * EPOCH);
        // Three good epochs, a cap of two units.
        _eq(_claim(dutyId, 3, _evidence(dutyId, 0, _oks(3, 3, 3))), 2 * RATE, "capped");
        _eq(board.getDuty(dutyId).escrow, RATE, "escrow left");
    }

    function test_unfinished_claims_survive_end_within_the_grace_only() public {
        uint256 dutyId = _activeDuty();
        vm.warp(block.timestamp + 2 * EPOCH + 5);
        vm.prank(vm.addr(FUNDER));
        board.end(dutyId);
        // Units 0 and 1 are owed: the funder waits for the grace.
        vm.expectRevert(DutyBoard.NotYet.selector);
        board.refund(dutyId);
        uint8[] memory two = new uint8[](2);
        (two[0], two[1]) = (3, 3);
        _eq(_claim(dutyId, 2, _evidence(dutyId, 0, two)), 2 * RATE, "claimed after the end");
        board.refund(dutyId);
        _eq(address(board).balance, 3 ether, "nothing stuck but the bond");
    }

    function test_a_fee_on_transfer_token_credits_what_arrived() public {
        FeeToken t = new FeeToken();
        address funder = vm.addr(FUNDER);
        t.mint(funder, 1_000);
        vm.prank(funder);
        t.approve(address(board), 1_000);
        vm.prank(funder);
        uint256 dutyId = board.postDuty(
            funderId, RPC, "", address(t), 10, 100, EPOCH, MIN_BOND, IDutyVerifier(address(verifier)), 1_000
        );
        _eq(board.getDuty(dutyId).escrow, 990, "escrow is what the board holds");
        _eq(t.balanceOf(address(board)), 990, "held");
        vm.prank(funder);
        board.end(dutyId);
        board.refund(dutyId);
        _eq(t.balanceOf(address(board)), 0, "all of it back");
    }

    function test_pause_takes_whole_epochs_out_of_the_count() public {
        uint256 dutyId = _activeDuty();
        vm.warp(block.timestamp + EPOCH + 10);
        _eq(board.currentUnit(dutyId), 1, "one epoch done");
        vm.prank(vm.addr(FUNDER));
        board.pause(dutyId);
        vm.warp(block.timestamp + 10 * EPOCH);
        _eq(board.currentUnit(dutyId), 1, "frozen while paused");
        vm.prank(vm.addr(FUNDER));
        board.resume(dutyId);
        _eq(board.currentUnit(dutyId), 1, "the paused epochs are not counted");
        vm.warp(block.timestamp + EPOCH);
        _eq(board.currentUnit(dutyId), 2, "counting again");
        // Only the funder pauses.
        vm.expectRevert(DutyBoard.NotOwner.selector);
        vm.prank(vm.addr(OPERATOR));
        board.pause(dutyId);
    }

    function test_a_session_key_of_the_funder_agent_manages_its_duties_and_nothing_else() public {
        uint256 dutyId = _activeDuty();
        address manager = vm.addr(0x3A);
        // No session: refused.
        vm.expectRevert(DutyBoard.NotOwner.selector);
        vm.prank(manager);
        board.pause(dutyId);
        // A session of the funder agent for another counterparty: refused.
        sessions.open(funderId, manager, address(0xBEEF));
        vm.expectRevert(DutyBoard.NotOwner.selector);
        vm.prank(manager);
        board.pause(dutyId);
        // A session of another agent: refused.
        sessions.open(operatorId, manager, address(board));
        vm.expectRevert(DutyBoard.NotOwner.selector);
        vm.prank(manager);
        board.pause(dutyId);
        // The funder agent's session for this board: pause, resume, end.
        sessions.open(funderId, manager, address(board));
        vm.prank(manager);
        board.pause(dutyId);
        vm.prank(manager);
        board.resume(dutyId);
        // Closed: refused again.
        sessions.close();
        vm.expectRevert(DutyBoard.NotOwner.selector);
        vm.prank(manager);
        board.end(dutyId);
        // The escrow still goes to the funder, whoever ends the duty.
        sessions.open(funderId, manager, address(board));
        vm.prank(manager);
        board.end(dutyId);
        uint256 before = vm.addr(FUNDER).balance;
        board.refund(dutyId);
        _eq(vm.addr(FUNDER).balance - before, 10 ether, "refunded to the funder");
    }

    function test_only_a_funder_that_paid_rates_the_operator_and_only_once() public {
        ReputationRegistrySol rep = new ReputationRegistrySol(ids);
        PaidFeedback paid = new PaidFeedback(board, IReputationFeedback(address(rep)), Adjudicator(address(0)));
        uint256 dutyId = _activeDuty();
        // Nothing paid yet.
        vm.expectRevert(PaidFeedback.NothingPaid.selector);
        vm.prank(vm.addr(FUNDER));
        paid.rateOperator(dutyId, 90, 0, "");
        vm.warp(block.timestamp + EPOCH);
        uint8[] memory one = new uint8[](1);
        one[0] = 3;
        _claim(dutyId, 1, _evidence(dutyId, 0, one));
        // A stranger (a would-be Sybil reviewer) cannot.
        vm.expectRevert(PaidFeedback.NotTheFunder.selector);
        vm.prank(vm.addr(STRANGER));
        paid.rateOperator(dutyId, 100, 0, "");
        vm.prank(vm.addr(FUNDER));
        paid.rateOperator(dutyId, 90, 0, "ipfs://review");
        // It is in the registry as feedback from the PaidFeedback contract, tagged "paid".
        require(rep.getLastIndex(operatorId, address(paid)) == 1, "one paid feedback");
        (int128 value,, string memory tag1, string memory tag2,) = rep.readFeedback(operatorId, address(paid), 1);
        require(value == 90 && keccak256(bytes(tag1)) == keccak256("paid"), "the rating");
        require(keccak256(bytes(tag2)) == keccak256("duty"), "tag2");
        vm.expectRevert(PaidFeedback.AlreadyRated.selector);
        vm.prank(vm.addr(FUNDER));
        paid.rateOperator(dutyId, 10, 0, "");
    }

    function test_with_a_prober_bond_unbonded_probers_are_not_evidence() public {
        verifier = new ProbeQuorumVerifier(IAgentIdentity(address(ids)), address(board), 3, 1 ether);
        uint256 dutyId = _activeDuty();
        vm.warp(block.timestamp + EPOCH);
        uint8[] memory one = new uint8[](1);
        one[0] = 3;
        bytes memory ev = _evidence(dutyId, 0, one);
        vm.expectRevert(abi.encodeWithSelector(ProbeQuorumVerifier.NotAProber.selector, 0));
        _claim(dutyId, 1, ev);
        // Two of three bond: still not a quorum of bonded probers.
        uint256[3] memory keys = [P1, P2, P3];
        for (uint256 j = 0; j < 2; j++) {
            vm.deal(vm.addr(keys[j]), 1 ether);
            vm.prank(vm.addr(keys[j]));
            board.bond{value: 1 ether}(proberIds[j], "prober");
        }
        vm.expectRevert(abi.encodeWithSelector(ProbeQuorumVerifier.NotAProber.selector, 2));
        _claim(dutyId, 1, ev);
        vm.deal(vm.addr(P3), 1 ether);
        vm.prank(vm.addr(P3));
        board.bond{value: 1 ether}(proberIds[2], "prober");
        require(_claim(dutyId, 1, ev) == RATE, "three bonded probers are a quorum");
    }

    /// A claim by the operator's owner.
    function _claim(uint256 dutyId, uint64 to, bytes memory ev) internal returns (uint256) {
        vm.prank(vm.addr(OPERATOR));
        return board.claim(dutyId, to, ev);
    }

    function _empty() internal pure returns (bytes memory) {
        return abi.encode(new ProbeQuorumVerifier.Probe[](0), new bytes[](0));
    }

    function test_nobody_but_the_operator_can_burn_its_units_with_empty_evidence() public {
        uint256 dutyId = _activeDuty();
        vm.warp(block.timestamp + 2 * EPOCH);
        bytes memory empty = _empty();
        vm.expectRevert(DutyBoard.NotOwner.selector);
        vm.prank(vm.addr(STRANGER));
        board.claim(dutyId, 2, empty);
        // The operator still gets paid for both epochs.
        uint8[] memory two = new uint8[](2);
        (two[0], two[1]) = (3, 3);
        bytes memory ev = _evidence(dutyId, 0, two);
        _eq(_claim(dutyId, 2, ev), 2 * RATE, "both units");
    }

    function test_claiming_missed_epochs_for_nothing_does_not_escape_the_slash() public {
        uint256 dutyId = _activeDuty();
        vm.warp(block.timestamp + 3 * EPOCH);
        // Down for three epochs; the operator "claims" them with no evidence to move past them.
        bytes memory empty = _empty();
        _eq(_claim(dutyId, 3, empty), 0, "nothing paid");
        bytes memory down = _evidence(dutyId, 0, new uint8[](3));
        uint256 before = vm.addr(FUNDER).balance;
        vm.prank(vm.addr(STRANGER));
        board.slashMissed(dutyId, 0, 3, down);
        _eq(vm.addr(FUNDER).balance - before, MIN_BOND - MIN_BOND / 10, "slashed all the same");
    }

    // ------------------------------------------------------------------ the verifier refuses

    /// Three probes of epoch 0: `bad` at `at`, honest ones from the first two probers elsewhere
    /// (the order ascending by agent id, as the verifier wants it).
    function _withBad(uint256 dutyId, ProbeQuorumVerifier.Probe memory bad, bytes memory badSig, uint256 at)
        internal
        view
        returns (bytes memory)
    {
        ProbeQuorumVerifier.Probe[] memory probes = new ProbeQuorumVerifier.Probe[](3);
        bytes[] memory sigs = new bytes[](3);
        uint256 j = 0;
        for (uint256 i = 0; i < 3; i++) {
            if (i == at) {
                (probes[i], sigs[i]) = (bad, badSig);
            } else {
                (probes[i], sigs[i]) = _probe(j == 0 ? P1 : P2, proberIds[j], dutyId, 0, true);
                j++;
            }
        }
        return abi.encode(probes, sigs);
    }

    function test_probes_from_the_operator_the_funder_strangers_or_twice_are_refused() public {
        uint256 dutyId = _activeDuty();
        vm.warp(block.timestamp + EPOCH);
        ProbeQuorumVerifier.Probe memory p;
        bytes memory sig;
        bytes memory ev;
        // The operator vouching for itself (its id sorts first).
        (p, sig) = _probe(OPERATOR, operatorId, dutyId, 0, true);
        ev = _withBad(dutyId, p, sig, 0);
        vm.expectRevert(abi.encodeWithSelector(ProbeQuorumVerifier.NotAProber.selector, 0));
        _claim(dutyId, 1, ev);
        // The funder.
        (p, sig) = _probe(FUNDER, funderId, dutyId, 0, true);
        ev = _withBad(dutyId, p, sig, 0);
        vm.expectRevert(abi.encodeWithSelector(ProbeQuorumVerifier.NotAProber.selector, 0));
        _claim(dutyId, 1, ev);
        // A key that is not the agent's owner or wallet.
        (p, sig) = _probe(STRANGER, proberIds[2], dutyId, 0, true);
        ev = _withBad(dutyId, p, sig, 2);
        vm.expectRevert(abi.encodeWithSelector(ProbeQuorumVerifier.BadSignature.selector, 2));
        _claim(dutyId, 1, ev);
        // An agent that is not registered.
        (p, sig) = _probe(STRANGER, 999, dutyId, 0, true);
        ev = _withBad(dutyId, p, sig, 2);
        vm.expectRevert();
        _claim(dutyId, 1, ev);
        // The same prober twice in one epoch.
        (p, sig) = _probe(P2, proberIds[1], dutyId, 0, true);
        ev = _withBad(dutyId, p, sig, 2);
        vm.expectRevert(abi.encodeWithSelector(ProbeQuorumVerifier.BadProbe.selector, 2));
        _claim(dutyId, 1, ev);
        // A probe of another duty.
        (p, sig) = _probe(P3, proberIds[2], dutyId + 1, 0, true);
        ev = _withBad(dutyId, p, sig, 2);
        vm.expectRevert(abi.encodeWithSelector(ProbeQuorumVerifier.BadProbe.selector, 2));
        _claim(dutyId, 1, ev);
        // A tampered probe (the signature no longer matches).
        (p, sig) = _probe(P3, proberIds[2], dutyId, 0, true);
        p.latencyMs = 1;
        ev = _withBad(dutyId, p, sig, 2);
        vm.expectRevert(abi.encodeWithSelector(ProbeQuorumVerifier.BadSignature.selector, 2));
        _claim(dutyId, 1, ev);
        // All three honest: paid.
        (p, sig) = _probe(P3, proberIds[2], dutyId, 0, true);
        ev = _withBad(dutyId, p, sig, 2);
        _eq(_claim(dutyId, 1, ev), RATE, "one unit");
        // Only the board asks the verifier.
        vm.expectRevert(ProbeQuorumVerifier.OnlyBoard.selector);
        verifier.unitsDone(dutyId, operatorId, funderId, 0, 1, ev);
    }

    // ------------------------------------------------------------------ bonds and slashing

    function test_accepting_needs_the_bond_and_unbonding_waits_and_stays_slashable() public {
        vm.prank(vm.addr(FUNDER));
        uint256 dutyId = board.postDuty{value: 1 ether}(
            funderId, RPC, "", address(0), RATE, 10, EPOCH, MIN_BOND, IDutyVerifier(address(verifier)), 1 ether
        );
        vm.prank(vm.addr(OPERATOR));
        board.bond{value: 1 ether}(operatorId, RPC);
        vm.expectRevert(DutyBoard.BondTooLow.selector);
        vm.prank(vm.addr(OPERATOR));
        board.acceptDuty(dutyId, operatorId, address(0));
        vm.prank(vm.addr(OPERATOR));
        board.bond{value: 1 ether}(operatorId, RPC);
        // Someone else cannot take it for the operator's agent.
        vm.expectRevert(DutyBoard.NotOwner.selector);
        vm.prank(vm.addr(STRANGER));
        board.acceptDuty(dutyId, operatorId, address(0));
        vm.prank(vm.addr(OPERATOR));
        board.acceptDuty(dutyId, operatorId, address(0));
        // Engaged: no unbonding.
        vm.expectRevert(DutyBoard.StillEngaged.selector);
        vm.prank(vm.addr(OPERATOR));
        board.requestUnbond(operatorId, RPC, 1 ether);
        vm.prank(vm.addr(FUNDER));
        board.end(dutyId);
        vm.prank(vm.addr(OPERATOR));
        board.requestUnbond(operatorId, RPC, 2 ether);
        vm.expectRevert(DutyBoard.NotYet.selector);
        vm.prank(vm.addr(OPERATOR));
        board.withdrawUnbonded(operatorId, RPC);
        vm.warp(block.timestamp + 7 days);
        uint256 before = vm.addr(OPERATOR).balance;
        vm.prank(vm.addr(OPERATOR));
        board.withdrawUnbonded(operatorId, RPC);
        _eq(vm.addr(OPERATOR).balance - before, 2 ether, "bond back");
    }

    function test_missed_epochs_slash_the_bond_to_the_funder_and_the_reporter() public {
        uint256 dutyId = _activeDuty();
        vm.warp(block.timestamp + 4 * EPOCH);
        address reporter = vm.addr(STRANGER);
        // Two down epochs are not enough (the limit is three).
        bytes memory twoDown = _evidence(dutyId, 0, new uint8[](2));
        vm.expectRevert(DutyBoard.NotEnoughEvidence.selector);
        vm.prank(reporter);
        board.slashMissed(dutyId, 0, 2, twoDown);
        // Three down epochs (no prober saw it up), one up.
        uint256 funderBefore = vm.addr(FUNDER).balance;
        uint256 reporterBefore = reporter.balance;
        uint8[] memory oks = new uint8[](4);
        oks[3] = 3;
        bytes memory threeDown = _evidence(dutyId, 0, oks);
        vm.prank(reporter);
        board.slashMissed(dutyId, 0, 4, threeDown);
        _eq(reporter.balance - reporterBefore, MIN_BOND / 10, "the reporter's tenth");
        _eq(vm.addr(FUNDER).balance - funderBefore, MIN_BOND - MIN_BOND / 10, "the funder's share");
        (uint256 amount, uint256 locked,,) = board.bonds(operatorId, RPC);
        _eq(amount, 1 ether, "bond less the slash");
        _eq(locked, 0, "no longer locked");
        require(board.getDuty(dutyId).status == DutyBoard.Status.Open, "open again");
        // Nothing left to slash it for.
        bytes memory same = _evidence(dutyId, 0, oks);
        vm.expectRevert(abi.encodeWithSelector(DutyBoard.WrongStatus.selector, DutyBoard.Status.Open));
        board.slashMissed(dutyId, 0, 4, same);
    }

    function _blockSig(uint256 key, uint64 height, bytes32 h) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, board.unsafeBlockDigest(height, h));
        return abi.encodePacked(r, s, v);
    }

    function test_two_blocks_signed_for_one_height_slash_the_operator() public {
        uint256 dutyId = _activeDuty();
        bytes32 a = keccak256("block a");
        bytes32 b = keccak256("block b");
        bytes memory sa = _blockSig(SIGNER, 7, a);
        bytes memory sb = _blockSig(SIGNER, 7, b);
        bytes memory strangers = _blockSig(STRANGER, 7, b);
        bytes memory otherHeight = _blockSig(SIGNER, 8, b);
        // The same block twice is not equivocation; a stranger's signature is not the operator's.
        vm.expectRevert(DutyBoard.NotEnoughEvidence.selector);
        board.slashEquivocation(dutyId, 7, a, sa, a, sa);
        vm.expectRevert(DutyBoard.NotEnoughEvidence.selector);
        board.slashEquivocation(dutyId, 7, a, sa, b, strangers);
        // Signatures for different heights do not match the height claimed.
        vm.expectRevert(DutyBoard.NotEnoughEvidence.selector);
        board.slashEquivocation(dutyId, 7, a, sa, b, otherHeight);
        uint256 funderBefore = vm.addr(FUNDER).balance;
        vm.prank(vm.addr(STRANGER));
        board.slashEquivocation(dutyId, 7, a, sa, b, sb);
        _eq(vm.addr(FUNDER).balance - funderBefore, MIN_BOND - MIN_BOND / 10, "the funder's share");
    }

    function test_late_evidence_reaches_a_bond_released_at_the_end_until_the_unbond_delay() public {
        uint256 dutyId = _activeDuty();
        // Only the unlocked part of the bond (3 - 2 ether) may be unbonded while it runs.
        vm.expectRevert(DutyBoard.StillEngaged.selector);
        vm.prank(vm.addr(OPERATOR));
        board.requestUnbond(operatorId, RPC, 2 ether);
        // The duty ends; the operator unbonds everything at once.
        vm.prank(vm.addr(FUNDER));
        board.end(dutyId);
        vm.prank(vm.addr(OPERATOR));
        board.requestUnbond(operatorId, RPC, 3 ether);
        // Evidence of an equivocation during the duty arrives a day later: the unbonding bond
        // pays.
        vm.warp(block.timestamp + 1 days);
        bytes32 a = keccak256("block a");
        bytes32 b = keccak256("block b");
        bytes memory sa = _blockSig(SIGNER, 9, a);
        bytes memory sb = _blockSig(SIGNER, 9, b);
        uint256 funderBefore = vm.addr(FUNDER).balance;
        board.slashEquivocation(dutyId, 9, a, sa, b, sb);
        _eq(vm.addr(FUNDER).balance - funderBefore, MIN_BOND - MIN_BOND / 10, "paid from the unbonding bond");
        (,, uint256 unbonding,) = board.bonds(operatorId, RPC);
        _eq(unbonding, 1 ether, "the rest still unbonding");
        // Once: the operator is no longer on the duty.
        vm.expectRevert(abi.encodeWithSelector(DutyBoard.WrongStatus.selector, DutyBoard.Status.Ended));
        board.slashEquivocation(dutyId, 9, a, sa, b, sb);
        // After the delay the rest is withdrawn, and late evidence finds nothing to take.
        vm.warp(block.timestamp + 7 days);
        uint256 before = vm.addr(OPERATOR).balance;
        vm.prank(vm.addr(OPERATOR));
        board.withdrawUnbonded(operatorId, RPC);
        _eq(vm.addr(OPERATOR).balance - before, 1 ether, "the rest back");
    }

    function test_evidence_after_the_unbond_delay_is_refused() public {
        uint256 dutyId = _activeDuty();
        vm.prank(vm.addr(FUNDER));
        board.end(dutyId);
        vm.warp(block.timestamp + 7 days);
        bytes32 a = keccak256("block a");
        bytes32 b = keccak256("block b");
        bytes memory sa = _blockSig(SIGNER, 9, a);
        bytes memory sb = _blockSig(SIGNER, 9, b);
        vm.expectRevert(abi.encodeWithSelector(DutyBoard.WrongStatus.selector, DutyBoard.Status.Ended));
        board.slashEquivocation(dutyId, 9, a, sa, b, sb);
    }
}

/// The board with channels: a co-signed state as proof of payment, and refuted disputes as
/// slashing evidence.
contract DutyBoardChannelTest is DutyBoardBase {
    /// A state of `id` paying `sent` for `dutyId`, signed by `keyA` and `keyB`.
    function _channelState(Adjudicator adj_, bytes32 id, uint256 dutyId, uint256 sent, uint256 keyA, uint256 keyB)
        internal
        view
        returns (Adjudicator.State memory s, bytes memory sigA, bytes memory sigB)
    {
        return _versioned(adj_, id, 1, dutyId, sent, keyA, keyB);
    }

    function _versioned(
        Adjudicator adj_,
        bytes32 id,
        uint64 version,
        uint256 dutyId,
        uint256 sent,
        uint256 keyA,
        uint256 keyB
    ) internal view returns (Adjudicator.State memory s, bytes memory sigA, bytes memory sigB) {
        s = Adjudicator.State({
            channelId: id, version: version, sentA: sent, sentB: 0, appData: bytes32((dutyId << 64) | 1), isFinal: false
        });
        bytes32 digest = adj_.stateDigest(s);
        (uint8 v, bytes32 r, bytes32 ss) = vm.sign(keyA, digest);
        sigA = abi.encodePacked(r, ss, v);
        (v, r, ss) = vm.sign(keyB, digest);
        sigB = abi.encodePacked(r, ss, v);
    }

    function test_a_co_signed_channel_state_that_paid_the_operator_is_proof_of_payment() public {
        ReputationRegistrySol rep = new ReputationRegistrySol(ids);
        PaidFeedback paid = new PaidFeedback(board, IReputationFeedback(address(rep)), adj);
        uint256 dutyId = _activeDuty();
        vm.deal(vm.addr(FUNDER), 10 ether);
        vm.prank(vm.addr(FUNDER));
        bytes32 id = adj.open{value: 1 ether}(vm.addr(OPERATOR), address(0), 1, 60, 0, 0, 1 ether);
        // Nothing paid in the state: no proof.
        (Adjudicator.State memory s, bytes memory a, bytes memory b) =
            _channelState(adj, id, dutyId, 0, FUNDER, OPERATOR);
        vm.expectRevert(PaidFeedback.NothingPaid.selector);
        vm.prank(vm.addr(FUNDER));
        paid.rateOperatorByChannel(s, a, b, 90, 0, "");
        // A state the operator did not sign (a stranger's signature for side B): refused.
        (s, a, b) = _channelState(adj, id, dutyId, 0.01 ether, FUNDER, STRANGER);
        vm.expectRevert(PaidFeedback.BadChannelSignature.selector);
        vm.prank(vm.addr(FUNDER));
        paid.rateOperatorByChannel(s, a, b, 90, 0, "");
        // Only the payer rates.
        (s, a, b) = _channelState(adj, id, dutyId, 0.01 ether, FUNDER, OPERATOR);
        vm.expectRevert(PaidFeedback.NotTheFunder.selector);
        vm.prank(vm.addr(STRANGER));
        paid.rateOperatorByChannel(s, a, b, 90, 0, "");
        vm.prank(vm.addr(FUNDER));
        paid.rateOperatorByChannel(s, a, b, 90, 0, "ipfs://review");
        (int128 value,, string memory tag1, string memory tag2,) = rep.readFeedback(operatorId, address(paid), 1);
        require(value == 90 && keccak256(bytes(tag1)) == keccak256("paid"), "the rating");
        require(keccak256(bytes(tag2)) == keccak256("channel"), "tag2");
        // Once per duty and operator, whichever the proof.
        vm.expectRevert(PaidFeedback.AlreadyRated.selector);
        vm.prank(vm.addr(FUNDER));
        paid.rateOperatorByChannel(s, a, b, 10, 0, "");
        // A channel to someone who is not the operator's owner proves nothing about it.
        vm.prank(vm.addr(FUNDER));
        bytes32 other = adj.open{value: 1 ether}(vm.addr(STRANGER), address(0), 2, 60, 0, 0, 1 ether);
        (s, a, b) = _channelState(adj, other, dutyId, 0.01 ether, FUNDER, STRANGER);
        vm.expectRevert(PaidFeedback.NotTheOperator.selector);
        vm.prank(vm.addr(FUNDER));
        paid.rateOperatorByChannel(s, a, b, 90, 0, "");
    }

    function test_an_operator_refuted_on_a_channel_with_the_funder_is_slashed_once() public {
        uint256 dutyId = _activeDuty();
        // The operator's owner pays the funder over a channel (say, for a service of its own),
        // then disputes with the older state, where it had paid less.
        vm.deal(vm.addr(OPERATOR), 10 ether);
        vm.prank(vm.addr(OPERATOR));
        bytes32 id = adj.open{value: 1 ether}(vm.addr(FUNDER), address(0), 7, 60, 0, 0, 1 ether);
        (Adjudicator.State memory old_, bytes memory oa, bytes memory ob) =
            _versioned(adj, id, 1, dutyId, 0.1 ether, OPERATOR, FUNDER);
        (Adjudicator.State memory new_, bytes memory na, bytes memory nb) =
            _versioned(adj, id, 2, dutyId, 0.5 ether, OPERATOR, FUNDER);
        // Not refuted yet: no evidence.
        vm.expectRevert(DutyBoard.NotEnoughEvidence.selector);
        board.slashRefutedDispute(dutyId, id);
        vm.prank(vm.addr(OPERATOR));
        adj.dispute(old_, oa, ob);
        adj.refute(new_, na, nb);
        require(adj.refutedDisputer(id) == vm.addr(OPERATOR), "the record");
        uint256 before = vm.addr(FUNDER).balance;
        vm.prank(vm.addr(STRANGER));
        board.slashRefutedDispute(dutyId, id);
        _eq(vm.addr(FUNDER).balance - before, MIN_BOND * 9 / 10, "the funder's share");
        // Once per refuted dispute: the operator, back on a new duty, is not slashed again.
        dutyId = _activeDuty();
        vm.expectRevert(DutyBoard.NotEnoughEvidence.selector);
        board.slashRefutedDispute(dutyId, id);
    }

    function test_a_funder_refuted_on_its_own_channel_cannot_frame_the_operator() public {
        uint256 dutyId = _activeDuty();
        vm.deal(vm.addr(FUNDER), 10 ether);
        vm.prank(vm.addr(FUNDER));
        bytes32 id = adj.open{value: 1 ether}(vm.addr(OPERATOR), address(0), 8, 60, 0, 0, 1 ether);
        (Adjudicator.State memory old_, bytes memory oa, bytes memory ob) =
            _versioned(adj, id, 1, dutyId, 0.1 ether, FUNDER, OPERATOR);
        (Adjudicator.State memory new_, bytes memory na, bytes memory nb) =
            _versioned(adj, id, 2, dutyId, 0.5 ether, FUNDER, OPERATOR);
        // The funder disputes stale itself and has it refuted: the record names the funder.
        vm.prank(vm.addr(FUNDER));
        adj.dispute(old_, oa, ob);
        adj.refute(new_, na, nb);
        vm.expectRevert(DutyBoard.NotEnoughEvidence.selector);
        board.slashRefutedDispute(dutyId, id);
        // A stranger's channel with the operator is not the duty's business either.
        vm.deal(vm.addr(STRANGER), 10 ether);
        vm.prank(vm.addr(OPERATOR));
        bytes32 other = adj.open{value: 1 ether}(vm.addr(STRANGER), address(0), 9, 60, 0, 0, 1 ether);
        (old_, oa, ob) = _versioned(adj, other, 1, dutyId, 0.1 ether, OPERATOR, STRANGER);
        (new_, na, nb) = _versioned(adj, other, 2, dutyId, 0.5 ether, OPERATOR, STRANGER);
        vm.prank(vm.addr(OPERATOR));
        adj.dispute(old_, oa, ob);
        adj.refute(new_, na, nb);
        vm.expectRevert(DutyBoard.NotEnoughEvidence.selector);
        board.slashRefutedDispute(dutyId, other);
    }
}
