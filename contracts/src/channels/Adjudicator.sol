// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISessions} from "../interfaces/ISessions.sol";

/// @notice The two ERC-20 calls the adjudicator makes.
interface IERC20Min {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

/// @notice The record the adjudicator leaves when a channel between agents settles (agnt2 0x8009).
interface IInteractionRecord {
    function record(uint256 agentA, uint256 agentB, uint256 volume) external;
}

/// @notice What the adjudicator asks the agent precompiles (agnt2 0x8004 and 0x8008).
interface IAgentOwner {
    function ownerOf(uint256 agentId) external view returns (address);
}

/// @title Adjudicator
/// @notice Bilateral agent channels (ETH or one ERC-20 each) whose disputes the rollup decides.
///
/// A channel between `a` and `b` is identified by
/// `keccak256(abi.encode(chainid, adjudicator, a, b, token, nonce))`. Off-chain both parties
/// co-sign `State`s as EIP-712 typed data under the domain
/// `("agnt2-adjudicator", "1", chainid, adjudicator)`. A state carries what each side has sent
/// the other in total (`sentA`, `sentB`, never decreasing in an honest channel), so deposits
/// made at any time count: side A ends with `depositA + sentB - sentA`.
///
/// Exits: `close` with a co-signed final state pays out at once; otherwise anyone holding a
/// co-signed state `dispute`s with it, which starts the challenge window; during the window a
/// state with a higher version `refute`s it (the hub does so as a watchtower); `settle` after the
/// window fixes the outcome; each side `withdraw`s its share.
///
/// A signature counts for a participant when it is the participant's own, or that of a session
/// key admitted to that participant's side of the channel (`admit`). Admission pins, once, what
/// the Sessions precompile says at that moment (the key is a valid session of the participant's
/// agent, opened by the participant, for the other participant as counterparty); later closing
/// the session, letting it expire or selling the agent stops the key from being admitted
/// anywhere else but does not void what it already signed on this channel. What a key's
/// signature may move out of its side is capped (`Signer.cap`), and the caps of one key across
/// channels never exceed its session's spend limit.
contract Adjudicator {
    struct State {
        bytes32 channelId;
        uint64 version;
        uint256 sentA;
        uint256 sentB;
        bytes32 appData;
        bool isFinal;
    }

    enum Status {
        None,
        Open,
        Disputed,
        Settled
    }

    struct Channel {
        address a;
        address b;
        address token;
        uint48 challengeDuration;
        Status status;
        uint64 version;
        uint64 disputeEnd;
        uint256 agentA;
        uint256 agentB;
        uint256 depositA;
        uint256 depositB;
        uint256 sentA;
        uint256 sentB;
        uint256 owedA;
        uint256 owedB;
    }

    bytes32 public constant STATE_TYPEHASH =
        keccak256("State(bytes32 channelId,uint64 version,uint256 sentA,uint256 sentB,bytes32 appData,bool isFinal)");
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    address public constant IDENTITY = address(0x8004);
    /// @notice Where settled channels between agents are recorded (agnt2's Interactions precompile).
    address public constant INTERACTIONS = address(0x8009);
    address public constant SESSIONS = address(0x8008);
    uint48 public constant MAX_CHALLENGE_DURATION = 365 days;
    /// @notice What `agnt2 channel deploy` sets as the minimum by default: the OP Stack's
    ///         sequencing window (24 h, the longest a sequencer can keep a refute out by censoring
    ///         it before L1 forces it in) plus 12 h of margin.
    uint48 public constant DEFAULT_MIN_CHALLENGE_DURATION = 36 hours;
    /// @notice The shortest challenge window a channel may open with. A window a refute cannot
    ///         be sure to land in lets a payer dispute with an old state and settle before the
    ///         watchtower gets through.
    uint48 public immutable MIN_CHALLENGE_DURATION;
    /// @dev secp256k1n / 2: signatures with a higher s are malleable copies.
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice A session key admitted to one side of one channel.
    /// @param side 1 for A, 2 for B (0: not admitted).
    /// @param cap The most a state this key signs may leave its side short of its deposit
    ///        (`sentSide - sentOther`).
    struct Signer {
        uint8 side;
        uint248 cap;
    }

    mapping(bytes32 => Channel) internal channels;
    /// @notice Session keys admitted per channel.
    mapping(bytes32 => mapping(address => Signer)) public signers;
    /// Who started each channel's latest dispute (the caller of `dispute`).
    mapping(bytes32 => address) public disputedBy;
    /// Who started a dispute of the channel that was then refuted — with a state older than one
    /// both sides had signed: evidence a duty board slashes on.
    mapping(bytes32 => address) public refutedDisputer;
    /// @notice What the caps of a session key of an agent add up to over all channels.
    mapping(uint256 => mapping(address => uint256)) public reserved;

    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed a,
        address indexed b,
        address token,
        uint64 nonce,
        uint48 challengeDuration,
        uint256 agentA,
        uint256 agentB
    );
    event Deposited(bytes32 indexed channelId, address indexed participant, uint256 amount, uint256 deposit);
    event Disputed(bytes32 indexed channelId, uint64 version, uint64 disputeEnd, address indexed by);
    event Refuted(bytes32 indexed channelId, uint64 version, address indexed by);
    event Concluded(bytes32 indexed channelId, uint64 version, uint256 balanceA, uint256 balanceB, bool cooperative);
    event Withdrawn(bytes32 indexed channelId, address indexed participant, address to, uint256 amount);
    event SignerAdmitted(bytes32 indexed channelId, address indexed key, uint8 side, uint256 cap);

