// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OpArtifacts, VmOp} from "./OpArtifacts.sol";
import {L1Block} from "../src/predeploys/L1Block.sol";
import {L2ToL1MessagePasser} from "../src/predeploys/L2ToL1MessagePasser.sol";
import {L2CrossDomainMessenger} from "../src/predeploys/L2CrossDomainMessenger.sol";
import {L2StandardBridge} from "../src/predeploys/L2StandardBridge.sol";

/// @notice A relay target that fails until switched on and remembers who sent it what.
contract Target {
    bool public on;
    address public lastSender;
    uint256 public lastValue;

    function set(bool _on) external {
        on = _on;
    }

    function hit(uint256 x) external payable {
        require(on, "target off");
        lastSender = L2CrossDomainMessenger(0x4200000000000000000000000000000000000007).xDomainMessageSender();
        lastValue = msg.value + x;
    }
}

/// @notice A plain ERC-20 (escrowed by the bridge).
contract PlainToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function give(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        allowance[from][msg.sender] -= amount;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        return true;
    }
}

/// @notice An OP mintable ERC-20 (ERC-165 ids of both mintable interfaces) minted by the bridge.
contract MintableToken {
    address public immutable remoteToken;
    address public constant bridge = 0x4200000000000000000000000000000000000010;
    mapping(address => uint256) public balanceOf;

    constructor(address _remote) {
        remoteToken = _remote;
    }

    function l1Token() external view returns (address) {
        return remoteToken;
    }

    function supportsInterface(bytes4 id) external pure returns (bool) {
        return id == 0x01ffc9a7 || id == 0x1d1d8b63 || id == 0xec4fc8e3;
    }

    function mint(address to, uint256 amount) external {
        require(msg.sender == bridge, "only bridge");
        balanceOf[to] += amount;
    }

    function burn(address from, uint256 amount) external {
        require(msg.sender == bridge, "only bridge");
        balanceOf[from] -= amount;
    }
}

