// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DutyBoard} from "./DutyBoard.sol";
import {Adjudicator} from "../channels/Adjudicator.sol";

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
/// The proof is either units the board paid (`rateOperator`: `tag2` "duty", the hash commits to
/// (board, duty, funder, units paid)) or a state of a channel on the trusted Adjudicator that
/// both participants signed, in which the funder paid the operator's owner for the duty its app
/// data names (`agnt2 duty stream`: duty id in the high 24 bytes; `rateOperatorByChannel`:
/// `tag2` "channel", the hash commits to (adjudicator, channel, version, sentA)). One rating per
/// (duty, operator), whichever the proof.
contract PaidFeedback {
    DutyBoard public immutable board;
    IReputationFeedback public immutable reputation;
    Adjudicator public immutable adjudicator;
    mapping(uint256 => mapping(uint256 => bool)) public rated;

    event PaidFeedbackGiven(
        uint256 indexed dutyId, uint256 indexed operatorAgentId, address indexed funder, int128 value, uint64 unitsPaid
    );

    error NotTheFunder();
    error NothingPaid();
    error NoOperator();
    error AlreadyRated();
    error NotTheOperator();
    error BadChannelSignature();

    constructor(DutyBoard board_, IReputationFeedback reputation_, Adjudicator adjudicator_) {
        board = board_;
        reputation = reputation_;
        adjudicator = adjudicator_;
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

    /// @notice Rates the operator of the duty a co-signed channel state pays for: the caller is
    ///         the channel's side A and the duty's funder, side B owns the operator agent, both
    ///         participants signed the state themselves (session-key signatures are not taken
    ///         here), and A has paid B something in it.
    function rateOperatorByChannel(
        Adjudicator.State calldata s,
        bytes calldata sigA,
        bytes calldata sigB,
        int128 value,
        uint8 valueDecimals,
        string calldata feedbackURI
    ) external {
        (uint256 dutyId, uint256 operator) = _paidByChannel(s, sigA, sigB);
        if (rated[dutyId][operator]) revert AlreadyRated();
        rated[dutyId][operator] = true;
        bytes32 proof = keccak256(abi.encode(address(adjudicator), s.channelId, s.version, s.sentA));
        reputation.giveFeedback(operator, value, valueDecimals, "paid", "channel", "", feedbackURI, proof);
        emit PaidFeedbackGiven(dutyId, operator, msg.sender, value, 0);
    }

    /// The duty and operator a co-signed state from the caller pays for (see above).
    function _paidByChannel(Adjudicator.State calldata s, bytes calldata sigA, bytes calldata sigB)
        internal
        view
        returns (uint256 dutyId, uint256 operator)
    {
        Adjudicator.Channel memory c = adjudicator.getChannel(s.channelId);
        if (c.a != msg.sender) revert NotTheFunder();
        dutyId = uint256(s.appData) >> 64;
        DutyBoard.Duty memory d = board.getDuty(dutyId);
        if (d.funder != msg.sender) revert NotTheFunder();
        if (d.activeSince == 0) revert NoOperator();
        operator = d.operatorAgentId;
        if (board.identity().ownerOf(operator) != c.b) revert NotTheOperator();
        if (s.sentA <= s.sentB) revert NothingPaid();
        bytes32 digest = adjudicator.stateDigest(s);
        if (_recover(digest, sigA) != c.a || _recover(digest, sigB) != c.b) revert BadChannelSignature();
    }

    function _recover(bytes32 digest, bytes calldata sig) internal pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s_ = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        // Low s only (EIP-2), as the Adjudicator.
        if (uint256(s_) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) return address(0);
        return ecrecover(digest, v, r, s_);
    }
}
