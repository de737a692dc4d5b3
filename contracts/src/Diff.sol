// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Exercises plain-Ethereum behaviour for the differential test against anvil: storage,
///         logs, reverts (string and custom error), CREATE2, self-calls, return data.
contract Diff {
    uint256 public total;
    mapping(uint256 => bytes32) public notes;

    event Noted(uint256 indexed key, bytes32 value, address indexed by);
    event Spawned(address child, bytes32 salt);

    error Nope(uint256 code, string why);

    function note(uint256 key, bytes32 value) external returns (uint256) {
        notes[key] = value;
        total += key;
        emit Noted(key, value, msg.sender);
        return total;
    }

    function failString() external pure {
        revert("diff says no");
    }

    function failCustom(uint256 code) external pure {
        revert Nope(code, "custom");
    }

    function spawn(bytes32 salt) external returns (address child) {
        child = address(new Child{salt: salt}(salt));
        emit Spawned(child, salt);
    }

    function selfCall(uint256 key) external returns (uint256) {
        return this.note(key, keccak256(abi.encode(key)));
    }

    function hashLoop(uint256 rounds) external pure returns (bytes32 h) {
        for (uint256 i = 0; i < rounds; i++) {
            h = keccak256(abi.encode(h, i));
        }
    }
}

contract Child {
    bytes32 public immutable salt;

    constructor(bytes32 s) {
        salt = s;
    }
}
