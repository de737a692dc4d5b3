// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DutyBoard} from "./DutyBoard.sol";
import {IAgentIdentity, IDutyVerifier} from "./IDutyVerifier.sol";

/// @title SwarmProposals
/// @notice The agents of a swarm pool ETH here and vote, weighted by their bonds on a duty
///         board (for one role), to fund duties from the pool: a passed proposal posts the duty
///         on the board with this contract's own agent as the funder.
///
/// A vote weighs what the agent has bonded (not locked or unbonding excluded: the bond's
/// `amount`) at the moment it votes; the voting period is shorter than the board's unbonding
/// delay, so a bond cannot be withdrawn and bonded again under another agent to vote twice. One
/// vote per agent per proposal; its owner casts it. A proposal passes when, after its deadline,
/// the weight for it exceeds the weight against and reaches `minYesWeight`; anyone executes it
/// once, if the pool holds its escrow.
contract SwarmProposals {
    struct Proposal {
        address proposer;
        bytes32 kind;
        string specURI;
        uint256 ratePerUnit;
        uint64 unitsCap;
        uint64 epochLength;
        uint256 minBond;
        IDutyVerifier verifier;
        uint256 escrow;
        uint64 deadline;
        uint256 yes;
        uint256 no;
        bool executed;
        uint256 dutyId;
    }

    DutyBoard public immutable board;
    IAgentIdentity public immutable identity;
    bytes32 public immutable role;
    uint64 public immutable votingPeriod;
    uint256 public immutable minYesWeight;
    /// This contract's own agent: the funder of the duties it posts.
    uint256 public immutable agentId;

    uint256 public proposalCount;
    mapping(uint256 => Proposal) public proposals;
    mapping(uint256 => mapping(uint256 => bool)) public voted;

    event Deposited(address indexed from, uint256 amount);
    event Proposed(uint256 indexed proposalId, address indexed proposer, bytes32 kind, uint256 escrow, uint64 deadline);
    event Voted(uint256 indexed proposalId, uint256 indexed agentId, bool support, uint256 weight);
    event Executed(uint256 indexed proposalId, uint256 indexed dutyId);

    error NotOwner();
    error NoWeight();
    error AlreadyVoted();
    error VotingClosed();
    error VotingOpen();
    error NotPassed();
    error AlreadyExecuted();
    error Underfunded(uint256 pool, uint256 needed);

    constructor(DutyBoard board_, bytes32 role_, uint64 votingPeriod_, uint256 minYesWeight_, string memory uri) {
        require(votingPeriod_ < board_.unbondDelay(), "the vote must end before a bond can leave");
        board = board_;
        identity = board_.identity();
        role = role_;
        votingPeriod = votingPeriod_;
        minYesWeight = minYesWeight_;
        agentId = IRegister(address(board_.identity())).register(uri);
    }

    receive() external payable {
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Accepts its agent from registries that mint safely.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC721Received.selector;
    }

    /// @notice Proposes funding a duty (the board's `postDuty` parameters, paid in ETH).
    function propose(
        bytes32 kind,
        string calldata specURI,
        uint256 ratePerUnit,
        uint64 unitsCap,
        uint64 epochLength,
        uint256 minBond,
        IDutyVerifier verifier,
        uint256 escrow
    ) external returns (uint256 id) {
        id = ++proposalCount;
        Proposal storage p = proposals[id];
        p.proposer = msg.sender;
        p.kind = kind;
        p.specURI = specURI;
        p.ratePerUnit = ratePerUnit;
        p.unitsCap = unitsCap;
        p.epochLength = epochLength;
        p.minBond = minBond;
        p.verifier = verifier;
        p.escrow = escrow;
        p.deadline = uint64(block.timestamp) + votingPeriod;
        emit Proposed(id, msg.sender, kind, escrow, p.deadline);
    }

    /// @notice Votes as `voterAgentId` (the caller must own it), weighted by its bond.
    function vote(uint256 proposalId, uint256 voterAgentId, bool support) external {
        Proposal storage p = proposals[proposalId];
        if (p.deadline == 0 || block.timestamp >= p.deadline) revert VotingClosed();
        if (identity.ownerOf(voterAgentId) != msg.sender) revert NotOwner();
        if (voted[proposalId][voterAgentId]) revert AlreadyVoted();
        (uint256 weight,,,) = board.bonds(voterAgentId, role);
        if (weight == 0) revert NoWeight();
        voted[proposalId][voterAgentId] = true;
        if (support) p.yes += weight;
        else p.no += weight;
        emit Voted(proposalId, voterAgentId, support, weight);
    }

    /// @notice Posts a passed proposal's duty on the board, paid from the pool.
    function execute(uint256 proposalId) external returns (uint256 dutyId) {
        Proposal storage p = proposals[proposalId];
        if (p.deadline == 0 || block.timestamp < p.deadline) revert VotingOpen();
        if (p.executed) revert AlreadyExecuted();
        if (p.yes <= p.no || p.yes < minYesWeight) revert NotPassed();
        if (address(this).balance < p.escrow) revert Underfunded(address(this).balance, p.escrow);
        p.executed = true;
        dutyId = board.postDuty{value: p.escrow}(
            agentId,
            p.kind,
            p.specURI,
            address(0),
            p.ratePerUnit,
            p.unitsCap,
            p.epochLength,
            p.minBond,
            p.verifier,
            p.escrow
        );
        p.dutyId = dutyId;
        emit Executed(proposalId, dutyId);
    }
}

/// @notice The registration call the swarm makes on the identity registry.
interface IRegister {
    function register(string calldata agentURI) external returns (uint256 agentId);
}
