// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice What the messenger needs of the withdrawal message passer (0x…16).
interface IMessagePasser {
    function initiateWithdrawal(address target, uint256 gasLimit, bytes memory data) external payable;
}

/// @title L2CrossDomainMessenger
/// @notice agnt2's messenger predeploy at 0x4200000000000000000000000000000000000007, with the OP
///         Stack ABI, events, revert reasons and storage layout, so that OP's L1CrossDomainMessenger
///         relays what it sends and sends what it relays:
///         - L2 → L1: `sendMessage` wraps the message in `relayMessage(...)` calldata for the L1
///           messenger and passes it to the L2ToL1MessagePasser with the OP gas formula;
///         - L1 → L2: the L1 messenger's deposits arrive from its aliased address and call
///           `relayMessage`, which calls the target with `xDomainMessageSender()` set; a message
///           that fails (or lacks gas) is recorded and may be replayed by anyone.
///         Agnt2 has no custom gas token: value always moves as ETH.
contract L2CrossDomainMessenger {
    uint16 public constant MESSAGE_VERSION = 1;
    uint64 public constant RELAY_CONSTANT_OVERHEAD = 200_000;
    uint64 public constant MIN_GAS_DYNAMIC_OVERHEAD_NUMERATOR = 64;
    uint64 public constant MIN_GAS_DYNAMIC_OVERHEAD_DENOMINATOR = 63;
    uint64 public constant MIN_GAS_CALLDATA_OVERHEAD = 16;
    uint64 public constant RELAY_CALL_OVERHEAD = 40_000;
    uint64 public constant RELAY_RESERVED_GAS = 40_000;
    uint64 public constant RELAY_GAS_CHECK_BUFFER = 5_000;

    string public constant version = "2.1.0";

    address internal constant MESSAGE_PASSER = 0x4200000000000000000000000000000000000016;
    /// @notice `xDomainMsgSender` outside of a relay.
    address internal constant DEFAULT_L2_SENDER = 0x000000000000000000000000000000000000dEaD;
    /// @notice `tx.origin` of gas estimation: a failed relay reverts so that estimates are right.
    address internal constant ESTIMATION_ADDRESS = address(1);
    uint160 internal constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);

    // Storage, slot by slot as in OP's layout (legacy spacers included).
    address private spacer_0_0_20; // slot 0, bytes 0..20
    uint8 private initialized; // slot 0, byte 20
    bool private initializing; // slot 0, byte 21
    uint256[202] private spacer_1_202; // slots 1..202 (legacy)
    /// @notice Hashes of the messages relayed successfully.
    mapping(bytes32 => bool) public successfulMessages; // slot 203
    address internal xDomainMsgSender; // slot 204
    uint240 internal msgNonce; // slot 205
    /// @notice Hashes of the messages whose relay failed (replayable).
    mapping(bytes32 => bool) public failedMessages; // slot 206
    /// @notice The L1CrossDomainMessenger.
    address public otherMessenger; // slot 207
    uint256[43] private __gap; // slots 208..250

    event SentMessage(address indexed target, address sender, bytes message, uint256 messageNonce, uint256 gasLimit);
    event SentMessageExtension1(address indexed sender, uint256 value);
    event RelayedMessage(bytes32 indexed msgHash);
    event FailedRelayedMessage(bytes32 indexed msgHash);
    event Initialized(uint8 version);

    /// @notice Sets the L1 messenger, once (genesis does it on agnt2; OP's proxies call it).
    function initialize(address _l1CrossDomainMessenger) external {
        require(initialized == 0, "Initializable: contract is already initialized");
        initialized = 1;
        if (xDomainMsgSender == address(0)) xDomainMsgSender = DEFAULT_L2_SENDER;
        otherMessenger = _l1CrossDomainMessenger;
        emit Initialized(1);
    }

    /// @notice Sends a message to `_target` on L1, relayed there after the withdrawal is proven
    ///         and finalized; `_minGasLimit` is what the target gets at least.
    function sendMessage(address _target, bytes calldata _message, uint32 _minGasLimit) external payable {
        uint256 nonce = messageNonce();
        bytes memory relay =
            abi.encodeCall(this.relayMessage, (nonce, msg.sender, _target, msg.value, _minGasLimit, _message));
        IMessagePasser(MESSAGE_PASSER).initiateWithdrawal{value: msg.value}(
            otherMessenger, baseGas(_message, _minGasLimit), relay
        );
        emit SentMessage(_target, msg.sender, _message, nonce, _minGasLimit);
        emit SentMessageExtension1(msg.sender, msg.value);
        unchecked {
            ++msgNonce;
        }
    }

    /// @notice Delivers a message from L1: called by the aliased L1 messenger (a deposit), or by
    ///         anyone to replay a message whose first delivery failed.
    function relayMessage(
        uint256 _nonce,
        address _sender,
        address _target,
        uint256 _value,
        uint256 _minGasLimit,
        bytes calldata _message
    ) external payable {
        uint16 messageVersion = uint16(_nonce >> 240);
        require(
            messageVersion < 2, "CrossDomainMessenger: only version 0 or 1 messages are supported at this time"
        );
        if (messageVersion == 0) {
            bytes32 legacy = keccak256(abi.encodeWithSignature(
                "relayMessage(address,address,bytes,uint256)", _target, _sender, _message, _nonce
            ));
            require(!successfulMessages[legacy], "CrossDomainMessenger: legacy withdrawal already relayed");
        }
        bytes32 hash = keccak256(abi.encodeCall(
            this.relayMessage, (_nonce, _sender, _target, _value, _minGasLimit, _message)
        ));

        if (_fromOtherMessenger()) {
            // The L1 messenger never sends a mismatching value or a known failure.
            assert(msg.value == _value);
            assert(!failedMessages[hash]);
        } else {
            require(msg.value == 0, "CrossDomainMessenger: value must be zero unless message is from a system address");
            require(failedMessages[hash], "CrossDomainMessenger: message cannot be replayed");
        }
        require(
            _target != address(this) && _target != MESSAGE_PASSER,
            "CrossDomainMessenger: cannot send message to blocked system address"
        );
        require(!successfulMessages[hash], "CrossDomainMessenger: message has already been relayed");

        // Not enough gas for the target, or re-entered during a relay: record it as failed.
        if (!_hasMinGas(_minGasLimit, RELAY_RESERVED_GAS + RELAY_GAS_CHECK_BUFFER) || xDomainMsgSender != DEFAULT_L2_SENDER) {
            _failed(hash);
            return;
        }

        xDomainMsgSender = _sender;
        bool ok = _call(_target, gasleft() - RELAY_RESERVED_GAS, _value, _message);
        xDomainMsgSender = DEFAULT_L2_SENDER;
        if (ok) {
            successfulMessages[hash] = true;
            emit RelayedMessage(hash);
        } else {
            _failed(hash);
        }
    }

    /// @notice The L1 sender of the message being relayed; reverts outside of a relay.
    function xDomainMessageSender() external view returns (address) {
        require(xDomainMsgSender != DEFAULT_L2_SENDER, "CrossDomainMessenger: xDomainMessageSender is not set");
        return xDomainMsgSender;
    }

    /// @notice Legacy getter of the L1 messenger.
    function l1CrossDomainMessenger() external view returns (address) {
        return otherMessenger;
    }

    function OTHER_MESSENGER() external view returns (address) {
        return otherMessenger;
    }

    function paused() external pure returns (bool) {
        return false;
    }

    /// @notice The next message's nonce, with the message version in its top two bytes.
    function messageNonce() public view returns (uint256) {
        return (uint256(MESSAGE_VERSION) << 240) | uint256(msgNonce);
    }

    /// @notice The gas limit given to the message on the other side for a target to get
    ///         `_minGasLimit` (OP's formula: relay overheads, calldata, and 64/63 for EIP-150).
    function baseGas(bytes calldata _message, uint32 _minGasLimit) public pure returns (uint64) {
        return RELAY_CONSTANT_OVERHEAD + (uint64(_message.length) * MIN_GAS_CALLDATA_OVERHEAD)
            + ((_minGasLimit * MIN_GAS_DYNAMIC_OVERHEAD_NUMERATOR) / MIN_GAS_DYNAMIC_OVERHEAD_DENOMINATOR)
            + RELAY_CALL_OVERHEAD + RELAY_RESERVED_GAS + RELAY_GAS_CHECK_BUFFER;
    }

    function _fromOtherMessenger() internal view returns (bool) {
        unchecked {
            return address(uint160(msg.sender) - ALIAS_OFFSET) == otherMessenger;
        }
    }

    function _failed(bytes32 hash) internal {
        failedMessages[hash] = true;
        emit FailedRelayedMessage(hash);
        if (tx.origin == ESTIMATION_ADDRESS) revert("CrossDomainMessenger: failed to relay message");
    }

    /// @dev True when, after the 1/64 kept back by CALL and `_reserved` for the caller, at least
    ///      `_minGas` would reach the callee (plus 40,000 for the call's own worst-case cost).
    function _hasMinGas(uint256 _minGas, uint256 _reserved) internal view returns (bool ok) {
        assembly {
            ok := iszero(lt(mul(gas(), 63), add(mul(_minGas, 64), mul(add(40000, _reserved), 63))))
        }
    }

    /// @dev A call that does not copy return data (a target cannot grief the relay with it).
    function _call(address _target, uint256 _gas, uint256 _value, bytes memory _data) internal returns (bool ok) {
        assembly {
            ok := call(_gas, _target, _value, add(_data, 32), mload(_data), 0, 0)
        }
    }
}