/// @notice agnt2's L2CrossDomainMessenger and L2StandardBridge against the OP Stack's own (forge
///         artifacts of npm contracts-bedrock 0.17.3): one scenario — sends, withdrawals, relays
///         of deposits, failed relays and replays, refusals, mintable and escrowed ERC-20s — runs
///         once on OP's bytecode and once on agnt2's at the predeploy addresses; every step's
///         success, return or revert data and events, every written storage slot and the balances
///         must be the same.
contract OpBridgeDifferentialTest is OpArtifacts {

    address constant MESSENGER = 0x4200000000000000000000000000000000000007;
    address payable constant BRIDGE = payable(0x4200000000000000000000000000000000000010);
    address constant L1_BLOCK = 0x4200000000000000000000000000000000000015;
    address constant PASSER = 0x4200000000000000000000000000000000000016;
    address constant ETH_TOKEN = 0xDeadDeAddeAddEAddeadDEaDDEAdDeaDDeAD0000;
    address constant L1_MESSENGER = 0x5086d1eEF304eb5284A0f6720f79403b4e9bE294;
    address constant L1_BRIDGE = 0x1E2F4D3c0B6A5E7d8c9b0A1f2e3D4c5B6A7f8E9D;
    address constant USER = address(0xA11CE);
    address constant RECIPIENT = address(0xB0B);
    address constant STRANGER = address(0x5757);
    uint256 constant V1 = uint256(1) << 240;

    struct Slot {
        address at;
        bytes32 slot;
        bytes32 value;
    }

    Target target;
    PlainToken plain;
    MintableToken mintable;
    bytes32[] steps;
    Slot[] written;

    function _alias(address a) internal pure returns (address) {
        unchecked {
            return address(uint160(a) + uint160(0x1111000000000000000000000000000000001111));
        }
    }

    /// @dev One step: who calls, with what value and gas; its outcome and events become a digest.
    function _step(address from, address to, uint256 value, uint256 gas, bytes memory data) internal {
        vm.deal(from, from.balance + value);
        vm.recordLogs();
        vm.prank(from);
        (bool ok, bytes memory ret) = to.call{value: value, gas: gas}(data);
        VmOp.Log[] memory logs = vm.getRecordedLogs();
        steps.push(keccak256(abi.encode(ok, ret, logs)));
    }

    function _relay(address from, uint256 nonce, address sender, address to, uint256 value, uint256 minGas, bytes memory message)
        internal
    {
        _step(from, MESSENGER, from == _alias(L1_MESSENGER) ? value : 0, 5_000_000, abi.encodeCall(
            L2CrossDomainMessenger.relayMessage, (nonce, sender, to, value, minGas, message)
        ));
    }

    function _view(address to, bytes memory data) internal {
        _step(STRANGER, to, 0, 1_000_000, data);
    }

    function _scenario() internal {
        vm.record();
        target = new Target();
        plain = new PlainToken();
        mintable = new MintableToken(address(0x11111));
        vm.etch(L1_BLOCK, address(new L1Block()).code);
        vm.etch(PASSER, address(new L2ToL1MessagePasser()).code);
        vm.record();

        _step(STRANGER, MESSENGER, 0, 1_000_000, abi.encodeCall(L2CrossDomainMessenger.initialize, (L1_MESSENGER)));
        _step(STRANGER, BRIDGE, 0, 1_000_000, abi.encodeCall(L2StandardBridge.initialize, (L1_BRIDGE)));
        _step(STRANGER, MESSENGER, 0, 1_000_000, abi.encodeCall(L2CrossDomainMessenger.initialize, (STRANGER)));
        _step(STRANGER, BRIDGE, 0, 1_000_000, abi.encodeCall(L2StandardBridge.initialize, (STRANGER)));

        // L2 → L1: ETH through the bridge in every form, and a direct message.
        _step(USER, BRIDGE, 1 ether, 1_000_000, abi.encodeCall(L2StandardBridge.bridgeETH, (200_000, "hi")));
        _step(USER, BRIDGE, 2, 1_000_000, abi.encodeCall(L2StandardBridge.bridgeETHTo, (RECIPIENT, 100_000, "")));
        _step(USER, BRIDGE, 3, 1_000_000, abi.encodeCall(L2StandardBridge.withdraw, (ETH_TOKEN, 3, 100_000, "")));
        _step(USER, BRIDGE, 4, 1_000_000, abi.encodeCall(L2StandardBridge.withdrawTo, (ETH_TOKEN, RECIPIENT, 4, 1, "x")));
        _step(USER, BRIDGE, 5, 1_000_000, "");
        _step(USER, BRIDGE, 6, 1_000_000, abi.encodeCall(L2StandardBridge.withdraw, (ETH_TOKEN, 7, 100_000, "")));
        _step(address(target), BRIDGE, 1, 1_000_000, abi.encodeCall(L2StandardBridge.bridgeETH, (1, "")));
        _step(USER, MESSENGER, 9, 1_000_000, abi.encodeCall(
            L2CrossDomainMessenger.sendMessage, (address(target), abi.encodeCall(Target.hit, (1)), 50_000)
        ));

        // L1 → L2: a bridge deposit relayed from the aliased L1 messenger, then replayed.
        bytes memory fin = abi.encodeCall(L2StandardBridge.finalizeBridgeETH, (USER, RECIPIENT, 7, "x"));
        _relay(_alias(L1_MESSENGER), V1, L1_BRIDGE, BRIDGE, 7, 100_000, fin);
        _relay(_alias(L1_MESSENGER), V1, L1_BRIDGE, BRIDGE, 7, 100_000, fin);
        _relay(STRANGER, V1, L1_BRIDGE, BRIDGE, 7, 100_000, fin);
        // Only the L1 bridge may finalize: a stranger directly, or another L1 sender through the messenger.
        _step(STRANGER, BRIDGE, 7, 1_000_000, fin);
        _relay(_alias(L1_MESSENGER), V1 + 1, STRANGER, BRIDGE, 7, 100_000, fin);
        _relay(_alias(L1_MESSENGER), V1 + 2, L1_BRIDGE, BRIDGE, 8, 100_000, fin);

        // A failing target: recorded, replayed while still failing, then replayed successfully.
        bytes memory hit = abi.encodeCall(Target.hit, (5));
        _relay(_alias(L1_MESSENGER), V1 + 3, USER, address(target), 11, 100_000, hit);
        _relay(STRANGER, V1 + 3, USER, address(target), 11, 100_000, hit);
        _step(STRANGER, address(target), 0, 100_000, abi.encodeCall(Target.set, (true)));
        _relay(STRANGER, V1 + 3, USER, address(target), 11, 100_000, hit);
        _relay(STRANGER, V1 + 3, USER, address(target), 11, 100_000, hit);
        _relay(STRANGER, V1 + 4, USER, address(target), 11, 100_000, hit);
        // Not enough gas for the promised minimum: recorded as failed, not reverted.
        _step(_alias(L1_MESSENGER), MESSENGER, 0, 400_000, abi.encodeCall(
            L2CrossDomainMessenger.relayMessage, (V1 + 5, USER, address(target), 0, 5_000_000, hit)
        ));
        // Blocked targets, unsupported versions, legacy (v0) messages.
        _relay(_alias(L1_MESSENGER), V1 + 6, USER, MESSENGER, 0, 0, "");
        _relay(_alias(L1_MESSENGER), V1 + 7, USER, PASSER, 0, 0, "");
        _relay(_alias(L1_MESSENGER), uint256(2) << 240, USER, address(target), 0, 0, hit);
        _relay(_alias(L1_MESSENGER), 42, USER, address(target), 0, 100_000, hit);
        _relay(_alias(L1_MESSENGER), 42, USER, address(target), 0, 100_000, hit);

        // ERC-20: a mintable token is minted and burnt; a plain token is escrowed and released.
        _relay(_alias(L1_MESSENGER), V1 + 8, L1_BRIDGE, BRIDGE, 0, 100_000, abi.encodeCall(
            L2StandardBridge.finalizeBridgeERC20, (address(mintable), address(0x11111), USER, USER, 100, "")
        ));
        _relay(_alias(L1_MESSENGER), V1 + 9, L1_BRIDGE, BRIDGE, 0, 100_000, abi.encodeCall(
            L2StandardBridge.finalizeBridgeERC20, (address(mintable), address(0x22222), USER, USER, 100, "")
        ));
        _step(USER, BRIDGE, 0, 1_000_000, abi.encodeCall(
            L2StandardBridge.bridgeERC20, (address(mintable), address(0x11111), 40, 100_000, "m")
        ));
        _step(USER, BRIDGE, 0, 1_000_000, abi.encodeCall(L2StandardBridge.withdraw, (address(mintable), 10, 100_000, "")));
        _step(USER, BRIDGE, 0, 1_000_000, abi.encodeCall(
            L2StandardBridge.bridgeERC20To, (address(mintable), address(0x33333), RECIPIENT, 1, 100_000, "")
        ));
        _step(USER, BRIDGE, 1, 1_000_000, abi.encodeCall(
            L2StandardBridge.bridgeERC20, (address(mintable), address(0x11111), 1, 100_000, "")
        ));
        plain.give(USER, 100);
        _step(USER, address(plain), 0, 100_000, abi.encodeCall(PlainToken.approve, (BRIDGE, 60)));
        _step(USER, BRIDGE, 0, 1_000_000, abi.encodeCall(
            L2StandardBridge.bridgeERC20To, (address(plain), address(0x44444), RECIPIENT, 50, 100_000, "p")
        ));
        _step(USER, BRIDGE, 0, 1_000_000, abi.encodeCall(
            L2StandardBridge.bridgeERC20, (address(plain), address(0x44444), 50, 100_000, "")
        ));
        _relay(_alias(L1_MESSENGER), V1 + 10, L1_BRIDGE, BRIDGE, 0, 100_000, abi.encodeCall(
            L2StandardBridge.finalizeBridgeERC20, (address(plain), address(0x44444), USER, RECIPIENT, 20, "")
        ));
        _relay(_alias(L1_MESSENGER), V1 + 11, L1_BRIDGE, BRIDGE, 0, 100_000, abi.encodeCall(
            L2StandardBridge.finalizeBridgeERC20, (address(plain), address(0x44444), USER, RECIPIENT, 31, "")
        ));

        // Views.
        _view(MESSENGER, abi.encodeWithSignature("xDomainMessageSender()"));
        _view(MESSENGER, abi.encodeWithSignature("messageNonce()"));
        _view(MESSENGER, abi.encodeWithSignature("baseGas(bytes,uint32)", hex"0102030405", uint32(123_456)));
        _view(MESSENGER, abi.encodeWithSignature("otherMessenger()"));
        _view(MESSENGER, abi.encodeWithSignature("OTHER_MESSENGER()"));
        _view(MESSENGER, abi.encodeWithSignature("l1CrossDomainMessenger()"));
        _view(MESSENGER, abi.encodeWithSignature("version()"));
        _view(MESSENGER, abi.encodeWithSignature("paused()"));
        _view(MESSENGER, abi.encodeWithSignature("MESSAGE_VERSION()"));
        _view(MESSENGER, abi.encodeWithSignature("RELAY_CONSTANT_OVERHEAD()"));
        _view(MESSENGER, abi.encodeWithSignature("MIN_GAS_DYNAMIC_OVERHEAD_NUMERATOR()"));
        _view(MESSENGER, abi.encodeWithSignature("MIN_GAS_DYNAMIC_OVERHEAD_DENOMINATOR()"));
        _view(MESSENGER, abi.encodeWithSignature("MIN_GAS_CALLDATA_OVERHEAD()"));
        _view(MESSENGER, abi.encodeWithSignature("RELAY_CALL_OVERHEAD()"));
        _view(MESSENGER, abi.encodeWithSignature("RELAY_RESERVED_GAS()"));
        _view(MESSENGER, abi.encodeWithSignature("RELAY_GAS_CHECK_BUFFER()"));
        _view(BRIDGE, abi.encodeWithSignature("messenger()"));
        _view(BRIDGE, abi.encodeWithSignature("MESSENGER()"));
        _view(BRIDGE, abi.encodeWithSignature("otherBridge()"));
        _view(BRIDGE, abi.encodeWithSignature("OTHER_BRIDGE()"));
        _view(BRIDGE, abi.encodeWithSignature("l1TokenBridge()"));
        _view(BRIDGE, abi.encodeWithSignature("version()"));
        _view(BRIDGE, abi.encodeWithSignature("paused()"));
        _view(BRIDGE, abi.encodeWithSignature("deposits(address,address)", address(plain), address(0x44444)));

        bytes32 balances = keccak256(abi.encode(
            MESSENGER.balance, BRIDGE.balance, PASSER.balance, RECIPIENT.balance, USER.balance,
            address(target).balance, mintable.balanceOf(USER), plain.balanceOf(RECIPIENT), target.lastSender(),
            target.lastValue()
        ));
        steps.push(balances);
    }

    function _writes(address at) internal returns (bytes32[] memory slots) {
        (, slots) = vm.accesses(at);
    }

    function test_messenger_and_bridge_match_op() public {
        // agnt2's code is created first so that both runs create the helpers at the same addresses.
        bytes memory oursMessenger = address(new L2CrossDomainMessenger()).code;
        bytes memory oursBridge = address(new L2StandardBridge()).code;
        uint256 snap = vm.snapshotState();
        _etchOp("L2CrossDomainMessenger", MESSENGER);
        _etchOp("L2StandardBridge", BRIDGE);
        _scenario();
        bytes32[] memory opSteps = steps;
        address[2] memory contracts = [MESSENGER, address(BRIDGE)];
        for (uint256 c; c < 2; c++) {
            bytes32[] memory w = _writes(contracts[c]);
            for (uint256 i; i < w.length; i++) {
                written.push(Slot(contracts[c], w[i], vm.load(contracts[c], w[i])));
            }
        }
        Slot[] memory opSlots = written;
        require(opSlots.length > 10, "the scenario writes storage");

        vm.revertToState(snap);
        delete steps;
        vm.etch(MESSENGER, oursMessenger);
        vm.etch(BRIDGE, oursBridge);
        _scenario();
        require(steps.length == opSteps.length, "same number of steps");
        for (uint256 i; i < steps.length; i++) {
            require(steps[i] == opSteps[i], string.concat("step ", vm.toString(i), " differs"));
        }
        // The scenario did what it says (on both, as the digests are equal).
        require(RECIPIENT.balance == 7, "the bridged deposit was paid once");
        require(address(target).balance == 11 + 1 && target.lastSender() == USER && target.lastValue() == 5, "the replay and the v0 message ran as the L1 sender");
        require(mintable.balanceOf(USER) == 50, "minted 100, burnt 40 + 10");
        require(plain.balanceOf(RECIPIENT) == 20 && plain.balanceOf(BRIDGE) == 30, "escrowed 50, released 20");
        require(L2StandardBridge(BRIDGE).deposits(address(plain), address(0x44444)) == 30, "escrow counted");
        // Every slot OP's contracts wrote holds the same value; whatever agnt2's wrote besides is zero.
        for (uint256 i; i < opSlots.length; i++) {
            require(vm.load(opSlots[i].at, opSlots[i].slot) == opSlots[i].value, "OP-written slot differs");
        }
        for (uint256 c; c < 2; c++) {
            bytes32[] memory w = _writes(contracts[c]);
            for (uint256 i; i < w.length; i++) {
                bool known;
                for (uint256 j; j < opSlots.length && !known; j++) {
                    known = opSlots[j].at == contracts[c] && opSlots[j].slot == w[i];
                }
                require(known || vm.load(contracts[c], w[i]) == 0, "agnt2 wrote a slot OP leaves empty");
            }
        }
    }
}
