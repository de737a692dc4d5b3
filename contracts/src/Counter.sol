// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A small contract the end-to-end tests deploy and drive with Foundry.
contract Counter {
    uint256 public number;
    mapping(address => uint256) public bumps;

    event Bumped(address indexed by, uint256 newNumber);

    error TooLarge(uint256 value);

    constructor(uint256 start) {
        number = start;
    }

    function increment() external {
        number += 1;
        bumps[msg.sender] += 1;
        emit Bumped(msg.sender, number);
    }

    function setNumber(uint256 value) external {
        if (value > 1_000_000) revert TooLarge(value);
        number = value;
        emit Bumped(msg.sender, value);
    }

    function fail() external pure {
        revert("counter says no");
    }
}