    error ChannelExists(bytes32 channelId);
    error UnknownChannel(bytes32 channelId);
    error BadParticipants();
    error BadChallengeDuration(uint48 duration);
    error NotParticipant(address caller);
    error WrongStatus(Status status);
    error WrongValue(uint256 expected, uint256 got);
    error WrongChannel(bytes32 expected, bytes32 got);
    error NotFinal();
    error StaleVersion(uint64 recorded, uint64 got);
    error WindowOpen(uint64 disputeEnd);
    error WindowClosed(uint64 disputeEnd);
    error BadSignature(address participant);
    error TransferFailed();
    error NothingOwed();
    error SignerExists(address key);
    error NotSessionKey(address key);
    error CapTooHigh(uint256 cap, uint256 available);

    /// @param minChallengeDuration The shortest challenge window a channel may open with (see
    ///        DEFAULT_MIN_CHALLENGE_DURATION; a devnet may use seconds).
    constructor(uint48 minChallengeDuration) {
        if (minChallengeDuration == 0 || minChallengeDuration > MAX_CHALLENGE_DURATION) {
            revert BadChallengeDuration(minChallengeDuration);
        }
        MIN_CHALLENGE_DURATION = minChallengeDuration;
    }

    /// @notice The id a channel with these parameters has on this chain and adjudicator.
    function channelId(address a, address b, address token, uint64 nonce) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), a, b, token, nonce));
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("agnt2-adjudicator"), keccak256("1"), block.chainid, address(this))
        );
    }

    /// @notice The EIP-712 digest both parties sign for `s`.
    function stateDigest(State calldata s) public view returns (bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(STATE_TYPEHASH, s.channelId, s.version, s.sentA, s.sentB, s.appData, s.isFinal));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function getChannel(bytes32 id) external view returns (Channel memory) {
        return channels[id];
    }

    /// @notice Opens a channel from the caller (side A) to `b`, funding A's side with `amount`
    ///         (ETH: `msg.value == amount`; ERC-20: approved beforehand). `agentA`/`agentB` name
    ///         the participants' agents whose session keys may be admitted (0: none).
    function open(
        address b,
        address token,
        uint64 nonce,
        uint48 challengeDuration,
        uint256 agentA,
        uint256 agentB,
        uint256 amount
    ) external payable returns (bytes32 id) {
        if (b == address(0) || b == msg.sender) revert BadParticipants();
        if (challengeDuration < MIN_CHALLENGE_DURATION || challengeDuration > MAX_CHALLENGE_DURATION) {
            revert BadChallengeDuration(challengeDuration);
        }
        id = channelId(msg.sender, b, token, nonce);
        Channel storage c = channels[id];
        if (c.status != Status.None) revert ChannelExists(id);
        c.a = msg.sender;
        c.b = b;
        c.token = token;
        c.challengeDuration = challengeDuration;
        c.status = Status.Open;
        c.agentA = agentA;
        c.agentB = agentB;
        emit ChannelOpened(id, msg.sender, b, token, nonce, challengeDuration, agentA, agentB);
        _fund(c, id, msg.sender, amount);
    }

    /// @notice Adds `amount` to `participant`'s side of an open channel; anyone may fund.
    function deposit(bytes32 id, address participant, uint256 amount) external payable {
        Channel storage c = _channel(id);
        if (c.status != Status.Open) revert WrongStatus(c.status);
        if (participant != c.a && participant != c.b) revert NotParticipant(participant);
        _fund(c, id, participant, amount);
    }

    /// @notice Admits `key` to sign for the side whose agent it is a valid session key of (for the
    ///         other participant as counterparty), with signatures that may leave that side at
    ///         most `cap` short of its deposit. Anyone may admit a key with cap 0 (it only pins
    ///         what the agent's owner already allowed; a receiving side needs no more); a
    ///         positive cap draws on the session's spend limit, so only the participant or the
    ///         key itself may ask for one.
    function admit(bytes32 id, address key, uint256 cap) external {
        Channel storage c = _channel(id);
        if (c.status != Status.Open && c.status != Status.Disputed) revert WrongStatus(c.status);
        if (signers[id][key].side != 0) revert SignerExists(key);
        if (key == address(0) || key == c.a || key == c.b) revert NotSessionKey(key);
        uint8 side;
        address participant;
        uint256 agentId;
        if (_sessionOf(c.a, c.agentA, key, c.b)) {
            (side, participant, agentId) = (1, c.a, c.agentA);
        } else if (_sessionOf(c.b, c.agentB, key, c.a)) {
            (side, participant, agentId) = (2, c.b, c.agentB);
        } else {
            revert NotSessionKey(key);
        }
        if (cap != 0) {
            if (msg.sender != participant && msg.sender != key) revert NotParticipant(msg.sender);
            (bool ok, bytes memory ret) = SESSIONS.staticcall(abi.encodeCall(ISessions.get, (agentId, key)));
            if (!ok) revert NotSessionKey(key);
            ISessions.Session memory session = abi.decode(ret, (ISessions.Session));
            uint256 used = session.spent + reserved[agentId][key];
            uint256 available = session.spendLimit > used ? session.spendLimit - used : 0;
            if (available > type(uint248).max) available = type(uint248).max;
            if (cap > available) revert CapTooHigh(cap, available);
            reserved[agentId][key] += cap;
        }
        signers[id][key] = Signer(side, uint248(cap));
        emit SignerAdmitted(id, key, side, cap);
    }

    /// @notice Cooperative close: a co-signed final state pays out at once (also during a dispute).
    function close(State calldata s, bytes calldata sigA, bytes calldata sigB) external {
        Channel storage c = _channel(s.channelId);
        if (c.status != Status.Open && c.status != Status.Disputed) revert WrongStatus(c.status);
        if (!s.isFinal) revert NotFinal();
        if (s.version < c.version) revert StaleVersion(c.version, s.version);
        _checkSignatures(c, s, sigA, sigB);
        _record(c, s);
        _conclude(c, s.channelId, true);
    }

    /// @notice Starts the challenge window with a co-signed state. A participant may dispute with
    ///         the opening state (version 0, nothing sent, no app data) without signatures.
    function dispute(State calldata s, bytes calldata sigA, bytes calldata sigB) external {
        Channel storage c = _channel(s.channelId);
        if (c.status != Status.Open) revert WrongStatus(c.status);
        if (s.version < c.version) revert StaleVersion(c.version, s.version);
        bool opening = s.version == 0 && s.sentA == 0 && s.sentB == 0 && s.appData == bytes32(0) && sigA.length == 0
            && sigB.length == 0;
        if (opening) {
            if (msg.sender != c.a && msg.sender != c.b) revert NotParticipant(msg.sender);
        } else {
            _checkSignatures(c, s, sigA, sigB);
        }
        _record(c, s);
        c.status = Status.Disputed;
        c.disputeEnd = uint64(block.timestamp) + c.challengeDuration;
        disputedBy[s.channelId] = msg.sender;
        emit Disputed(s.channelId, s.version, c.disputeEnd, msg.sender);
    }

    /// @notice Replaces the disputed state with a co-signed one of a higher version, within the
    ///         window. Anyone may refute (a watchtower holds the participants' states).
    function refute(State calldata s, bytes calldata sigA, bytes calldata sigB) external {
        Channel storage c = _channel(s.channelId);
        if (c.status != Status.Disputed) revert WrongStatus(c.status);
        if (block.timestamp >= c.disputeEnd) revert WindowClosed(c.disputeEnd);
        if (s.version <= c.version) revert StaleVersion(c.version, s.version);
        _checkSignatures(c, s, sigA, sigB);
        _record(c, s);
        refutedDisputer[s.channelId] = disputedBy[s.channelId];
        emit Refuted(s.channelId, s.version, msg.sender);
    }

    /// @notice Fixes the outcome of a dispute once its window has passed.
    function settle(bytes32 id) external {
        Channel storage c = _channel(id);
        if (c.status != Status.Disputed) revert WrongStatus(c.status);
        if (block.timestamp < c.disputeEnd) revert WindowOpen(c.disputeEnd);
        _conclude(c, id, false);
    }

    /// @notice Pays the caller's share of a concluded channel to `to`.
    function withdraw(bytes32 id, address to) external {
        Channel storage c = _channel(id);
        if (c.status != Status.Settled) revert WrongStatus(c.status);
        uint256 amount;
        if (msg.sender == c.a) {
            amount = c.owedA;
            c.owedA = 0;
        } else if (msg.sender == c.b) {
            amount = c.owedB;
            c.owedB = 0;
        } else {
            revert NotParticipant(msg.sender);
        }
        if (amount == 0) revert NothingOwed();
        emit Withdrawn(id, msg.sender, to, amount);
        _pay(c.token, to, amount);
    }

    function _channel(bytes32 id) private view returns (Channel storage c) {
        c = channels[id];
        if (c.status == Status.None) revert UnknownChannel(id);
    }

    /// @dev Credits what arrived: for an ERC-20 the adjudicator's balance change, so a token that
    ///      takes a fee on transfer (or otherwise delivers less) cannot make it owe more than it
    ///      holds.
    function _fund(Channel storage c, bytes32 id, address participant, uint256 amount) private {
        if (c.token == address(0)) {
            if (msg.value != amount) revert WrongValue(amount, msg.value);
        } else {
            if (msg.value != 0) revert WrongValue(0, msg.value);
            if (amount != 0) {
                IERC20Min token = IERC20Min(c.token);
                uint256 before = token.balanceOf(address(this));
                if (!token.transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
                uint256 afterwards = token.balanceOf(address(this));
                amount = afterwards > before ? afterwards - before : 0;
            }
        }
        uint256 total;
        if (participant == c.a) {
            total = c.depositA += amount;
        } else {
            total = c.depositB += amount;
        }
        emit Deposited(id, participant, amount, total);
    }

    function _record(Channel storage c, State calldata s) private {
        c.version = s.version;
        c.sentA = s.sentA;
        c.sentB = s.sentB;
    }

    function _conclude(Channel storage c, bytes32 id, bool cooperative) private {
        uint256 total = c.depositA + c.depositB;
        // A ends with depositA + sentB - sentA, kept within [0, total]; B gets the rest.
        uint256 credit = c.depositA + c.sentB;
        uint256 balanceA = credit > c.sentA ? credit - c.sentA : 0;
        if (balanceA > total) balanceA = total;
        uint256 balanceB = total - balanceA;
        c.owedA = balanceA;
        c.owedB = balanceB;
        c.status = Status.Settled;
        emit Concluded(id, c.version, balanceA, balanceB, cooperative);
        _recordInteraction(c);
    }

    /// @dev Records the settled channel in the interaction trie for the agents the participants
    ///      own (an agent id a participant does not own counts as 0), with the volume both sides
    ///      sent. Nothing for a channel that never moved past its opening state. Best effort and
    ///      gas-capped: a chain without the precompile does not block settlement.
    function _recordInteraction(Channel storage c) private {
        if (c.version == 0) return;
        uint256 agentA = _owns(c.a, c.agentA) ? c.agentA : 0;
        uint256 agentB = _owns(c.b, c.agentB) ? c.agentB : 0;
        if (agentA == 0 && agentB == 0) return;
        // What both sides sent, at most what the channel holds: a channel without deposits moves
        // nothing, however large the co-signed totals between one's own addresses.
        uint256 volume;
        unchecked {
            volume = c.sentA + c.sentB;
        }
        if (volume < c.sentA) volume = type(uint256).max;
        uint256 held = c.depositA + c.depositB;
        if (volume > held) volume = held;
        (bool ok,) = INTERACTIONS.call{gas: 200_000}(
            abi.encodeCall(IInteractionRecord.record, (agentA, agentB, volume))
        );
        ok;
    }

    function _owns(address participant, uint256 agentId) private view returns (bool) {
        if (agentId == 0) return false;
        (bool ok, bytes memory ret) = IDENTITY.staticcall(abi.encodeCall(IAgentOwner.ownerOf, (agentId)));
        return ok && ret.length == 32 && abi.decode(ret, (address)) == participant;
    }

    function _checkSignatures(Channel storage c, State calldata s, bytes calldata sigA, bytes calldata sigB)
        private
        view
    {
        bytes32 digest = stateDigest(s);
        uint256 outA = s.sentA > s.sentB ? s.sentA - s.sentB : 0;
        uint256 outB = s.sentB > s.sentA ? s.sentB - s.sentA : 0;
        if (!_signedBy(s.channelId, digest, sigA, c.a, 1, outA)) revert BadSignature(c.a);
        if (!_signedBy(s.channelId, digest, sigB, c.b, 2, outB)) revert BadSignature(c.b);
    }

    /// @dev The participant's own signature, or an admitted key's within its cap.
    function _signedBy(bytes32 id, bytes32 digest, bytes calldata sig, address participant, uint8 side, uint256 out)
        private
        view
        returns (bool)
    {
        address signer = _recover(digest, sig);
        if (signer == address(0)) return false;
        if (signer == participant) return true;
        Signer memory k = signers[id][signer];
        return k.side == side && out <= k.cap;
    }

    /// @dev Whether `key` is, now, a valid session key of `agentId` owned by `participant`, for
    ///      `other` as counterparty.
    function _sessionOf(address participant, uint256 agentId, address key, address other)
        private
        view
        returns (bool)
    {
        if (!_owns(participant, agentId)) return false;
        (bool ok, bytes memory ret) =
            SESSIONS.staticcall(abi.encodeCall(ISessions.isValid, (agentId, key, other)));
        return ok && ret.length == 32 && abi.decode(ret, (bool));
    }

    /// @dev 65-byte r ‖ s ‖ v, v in {27, 28} (or {0, 1}), low s; zero address when invalid.
    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27) v += 27;
        if ((v != 27 && v != 28) || uint256(s) > HALF_N) return address(0);
        return ecrecover(digest, v, r, s);
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert TransferFailed();
        } else if (!IERC20Min(token).transfer(to, amount)) {
            revert TransferFailed();
        }
    }
}
