// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Test tokens shared by the test suites (kept out of any test file: a suite importing another
// suite's file would compile and run that suite a second time, under its own profile).

/// @notice A minimal ERC-20 for funding channels in tokens.
contract TestToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function mint(address to, uint256 v) external {
        balanceOf[to] += v;
    }

    function approve(address s, uint256 v) external returns (bool) {
        allowance[msg.sender][s] = v;
        return true;
    }

    function transfer(address to, uint256 v) external returns (bool) {
        balanceOf[msg.sender] -= v;
        balanceOf[to] += v;
        return true;
    }

    function transferFrom(address f, address to, uint256 v) external virtual returns (bool) {
        allowance[f][msg.sender] -= v;
        balanceOf[f] -= v;
        balanceOf[to] += v;
        return true;
    }
}

/// @notice A token that keeps 1% of every transfer (fee-on-transfer).
contract FeeToken is TestToken {
    function transferFrom(address f, address to, uint256 v) external override returns (bool) {
        allowance[f][msg.sender] -= v;
        balanceOf[f] -= v;
        balanceOf[to] += v - v / 100;
        return true;
    }
}
