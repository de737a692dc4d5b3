// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentIdentity, IAgentSessions, IDutyVerifier} from "./IDutyVerifier.sol";
import {Adjudicator} from "../channels/Adjudicator.sol";

/// @notice The ERC-20 calls the board makes.
interface IERC20Duty {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

/// @title DutyBoard
/// @notice Paid duties of running a chain (sequencer, RPC follower, batcher, …), posted by a
///         funder agent with escrow and taken by an operator agent that bonds for the duty's
///         role.
///
/// A duty's units are its *active epochs*: epoch `k` is the `k`-th `epochLength` seconds the
/// duty has been active since it was accepted (a pause takes whole epochs out of the count, so
/// epoch numbers stay those the evidence names). Units are claimed in contiguous ranges from
/// the first unclaimed one: the duty's verifier says how many of the range the evidence proves
/// done, those are paid from escrow at `ratePerUnit` (up to `unitsCap` in all), and the range
/// is never asked about again — nothing is paid twice. One claim pays a whole range: no
/// transaction per unit.
///
/// Bonds are per (agent, role) in ETH. Accepting a duty locks `minBond` of the bond until the
/// duty ends (one bond cannot back two duties); the rest may be unbonded, which takes
/// `unbondDelay`. Slashing needs evidence: the verifier proving `missedLimit` missed units in a
/// range (a duty left down), or two different blocks signed by the operator's signer for one
/// height (equivocation). Evidence is taken while the duty runs and for `unbondDelay` after it
/// ended — the same delay every unbonding waits, so a bond released at the end is still there
/// when late evidence arrives. A slash takes up to the duty's `minBond` (from the bond, then
/// from what is unbonding), pays `reporterBps` of it to whoever brought the evidence and the
/// rest to the funder, and removes the operator (a running duty is open again).
///
/// Roles: a funder may hand the running of its duties to another key without handing over its
/// agent — a session key of the funder agent (agnt2's Sessions precompile) that lists this board
/// among its counterparties may pause, resume and end the agent's duties until the session
/// expires or is closed. Posting (which moves money) and refunds stay with the owner.
contract DutyBoard {
    enum Status {
        None,
        Open,
        Active,
        Paused,
        Ended
    }

    struct Duty {
        uint256 funderAgentId;
        address funder;
        bytes32 kind;
        string specURI;
        address token;
        uint256 ratePerUnit;
        uint64 unitsCap;
        uint64 epochLength;
        uint256 minBond;
        IDutyVerifier verifier;
        uint256 escrow;
        uint64 unitsPaid;
        uint64 nextUnit;
        Status status;
        uint256 operatorAgentId;
        address operatorSigner;
        uint64 activeSince;
        uint64 pausedAt;
        uint64 endUnit;
        uint64 endedAt;
    }

    struct Bond {
        uint256 amount;
        uint256 locked;
        uint256 unbonding;
        uint64 unbondAt;
    }

    IAgentIdentity public immutable identity;
    IAgentSessions public immutable sessions;
    uint64 public immutable unbondDelay;
    uint64 public immutable claimGrace;
    uint64 public immutable missedLimit;
    uint16 public immutable reporterBps;
    /// The channel Adjudicator whose refuted disputes are evidence (zero: none).
    Adjudicator public immutable adjudicator;

    uint256 public dutyCount;
    /// Refuted disputes already slashed on.
    mapping(bytes32 => bool) public refuteUsed;
    mapping(uint256 => Duty) internal _duties;
    mapping(uint256 => mapping(bytes32 => Bond)) public bonds;
    uint256 private _lock = 1;

    bytes32 public constant UNSAFE_BLOCK_DOMAIN = keccak256("agnt2.unsafe-block");

    event DutyPosted(
        uint256 indexed dutyId,
        uint256 indexed funderAgentId,
        bytes32 indexed kind,
        address token,
        uint256 ratePerUnit,
        uint64 unitsCap,
        uint64 epochLength,
        uint256 minBond,
        address verifier,
        uint256 escrow
    );
    event DutyToppedUp(uint256 indexed dutyId, uint256 amount);
    event DutyAccepted(uint256 indexed dutyId, uint256 indexed operatorAgentId, address signer);
    event DutyPaused(uint256 indexed dutyId, uint64 atUnit);
    event DutyResumed(uint256 indexed dutyId);
    event DutyEnded(uint256 indexed dutyId, uint64 atUnit);
    event UnitsPaid(
        uint256 indexed dutyId, uint256 indexed operatorAgentId, uint64 from, uint64 to, uint64 units, uint256 amount
    );
    event EscrowRefunded(uint256 indexed dutyId, address indexed funder, uint256 amount);
    event Bonded(uint256 indexed agentId, bytes32 indexed role, uint256 amount);
    event UnbondRequested(uint256 indexed agentId, bytes32 indexed role, uint256 amount, uint64 at);
    event Unbonded(uint256 indexed agentId, bytes32 indexed role, uint256 amount);
    event Slashed(
        uint256 indexed dutyId,
        uint256 indexed operatorAgentId,
        bytes32 reason,
        uint256 amount,
        address reporter,
        uint256 reporterShare
    );

    error NotOwner();
    error BadDuty();
    error WrongStatus(Status status);
    error BadRange();
    error BondTooLow();
    error StillEngaged();
    error NotYet();
    error NothingToDo();
    error NotEnoughEvidence();
    error TransferFailed();
    error Reentrant();

    modifier nonReentrant() {
        if (_lock != 1) revert Reentrant();
        _lock = 2;
        _;
        _lock = 1;
    }

    constructor(
        IAgentIdentity identity_,
        IAgentSessions sessions_,
        uint64 unbondDelay_,
        uint64 claimGrace_,
        uint64 missedLimit_,
        uint16 reporterBps_,
        Adjudicator adjudicator_
    ) {
        require(reporterBps_ <= 10_000 && missedLimit_ > 0, "bad parameters");
        identity = identity_;
        sessions = sessions_;
        unbondDelay = unbondDelay_;
        claimGrace = claimGrace_;
        missedLimit = missedLimit_;
        reporterBps = reporterBps_;
        adjudicator = adjudicator_;
    }

    // ------------------------------------------------------------------ duties

    /// @notice Posts a duty funded with `escrow` (`msg.value` for ETH, `token == address(0)`;
    ///         pulled with `transferFrom` otherwise). The caller must own `funderAgentId`.
    function postDuty(
        uint256 funderAgentId,
        bytes32 kind,
        string calldata specURI,
        address token,
        uint256 ratePerUnit,
        uint64 unitsCap,
        uint64 epochLength,
        uint256 minBond,
        IDutyVerifier verifier,
        uint256 escrow
    ) external payable nonReentrant returns (uint256 dutyId) {
        if (identity.ownerOf(funderAgentId) != msg.sender) revert NotOwner();
        if (ratePerUnit == 0 || unitsCap == 0 || epochLength == 0 || address(verifier) == address(0)) {
            revert BadDuty();
        }
        escrow = _pull(token, escrow);
        dutyId = ++dutyCount;
        Duty storage d = _duties[dutyId];
        d.funderAgentId = funderAgentId;
        d.funder = msg.sender;
        d.kind = kind;
        d.specURI = specURI;
        d.token = token;
        d.ratePerUnit = ratePerUnit;
        d.unitsCap = unitsCap;
        d.epochLength = epochLength;
        d.minBond = minBond;
        d.verifier = verifier;
        d.escrow = escrow;
        d.status = Status.Open;
        emit DutyPosted(
            dutyId, funderAgentId, kind, token, ratePerUnit, unitsCap, epochLength, minBond, address(verifier), escrow
        );
    }

    /// @notice Adds escrow (anyone may).
    function topUp(uint256 dutyId, uint256 amount) external payable nonReentrant {
        Duty storage d = _duties[dutyId];
        if (d.status == Status.None || d.status == Status.Ended) revert WrongStatus(d.status);
        amount = _pull(d.token, amount);
        d.escrow += amount;
        emit DutyToppedUp(dutyId, amount);
    }

    /// @notice Takes an open duty as `operatorAgentId` (the caller must own it, and it must be
    ///         bonded at least `minBond` for the duty's kind). `signer` is the key that signs
    ///         the operator's work (a sequencer's unsafe blocks): equivocation evidence is
    ///         checked against it.
    function acceptDuty(uint256 dutyId, uint256 operatorAgentId, address signer) external {
        Duty storage d = _duties[dutyId];
        if (d.status != Status.Open) revert WrongStatus(d.status);
        if (identity.ownerOf(operatorAgentId) != msg.sender) revert NotOwner();
        if (operatorAgentId == d.funderAgentId) revert BadDuty();
        Bond storage b = bonds[operatorAgentId][d.kind];
        if (b.amount - b.locked < d.minBond || b.amount == 0) revert BondTooLow();
        b.locked += d.minBond;
        d.operatorAgentId = operatorAgentId;
        d.operatorSigner = signer;
        d.status = Status.Active;
        d.activeSince = uint64(block.timestamp);
        d.nextUnit = 0;
        emit DutyAccepted(dutyId, operatorAgentId, signer);
    }

    /// @notice The funder stops the clock: no unit after the current one counts until resumed.
    function pause(uint256 dutyId) external {
        Duty storage d = _funderOrManager(dutyId);
        if (d.status != Status.Active) revert WrongStatus(d.status);
        d.status = Status.Paused;
        d.pausedAt = uint64(block.timestamp);
        emit DutyPaused(dutyId, currentUnit(dutyId));
    }

    /// @notice Resumes a paused duty; the paused time (in whole epochs) is not counted.
    function resume(uint256 dutyId) external {
        Duty storage d = _funderOrManager(dutyId);
        if (d.status != Status.Paused) revert WrongStatus(d.status);
        uint64 pausedEpochs = (uint64(block.timestamp) - d.pausedAt) / d.epochLength;
        d.activeSince += pausedEpochs * d.epochLength;
        d.status = Status.Active;
        emit DutyResumed(dutyId);
    }

    /// @notice Ends a duty. Units up to now stay claimable for `claimGrace`; after that (at once
    ///         without an operator) the funder takes the rest of the escrow with `refund`.
    function end(uint256 dutyId) external {
        Duty storage d = _funderOrManager(dutyId);
        if (d.status == Status.Ended) revert WrongStatus(d.status);
        d.endUnit = d.status == Status.Open ? 0 : currentUnit(dutyId);
        if (d.status != Status.Open) bonds[d.operatorAgentId][d.kind].locked -= d.minBond;
        d.status = Status.Ended;
        d.endedAt = uint64(block.timestamp);
        emit DutyEnded(dutyId, d.endUnit);
    }

    /// @notice Returns an ended duty's remaining escrow to its funder, once the operator's
    ///         claim grace has passed (or at once when every unit is claimed).
    function refund(uint256 dutyId) external nonReentrant {
        Duty storage d = _duties[dutyId];
        if (d.status != Status.Ended) revert WrongStatus(d.status);
        if (d.nextUnit < d.endUnit && block.timestamp < d.endedAt + claimGrace) revert NotYet();
        uint256 amount = d.escrow;
        if (amount == 0) revert NothingToDo();
        d.escrow = 0;
        d.endUnit = d.nextUnit;
        _send(d.token, d.funder, amount);
        emit EscrowRefunded(dutyId, d.funder, amount);
    }

    /// @notice The first unit not yet complete (units `< currentUnit` may be claimed).
    function currentUnit(uint256 dutyId) public view returns (uint64) {
        Duty storage d = _duties[dutyId];
        if (d.status == Status.Open || d.status == Status.None) return 0;
        if (d.status == Status.Ended) return d.endUnit;
        uint64 at = d.status == Status.Paused ? d.pausedAt : uint64(block.timestamp);
        return (at - d.activeSince) / d.epochLength;
    }

    /// @notice The operator agent's owner claims units `[nextUnit, to)` with `evidence` for the
    ///         duty's verifier and is paid for the units it proves done.
    function claim(uint256 dutyId, uint64 to, bytes calldata evidence) external nonReentrant returns (uint256 amount) {
        Duty storage d = _duties[dutyId];
        if (d.status != Status.Active && d.status != Status.Paused && d.status != Status.Ended) {
            revert WrongStatus(d.status);
        }
        // Ended: within the grace, and not for an operator slashed since.
        if (d.status == Status.Ended && (block.timestamp >= d.endedAt + claimGrace || d.activeSince == 0)) {
            revert WrongStatus(d.status);
        }
        // The operator's owner claims: anyone else could settle its units with empty evidence.
        address payee = identity.ownerOf(d.operatorAgentId);
        if (msg.sender != payee) revert NotOwner();
        uint64 from = d.nextUnit;
        if (to <= from || to > currentUnit(dutyId)) revert BadRange();
        // The range is settled before the verifier runs: it is never asked about twice.
        d.nextUnit = to;
        uint64 done = d.verifier.unitsDone(dutyId, d.operatorAgentId, d.funderAgentId, from, to, evidence);
        if (done > to - from) revert NotEnoughEvidence();
        uint64 left = d.unitsCap - d.unitsPaid;
        uint64 units = done < left ? done : left;
        uint256 affordable = d.escrow / d.ratePerUnit;
        if (units > affordable) units = uint64(affordable);
        amount = uint256(units) * d.ratePerUnit;
        d.unitsPaid += units;
        d.escrow -= amount;
        if (amount > 0) _send(d.token, payee, amount);
        emit UnitsPaid(dutyId, d.operatorAgentId, from, to, units, amount);
    }

    function getDuty(uint256 dutyId) external view returns (Duty memory) {
        return _duties[dutyId];
    }

    // ------------------------------------------------------------------ bonds

    /// @notice Adds `msg.value` to the bond of `agentId` for `role` (the caller must own it).
    function bond(uint256 agentId, bytes32 role) external payable {
        if (identity.ownerOf(agentId) != msg.sender) revert NotOwner();
        if (msg.value == 0) revert NothingToDo();
        bonds[agentId][role].amount += msg.value;
        emit Bonded(agentId, role, msg.value);
    }

    /// @notice Starts unbonding `amount` of what no duty locks; it can be withdrawn after
    ///         `unbondDelay` and stays slashable until then.
    function requestUnbond(uint256 agentId, bytes32 role, uint256 amount) external {
        if (identity.ownerOf(agentId) != msg.sender) revert NotOwner();
        Bond storage b = bonds[agentId][role];
        if (amount > b.amount - b.locked) revert StillEngaged();
        if (amount == 0) revert NothingToDo();
        b.amount -= amount;
        b.unbonding += amount;
        b.unbondAt = uint64(block.timestamp) + unbondDelay;
        emit UnbondRequested(agentId, role, amount, b.unbondAt);
    }

    /// @notice Withdraws what finished unbonding to the agent's owner.
    function withdrawUnbonded(uint256 agentId, bytes32 role) external nonReentrant {
        address owner = identity.ownerOf(agentId);
        if (owner != msg.sender) revert NotOwner();
        Bond storage b = bonds[agentId][role];
        if (b.unbonding == 0) revert NothingToDo();
        if (block.timestamp < b.unbondAt) revert NotYet();
        uint256 amount = b.unbonding;
        b.unbonding = 0;
        _send(address(0), owner, amount);
        emit Unbonded(agentId, role, amount);
    }

    // ------------------------------------------------------------------ slashing

    /// @notice Slashes an operator the verifier proves missed at least `missedLimit` units of
    ///         `[from, to)` — claimed ranges included: claiming missed units for nothing does not
    ///         put them out of reach.
    function slashMissed(uint256 dutyId, uint64 from, uint64 to, bytes calldata evidence) external nonReentrant {
        Duty storage d = _slashable(dutyId);
        if (to <= from || to > currentUnit(dutyId)) revert BadRange();
        uint64 missed = d.verifier.unitsMissed(dutyId, d.operatorAgentId, d.funderAgentId, from, to, evidence);
        if (missed < missedLimit || missed > to - from) revert NotEnoughEvidence();
        _slash(dutyId, d, "missed");
    }

    /// @notice Slashes an operator whose signer signed two different blocks for one height:
    ///         each signature is over `keccak256(abi.encode(UNSAFE_BLOCK_DOMAIN, chainid,
    ///         height, blockHash))`.
    function slashEquivocation(
        uint256 dutyId,
        uint64 height,
        bytes32 hashA,
        bytes calldata sigA,
        bytes32 hashB,
        bytes calldata sigB
    ) external nonReentrant {
        Duty storage d = _slashable(dutyId);
        if (hashA == hashB || d.operatorSigner == address(0)) revert NotEnoughEvidence();
        if (_blockSigner(height, hashA, sigA) != d.operatorSigner) revert NotEnoughEvidence();
        if (_blockSigner(height, hashB, sigB) != d.operatorSigner) revert NotEnoughEvidence();
        _slash(dutyId, d, "equivocation");
    }

    /// @notice Slashes the operator of `dutyId` whose owner disputed channel `channelId` — a
    ///         channel with the duty's funder on the board's Adjudicator — with a stale state
    ///         and was refuted (the Adjudicator's record): an attempt to take back what it was
    ///         paid, or to be paid twice. Each refuted dispute slashes once.
    function slashRefutedDispute(uint256 dutyId, bytes32 channelId) external nonReentrant {
        Duty storage d = _slashable(dutyId);
        if (address(adjudicator) == address(0) || refuteUsed[channelId]) revert NotEnoughEvidence();
        address operatorOwner = identity.ownerOf(d.operatorAgentId);
        Adjudicator.Channel memory c = adjudicator.getChannel(channelId);
        bool between = (c.a == d.funder && c.b == operatorOwner) || (c.b == d.funder && c.a == operatorOwner);
        if (!between || adjudicator.refutedDisputer(channelId) != operatorOwner) revert NotEnoughEvidence();
        refuteUsed[channelId] = true;
        _slash(dutyId, d, "refuted-dispute");
    }

    /// @notice The digest an operator's signer signs for the block `blockHash` at `height`.
    function unsafeBlockDigest(uint64 height, bytes32 blockHash) public view returns (bytes32) {
        return keccak256(abi.encode(UNSAFE_BLOCK_DOMAIN, block.chainid, height, blockHash));
    }

    function _blockSigner(uint64 height, bytes32 blockHash, bytes calldata sig) internal view returns (address) {
        return _recover(unsafeBlockDigest(height, blockHash), sig);
    }

    /// A duty whose operator evidence may still be brought against: running, or ended less
    /// than `unbondDelay` ago with an operator not yet slashed.
    function _slashable(uint256 dutyId) internal view returns (Duty storage d) {
        d = _duties[dutyId];
        bool running = d.status == Status.Active || d.status == Status.Paused;
        bool recent = d.status == Status.Ended && d.activeSince != 0 && block.timestamp < d.endedAt + unbondDelay;
        if (!running && !recent) revert WrongStatus(d.status);
    }

    function _slash(uint256 dutyId, Duty storage d, bytes32 reason) internal {
        uint256 operatorAgentId = d.operatorAgentId;
        Bond storage b = bonds[operatorAgentId][d.kind];
        uint256 amount = d.minBond;
        if (d.status != Status.Ended) b.locked -= amount;
        uint256 fromBond = amount < b.amount ? amount : b.amount;
        b.amount -= fromBond;
        uint256 rest = amount - fromBond;
        uint256 fromUnbonding = rest < b.unbonding ? rest : b.unbonding;
        b.unbonding -= fromUnbonding;
        amount = fromBond + fromUnbonding;
        if (b.locked > b.amount) b.locked = b.amount;
        // A running duty is open for another operator (units not claimed are forfeit); an
        // ended one cannot be slashed again.
        if (d.status != Status.Ended) {
            d.status = Status.Open;
            d.nextUnit = 0;
        }
        d.operatorAgentId = 0;
        d.operatorSigner = address(0);
        d.activeSince = 0;
        uint256 share = amount * reporterBps / 10_000;
        emit Slashed(dutyId, operatorAgentId, reason, amount, msg.sender, share);
        if (share > 0) _send(address(0), msg.sender, share);
        if (amount - share > 0) _send(address(0), d.funder, amount - share);
    }

    // ------------------------------------------------------------------ plumbing

    /// The funder, or a valid session key of the funder agent whose counterparties include
    /// this board.
    function _funderOrManager(uint256 dutyId) internal view returns (Duty storage d) {
        d = _duties[dutyId];
        if (d.status == Status.None) revert WrongStatus(d.status);
        if (d.funder == msg.sender) return d;
        if (address(sessions) != address(0) && sessions.isValid(d.funderAgentId, msg.sender, address(this))) {
            return d;
        }
        revert NotOwner();
    }

    /// Takes `amount` from the caller; returns what arrived (a token that keeps a fee on
    /// transfer credits less: escrow never counts tokens the board does not hold).
    function _pull(address token, uint256 amount) internal returns (uint256) {
        if (token == address(0)) {
            if (msg.value != amount) revert BadDuty();
            return amount;
        }
        if (msg.value != 0) revert BadDuty();
        if (amount == 0) return 0;
        uint256 before = IERC20Duty(token).balanceOf(address(this));
        if (!IERC20Duty(token).transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
        return IERC20Duty(token).balanceOf(address(this)) - before;
    }

    function _send(address token, address to, uint256 amount) internal {
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert TransferFailed();
        } else if (!IERC20Duty(token).transfer(to, amount)) {
            revert TransferFailed();
        }
    }

    function _recover(bytes32 digest, bytes calldata sig) internal pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        // Low-s only (EIP-2): a signature has one form.
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
