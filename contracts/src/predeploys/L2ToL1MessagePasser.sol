// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title L2ToL1MessagePasser
/// @notice agnt2's withdrawal message passer at 0x4200000000000000000000000000000000000016, with
///         the OP Stack ABI, events and storage layout: `sentMessages` (slot 0) is what an L1
///         portal proves against the output root's message-passer storage root.
contract L2ToL1MessagePasser {
    /// @notice Version of the message encoding, in the top two bytes of `messageNonce()`.
    uint16 public constant MESSAGE_VERSION = 1;

    /// @notice Withdrawal hashes that were initiated here.
    mapping(bytes32 => bool) public sentMessages; // slot 0

    uint240 internal msgNonce; // slot 1

    event MessagePassed(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 withdrawalHash
    );

    event WithdrawerBalanceBurnt(uint256 indexed amount);

    receive() external payable {
        initiateWithdrawal(msg.sender, 100_000, bytes(""));
    }

    function version() external pure returns (string memory) {
        return "agnt2-1.0.0";
    }

    /// @notice Burns the ETH that withdrawals left in this contract (it was minted back on L1).
    function burn() external {
        uint256 balance = address(this).balance;
        new Burner{value: balance}();
        emit WithdrawerBalanceBurnt(balance);
    }

    /// @notice Sends a message to L1; it can be proven and relayed there after finalization.
    function initiateWithdrawal(address _target, uint256 _gasLimit, bytes memory _data) public payable {
        uint256 nonce = messageNonce();
        bytes32 withdrawalHash =
            keccak256(abi.encode(nonce, msg.sender, _target, msg.value, _gasLimit, _data));
        sentMessages[withdrawalHash] = true;
        emit MessagePassed(nonce, msg.sender, _target, msg.value, _gasLimit, _data, withdrawalHash);
        unchecked {
            ++msgNonce;
        }
    }

    /// @notice The next message nonce, with the message version in its top two bytes.
    function messageNonce() public view returns (uint256) {
        return (uint256(MESSAGE_VERSION) << 240) | uint256(msgNonce);
    }
}

/// @notice Destroys the value it is created with.
contract Burner {
    constructor() payable {
        selfdestruct(payable(address(this)));
    }
}
