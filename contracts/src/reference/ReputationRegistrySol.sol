// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IdentityRegistrySol} from "./IdentityRegistrySol.sol";

/// @title ReputationRegistrySol
/// @notice The ERC-8004 ReputationRegistry functions the benchmarks compare, written in Solidity
///         the way the reference contract does them (feedback struct per client and index,
///         client list, the spec's rules, the same events), without the reference's proxy.
contract ReputationRegistrySol {
    struct Feedback {
        int128 value;
        uint8 valueDecimals;
        bool isRevoked;
        string tag1;
        string tag2;
    }

    event NewFeedback(
        uint256 indexed agentId,
        address indexed clientAddress,
        uint64 feedbackIndex,
        int128 value,
        uint8 valueDecimals,
        string indexed indexedTag1,
        string tag1,
        string tag2,
        string endpoint,
        string feedbackURI,
        bytes32 feedbackHash
    );

    int128 private constant MAX_ABS_VALUE = 1e38;

    IdentityRegistrySol private immutable identity;
    mapping(uint256 => mapping(address => mapping(uint64 => Feedback))) private _feedback;
    mapping(uint256 => mapping(address => uint64)) private _lastIndex;
    mapping(uint256 => address[]) private _clients;
    mapping(uint256 => mapping(address => bool)) private _clientExists;

    constructor(IdentityRegistrySol identity_) {
        identity = identity_;
    }

    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8 valueDecimals,
        string calldata tag1,
        string calldata tag2,
        string calldata endpoint,
        string calldata feedbackURI,
        bytes32 feedbackHash
    ) external {
        require(valueDecimals <= 18, "valueDecimals must be at most 18");
        require(value >= -MAX_ABS_VALUE && value <= MAX_ABS_VALUE, "|value| must be at most 1e38");
        require(!identity.isAuthorizedOrOwner(msg.sender, agentId), "owners cannot rate their own agent");
        uint64 index = ++_lastIndex[agentId][msg.sender];
        _feedback[agentId][msg.sender][index] = Feedback(value, valueDecimals, false, tag1, tag2);
        if (!_clientExists[agentId][msg.sender]) {
            _clients[agentId].push(msg.sender);
            _clientExists[agentId][msg.sender] = true;
        }
        emit NewFeedback(
            agentId, msg.sender, index, value, valueDecimals, tag1, tag1, tag2, endpoint, feedbackURI, feedbackHash
        );
    }

    function readFeedback(uint256 agentId, address client, uint64 index)
        external
        view
        returns (int128, uint8, string memory, string memory, bool)
    {
        Feedback storage f = _feedback[agentId][client][index];
        return (f.value, f.valueDecimals, f.tag1, f.tag2, f.isRevoked);
    }

    function getLastIndex(uint256 agentId, address client) external view returns (uint64) {
        return _lastIndex[agentId][client];
    }

    function getClients(uint256 agentId) external view returns (address[] memory) {
        return _clients[agentId];
    }
}
