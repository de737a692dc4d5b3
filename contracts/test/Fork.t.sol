// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Counter} from "../src/Counter.sol";

interface VmFork {
    function envOr(string calldata name, address defaultValue) external view returns (address);
}

interface IIdentityView {
    function ownerOf(uint256) external view returns (address);
    function tokenURI(uint256) external view returns (string memory);
    function register(string calldata) external returns (uint256);
    function totalAgents() external view returns (uint256);
}

interface IL1BlockView {
    function number() external view returns (uint64);
    function basefee() external view returns (uint256);
}

interface IGasPriceOracleView {
    function decimals() external view returns (uint256);
    function getL1Fee(bytes memory) external view returns (uint256);
}

/// @notice Runs against a fork of an agnt2 devnet (`forge test --fork-url`, driven by the e2e
///         tests with COUNTER set to a deployed Counter). Without a fork of chain 80042 it
///         does nothing.
contract ForkTest {
    VmFork constant vm = VmFork(address(uint160(uint256(keccak256("hevm cheat code")))));

    function test_fork_reads_and_writes_devnet_state() public {
        if (block.chainid != 80042) return;
        // Predeploys, read through the fork (eth_getCode, eth_getStorageAt).
        require(IL1BlockView(0x4200000000000000000000000000000000000015).number() > 0, "L1 info set");
        require(IL1BlockView(0x4200000000000000000000000000000000000015).basefee() == 1 gwei, "L1 base fee");
        require(IGasPriceOracleView(0x420000000000000000000000000000000000000F).decimals() == 6, "GPO");
        require(IGasPriceOracleView(0x420000000000000000000000000000000000000F).getL1Fee(hex"01") > 0, "L1 fee");
        // A dev account's balance (eth_getBalance).
        require(address(0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266).balance > 1 ether, "dev balance");
        // A contract deployed on the devnet before the fork: read, then change it in the fork.
        Counter c = Counter(vm.envOr("COUNTER", address(0)));
        require(address(c).code.length > 0, "counter deployed");
        uint256 before = c.number();
        require(before == 5, "counter state from the devnet");
        c.increment();
        require(c.number() == before + 1, "fork writes");
    }

    /// The agent precompiles on a fork: the genesis holds their Solidity twins, which read the
    /// devnet's interaction trie through the fork (an agent registered on the devnet before the
    /// fork) and write the fork's copy.
    function test_fork_reads_and_writes_agents_through_the_genesis_twins() public {
        if (block.chainid != 80042) return;
        IIdentityView id = IIdentityView(0x0000000000000000000000000000000000008004);
        require(id.ownerOf(1) == 0x90F79bf6EB2c4f870365E785982E1f101E93b906, "owner from the devnet");
        require(keccak256(bytes(id.tokenURI(1))) == keccak256("ipfs://forked"), "uri from the devnet");
        require(id.register("ipfs://in-the-fork") == 2, "registered in the fork");
        require(id.totalAgents() == 2, "two agents in the fork");
    }
}
