// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice What the bridge needs of the messenger (0x…07).
interface IL2Messenger {
    function sendMessage(address target, bytes calldata message, uint32 minGasLimit) external payable;
    function xDomainMessageSender() external view returns (address);
}

/// @notice ERC-20 calls; tokens that return nothing are accepted, as with SafeERC20.
interface IERC20Min {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @notice OP's mintable token (ERC-165 interface id 0xec4fc8e3): the bridge mints and burns it.
interface IOptimismMintableERC20 {
    function remoteToken() external view returns (address);
    function bridge() external returns (address);
    function mint(address to, uint256 amount) external;
    function burn(address from, uint256 amount) external;
}

/// @notice The legacy mintable token interface (ERC-165 interface id 0x1d1d8b63).
interface ILegacyMintableERC20 {
    function l1Token() external view returns (address);
    function mint(address to, uint256 amount) external;
    function burn(address from, uint256 amount) external;
}

/// @title L2StandardBridge
/// @notice agnt2's standard bridge predeploy at 0x4200000000000000000000000000000000000010, with the
///         OP Stack ABI, events, revert reasons and storage layout, paired with OP's
///         L1StandardBridge through the messengers:
///         - ETH: `bridgeETH(To)`, `withdraw(To)` of the legacy ETH token, or a plain transfer from
///           an EOA send ETH to L1; `finalizeBridgeETH` (only the L1 bridge, through the
///           messenger) pays out deposits.
///         - ERC-20: OP mintable tokens are burnt here and minted on finalization; other tokens
///           are escrowed, counted in `deposits[local][remote]`, and released on return.
contract L2StandardBridge {
    string public constant version = "1.10.0";

    address internal constant L2_MESSENGER = 0x4200000000000000000000000000000000000007;
    /// @notice The legacy ERC-20 address of ETH that `withdraw` takes for ETH.
    address internal constant LEGACY_ERC20_ETH = 0xDeadDeAddeAddEAddeadDEaDDEAdDeaDDeAD0000;
    /// @notice Gas limit given to the L1 side of a plain ETH transfer.
    uint32 internal constant RECEIVE_DEFAULT_GAS_LIMIT = 200_000;

    // Storage, slot by slot as in OP's layout (legacy spacers included).
    uint8 private initialized; // slot 0, byte 0
    bool private initializing; // slot 0, byte 1
    bytes30 private spacer_0_2_30; // slot 0, bytes 2..32
    address private spacer_1_0_20; // slot 1
    /// @notice Escrowed amounts of native L2 tokens, per (L2 token, L1 token).
    mapping(address => mapping(address => uint256)) public deposits; // slot 2
    /// @notice The L2CrossDomainMessenger.
    address public messenger; // slot 3
    /// @notice The L1StandardBridge.
    address public otherBridge; // slot 4
    uint256[45] private __gap; // slots 5..49

    event ETHBridgeInitiated(address indexed from, address indexed to, uint256 amount, bytes extraData);
    event ETHBridgeFinalized(address indexed from, address indexed to, uint256 amount, bytes extraData);
    event ERC20BridgeInitiated(
        address indexed localToken, address indexed remoteToken, address indexed from, address to, uint256 amount, bytes extraData
    );
    event ERC20BridgeFinalized(
        address indexed localToken, address indexed remoteToken, address indexed from, address to, uint256 amount, bytes extraData
    );
    event WithdrawalInitiated(
        address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount, bytes extraData
    );
    event DepositFinalized(
        address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount, bytes extraData
    );
    event Initialized(uint8 version);

    modifier onlyEOA() {
        require(msg.sender.code.length == 0, "StandardBridge: function can only be called from an EOA");
        _;
    }

    modifier onlyOtherBridge() {
        require(
            msg.sender == messenger && IL2Messenger(messenger).xDomainMessageSender() == otherBridge,
            "StandardBridge: function can only be called from the other bridge"
        );
        _;
    }

    /// @notice Sets the L1 bridge (and the messenger), once (genesis does it on agnt2).
    function initialize(address _otherBridge) external {
        require(initialized == 0, "Initializable: contract is already initialized");
        initialized = 1;
        messenger = L2_MESSENGER;
        otherBridge = _otherBridge;
        emit Initialized(1);
    }

    /// @notice A plain ETH transfer from an EOA withdraws it to the same address on L1.
    receive() external payable onlyEOA {
        _withdraw(LEGACY_ERC20_ETH, msg.sender, msg.sender, msg.value, RECEIVE_DEFAULT_GAS_LIMIT, "");
    }

    function MESSENGER() external view returns (address) {
        return messenger;
    }

    function OTHER_BRIDGE() external view returns (address) {
        return otherBridge;
    }

    function l1TokenBridge() external view returns (address) {
        return otherBridge;
    }

    function paused() external pure returns (bool) {
        return false;
    }

    function bridgeETH(uint32 _minGasLimit, bytes calldata _extraData) external payable onlyEOA {
        _bridgeETH(msg.sender, msg.sender, msg.value, _minGasLimit, _extraData);
    }

    function bridgeETHTo(address _to, uint32 _minGasLimit, bytes calldata _extraData) external payable {
        _bridgeETH(msg.sender, _to, msg.value, _minGasLimit, _extraData);
    }

    function bridgeERC20(
        address _localToken,
        address _remoteToken,
        uint256 _amount,
        uint32 _minGasLimit,
        bytes calldata _extraData
    ) external onlyEOA {
        _bridgeERC20(_localToken, _remoteToken, msg.sender, msg.sender, _amount, _minGasLimit, _extraData);
    }

    function bridgeERC20To(
        address _localToken,
        address _remoteToken,
        address _to,
        uint256 _amount,
        uint32 _minGasLimit,
        bytes calldata _extraData
    ) external {
        _bridgeERC20(_localToken, _remoteToken, msg.sender, _to, _amount, _minGasLimit, _extraData);
    }

    /// @notice Legacy withdrawal: `_l2Token` is the legacy ETH address or a mintable token.
    function withdraw(address _l2Token, uint256 _amount, uint32 _minGasLimit, bytes calldata _extraData)
        external
        payable
        onlyEOA
    {
        _withdraw(_l2Token, msg.sender, msg.sender, _amount, _minGasLimit, _extraData);
    }

    function withdrawTo(address _l2Token, address _to, uint256 _amount, uint32 _minGasLimit, bytes calldata _extraData)
        external
        payable
    {
        _withdraw(_l2Token, msg.sender, _to, _amount, _minGasLimit, _extraData);
    }

    /// @notice Pays out ETH deposited by the L1 bridge.
    function finalizeBridgeETH(address _from, address _to, uint256 _amount, bytes calldata _extraData)
        external
        payable
        onlyOtherBridge
    {
        require(msg.value == _amount, "StandardBridge: amount sent does not match amount required");
        require(_to != address(this), "StandardBridge: cannot send to self");
        require(_to != messenger, "StandardBridge: cannot send to messenger");
        emit DepositFinalized(address(0), LEGACY_ERC20_ETH, _from, _to, _amount, _extraData);
        emit ETHBridgeFinalized(_from, _to, _amount, _extraData);
        bool ok;
        assembly {
            ok := call(gas(), _to, _amount, 0, 0, 0, 0)
        }
        require(ok, "StandardBridge: ETH transfer failed");
    }

    /// @notice Mints (mintable token) or releases (escrowed native token) an ERC-20 deposit.
    function finalizeBridgeERC20(
        address _localToken,
        address _remoteToken,
        address _from,
        address _to,
        uint256 _amount,
        bytes calldata _extraData
    ) external onlyOtherBridge {
        if (_isMintable(_localToken)) {
            require(
                _isPair(_localToken, _remoteToken),
                "StandardBridge: wrong remote token for Optimism Mintable ERC20 local token"
            );
            IOptimismMintableERC20(_localToken).mint(_to, _amount);
        } else {
            deposits[_localToken][_remoteToken] -= _amount;
            _erc20(_localToken, abi.encodeCall(IERC20Min.transfer, (_to, _amount)));
        }
        emit DepositFinalized(_remoteToken, _localToken, _from, _to, _amount, _extraData);
        emit ERC20BridgeFinalized(_localToken, _remoteToken, _from, _to, _amount, _extraData);
    }

    function _withdraw(
        address _l2Token,
        address _from,
        address _to,
        uint256 _amount,
        uint32 _minGasLimit,
        bytes memory _extraData
    ) internal {
        if (_l2Token == LEGACY_ERC20_ETH) {
            _bridgeETH(_from, _to, _amount, _minGasLimit, _extraData);
        } else {
            address l1Token = ILegacyMintableERC20(_l2Token).l1Token();
            _bridgeERC20(_l2Token, l1Token, _from, _to, _amount, _minGasLimit, _extraData);
        }
    }

    function _bridgeETH(address _from, address _to, uint256 _amount, uint32 _minGasLimit, bytes memory _extraData)
        internal
    {
        require(msg.value == _amount, "StandardBridge: bridging ETH must include sufficient ETH value");
        emit WithdrawalInitiated(address(0), LEGACY_ERC20_ETH, _from, _to, _amount, _extraData);
        emit ETHBridgeInitiated(_from, _to, _amount, _extraData);
        IL2Messenger(messenger).sendMessage{value: _amount}(
            otherBridge, abi.encodeCall(this.finalizeBridgeETH, (_from, _to, _amount, _extraData)), _minGasLimit
        );
    }

    function _bridgeERC20(
        address _localToken,
        address _remoteToken,
        address _from,
        address _to,
        uint256 _amount,
        uint32 _minGasLimit,
        bytes memory _extraData
    ) internal {
        require(msg.value == 0, "StandardBridge: cannot send value");
        if (_isMintable(_localToken)) {
            require(
                _isPair(_localToken, _remoteToken),
                "StandardBridge: wrong remote token for Optimism Mintable ERC20 local token"
            );
            IOptimismMintableERC20(_localToken).burn(_from, _amount);
        } else {
            _erc20(_localToken, abi.encodeCall(IERC20Min.transferFrom, (_from, address(this), _amount)));
            deposits[_localToken][_remoteToken] += _amount;
        }
        emit WithdrawalInitiated(_remoteToken, _localToken, _from, _to, _amount, _extraData);
        emit ERC20BridgeInitiated(_localToken, _remoteToken, _from, _to, _amount, _extraData);
        IL2Messenger(messenger).sendMessage(
            otherBridge,
            abi.encodeCall(this.finalizeBridgeERC20, (_remoteToken, _localToken, _from, _to, _amount, _extraData)),
            _minGasLimit
        );
    }

    /// @dev A token the bridge may mint: it claims either mintable interface through ERC-165.
    function _isMintable(address _token) internal view returns (bool) {
        return _supports(_token, type(ILegacyMintableERC20).interfaceId)
            || _supports(_token, type(IOptimismMintableERC20).interfaceId);
    }

    function _isPair(address _mintable, address _other) internal view returns (bool) {
        if (_supports(_mintable, type(ILegacyMintableERC20).interfaceId)) {
            return _other == ILegacyMintableERC20(_mintable).l1Token();
        }
        return _other == IOptimismMintableERC20(_mintable).remoteToken();
    }

    /// @dev ERC-165 detection: the token supports ERC-165 itself, denies 0xffffffff, and claims `id`.
    function _supports(address _token, bytes4 _id) internal view returns (bool) {
        return _claims(_token, 0x01ffc9a7) && !_claims(_token, 0xffffffff) && _claims(_token, _id);
    }

    function _claims(address _token, bytes4 _id) internal view returns (bool) {
        (bool ok, bytes memory out) =
            _token.staticcall{gas: 30_000}(abi.encodeWithSelector(0x01ffc9a7, _id));
        return ok && out.length >= 32 && abi.decode(out, (uint256)) > 0;
    }

    /// @dev A token call that must succeed and return true or nothing (SafeERC20 semantics).
    function _erc20(address _token, bytes memory _call) internal {
        require(_token.code.length > 0, "Address: call to non-contract");
        (bool ok, bytes memory out) = _token.call(_call);
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
        require(out.length == 0 || abi.decode(out, (bool)), "SafeERC20: ERC20 operation did not succeed");
    }
}
