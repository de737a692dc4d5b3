// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AGENT_STATE,
    IDENTITY,
    REPUTATION,
    CAPABILITIES,
    SESSIONS,
    INTERACTIONS,
    AgentStateTwin
} from "./AgentState.sol";
// Imported so that they are compiled wherever this file is: their artifacts are etched.
import {IdentityTwin} from "./IdentityTwin.sol";
import {ReputationTwin} from "./ReputationTwin.sol";
import {CapabilitiesTwin} from "./CapabilitiesTwin.sol";
import {SessionsTwin} from "./SessionsTwin.sol";
import {InteractionsTwin} from "./InteractionsTwin.sol";

/// @dev The cheatcodes the twins are installed with (no forge-std needed).
interface Agnt2Vm {
    function etch(address target, bytes calldata newRuntimeBytecode) external;
    function getDeployedCode(string calldata artifactPath) external view returns (bytes memory);
}

/// @title Agnt2Twins
/// @notice Puts the Solidity twins of agnt2's agent precompiles where Foundry's EVM finds
///         nothing runnable: at each precompile address whose code is empty or the one-byte
///         `0xfe` placeholder of older agnt2 genesis files, and `AgentStateTwin` at the
///         interaction trie's account (`0x…8000`) when it has no code. The account's storage is
///         kept, so against a fork of an agnt2 node the twins read the chain's agents. An agnt2
///         genesis holds the twins' code already (the node runs the precompiles, Foundry the
///         twins): nothing is etched there.
abstract contract Agnt2Twins {
    Agnt2Vm private constant AGNT2_VM = Agnt2Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice Installs the twins where needed (idempotent).
    function installAgnt2Twins() internal {
        if (AGENT_STATE.code.length == 0) {
            AGNT2_VM.etch(AGENT_STATE, AGNT2_VM.getDeployedCode("AgentState.sol:AgentStateTwin"));
        }
        _install(IDENTITY, "IdentityTwin.sol:IdentityTwin");
        _install(REPUTATION, "ReputationTwin.sol:ReputationTwin");
        _install(CAPABILITIES, "CapabilitiesTwin.sol:CapabilitiesTwin");
        _install(SESSIONS, "SessionsTwin.sol:SessionsTwin");
        _install(INTERACTIONS, "InteractionsTwin.sol:InteractionsTwin");
    }

    function _install(address precompile, string memory artifact) private {
        bytes memory code = precompile.code;
        if (code.length == 0 || (code.length == 1 && code[0] == 0xfe)) {
            AGNT2_VM.etch(precompile, AGNT2_VM.getDeployedCode(artifact));
        }
    }
}

/// @title Agnt2Test
/// @notice Base for `forge test` contracts that use agnt2's agent precompiles (with or without
///         `--fork-url`): the twins are installed before `setUp` runs. Combine it with
///         forge-std's `Test` if you use it (`contract T is Test, Agnt2Test`).
abstract contract Agnt2Test is Agnt2Twins {
    constructor() {
        installAgnt2Twins();
    }
}

/// @title Agnt2Script
/// @notice Base for `forge script` contracts that use agnt2's agent precompiles: the twins are
///         installed (where needed) before `run`, so the script's local execution does what the
///         node will. Broadcasting to an agnt2 node simulates against its genesis twins.
abstract contract Agnt2Script is Agnt2Twins {
    constructor() {
        installAgnt2Twins();
    }
}
