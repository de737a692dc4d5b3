// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The Foundry cheatcodes the OP differential tests use.
interface VmOp {
    function readFile(string calldata) external view returns (string memory);
    function parseJsonBytes(string calldata, string calldata) external pure returns (bytes memory);
    function etch(address, bytes calldata) external;
    function prank(address) external;
    function deal(address, uint256) external;
    function load(address, bytes32) external view returns (bytes32);
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
    function record() external;
    function accesses(address) external returns (bytes32[] memory reads, bytes32[] memory writes);
    function snapshotState() external returns (uint256);
    function revertToState(uint256) external returns (bool);
    function toString(uint256) external pure returns (string memory);

    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }
}

/// @notice Base of the tests that run the OP Stack's own contracts (forge artifacts of the npm
///         package contracts-bedrock 0.17.3 by eth-optimism, installed by `make tools`) next to
///         agnt2's: `_etchOp` puts one's deployed bytecode at an address.
abstract contract OpArtifacts {
    VmOp constant vm = VmOp(address(uint160(uint256(keccak256("hevm cheat code")))));
    string constant ARTIFACTS = "../.tools/node_modules/@eth-optimism/contracts-bedrock/forge-artifacts/";

    function _etchOp(string memory name, address at) internal {
        string memory json = vm.readFile(string.concat(ARTIFACTS, name, ".sol/", name, ".json"));
        vm.etch(at, vm.parseJsonBytes(json, ".deployedBytecode.object"));
    }
}
