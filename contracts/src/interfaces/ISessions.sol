// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISessions
/// @notice Session keys of agents, served natively by agnt2 at
///         0x0000000000000000000000000000000000008008. The owner opens a key for its agent with
///         an expiry (unix seconds, inclusive), a spend limit and the counterparties it may deal
///         with (empty: any, at most 64). Reopening a key replaces its session. The key itself
///         or the owner closes it. A valid key signs channel states once admitted to the channel
///         (`Adjudicator.admit`, which draws its cap from the spend limit).
interface ISessions {
    struct Session {
        address key;
        uint64 expiry;
        uint256 spendLimit;
        uint256 spent;
        address[] counterparties;
    }

    event SessionOpened(uint256 indexed agentId, address indexed key, uint64 expiry, uint256 spendLimit, address[] counterparties);
    event SessionClosed(uint256 indexed agentId, address indexed key, address indexed closedBy);
    event SpendRecorded(
        uint256 indexed agentId, address indexed key, address indexed counterparty, uint256 amount, uint256 spent
    );

    /// @notice Owner only.
    function open(uint256 agentId, address key, uint64 expiry, uint256 spendLimit, address[] calldata counterparties)
        external;
    /// @notice The owner or the key itself.
    function close(uint256 agentId, address key) external;
    /// @notice Open, unexpired, and `counterparty` allowed (zero: not checked).
    function isValid(uint256 agentId, address key, address counterparty) external view returns (bool);
    /// @notice Adds `amount` to what the session spent; reverts past the limit, after expiry, or
    ///         for a counterparty not allowed. Callable by the key, the owner or the agent wallet.
    function recordSpend(uint256 agentId, address key, address counterparty, uint256 amount)
        external
        returns (uint256 remaining);
    /// @notice The open session of `key` (expired or not); reverts if none.
    function get(uint256 agentId, address key) external view returns (Session memory);
    /// @notice The open, unexpired keys.
    function list(uint256 agentId) external view returns (address[] memory);
}
