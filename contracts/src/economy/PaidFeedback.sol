// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DutyBoard} from "./DutyBoard.sol";

/// @notice The ERC-8004 reputation calls this contract makes (agnt2 0x8005).
interface IReputationFeedback {
    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8 valueDecimals,
        string calldata tag1,
        string calldata tag2,
        string calldata endpoint,
        string calldata feedbackURI,
        bytes32 feedbackHash
    ) external;
}

/// @title PaidFeedback
/// @notice Reputation grounded in payment: feedback that reaches the ERC-8004 Reputation
///         Registry through this contract carries a proof of payment, checked here — the
///         caller is the funder of a duty on the board that has paid its operator at least one
///         unit. The registry records this contract as the feedback's client, so
///         `getSummary(agentId, [thisContract], "paid", "")` is the operator's paid feedback
///         only: Sybil reviews (feedback not tied to payment) cannot enter it.
///
/// One rating per (duty, operator). The feedback's `tag1` is "paid", `tag2` "duty", and its
/// hash commits to (board, duty, funder, units paid), so a reader can check the payment on
/// the board.
contract PaidFeedback {
    DutyBoard public immutable board;
    IReputationFeedback public immutable reputation;
    mapping(uint256 => mapping(uint256 => bool)) public rated;

    event PaidFeedbackGiven(
        uint256 indexed dutyId, uint256 indexed operatorAgentId, address indexed funder, int128 value, uint64 unitsPaid
    );

    error NotTheFunder();
    error NothingPaid();
    error NoOperator();
    error AlreadyRated();

    constructor(DutyBoard board_, IReputationFeedback reputation_) {
        board = board_;
        reputation = reputation_;
    }

    /// @notice Rates the operator of `dutyId` (its funder only, once it has paid for a unit).
    function rateOperator(uint256 dutyId, int128 value, uint8 valueDecimals, string calldata feedbackURI) external {
        DutyBoard.Duty memory d = board.getDuty(dutyId);
        if (d.funder != msg.sender) revert NotTheFunder();
        if (d.unitsPaid == 0) revert NothingPaid();
        // The operator that was paid: still on the duty (a slashed one is off it, and the slash
        // is its record).
        if (d.activeSince == 0) revert NoOperator();
        uint256 operator = d.operatorAgentId;
        if (rated[dutyId][operator]) revert AlreadyRated();
        rated[dutyId][operator] = true;
        bytes32 proof = keccak256(abi.encode(address(board), dutyId, msg.sender, d.unitsPaid));
        reputation.giveFeedback(operator, value, valueDecimals, "paid", "duty", "", feedbackURI, proof);
        emit PaidFeedbackGiven(dutyId, operator, msg.sender, value, d.unitsPaid);
    }
}
