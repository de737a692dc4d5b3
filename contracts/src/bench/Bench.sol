// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Contracts the builder benchmark (`agnt2 bench builder`) drives. Plain and
///         self-contained: what matters is the storage they touch and the work per call.

/// @notice A minimal ERC-20 (balances, allowances, Transfer events).
contract BenchToken {
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(uint256 supply) {
        balanceOf[msg.sender] = supply;
        totalSupply = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        uint256 b = balanceOf[msg.sender];
        require(b >= value, "insufficient balance");
        unchecked {
            balanceOf[msg.sender] = b - value;
        }
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }

    /// @notice Sends `value` to each of `to` (setup).
    function spread(address[] calldata to, uint256 value) external {
        uint256 total = value * to.length;
        require(balanceOf[msg.sender] >= total, "insufficient balance");
        balanceOf[msg.sender] -= total;
        for (uint256 i; i < to.length; ++i) {
            balanceOf[to[i]] += value;
            emit Transfer(msg.sender, to[i], value);
        }
    }
}

/// @notice A constant-product pool with internal balances, a price oracle ring and a
///         Babylonian square root per swap: the kind of work a DEX swap does.
contract BenchPool {
    uint112 public reserve0;
    uint112 public reserve1;
    uint32 public lastTimestamp;
    uint256 public price0Cumulative;
    uint256 public price1Cumulative;
    uint256 public kLast;
    uint256[16] public observations;
    uint256 public observationIndex;
    mapping(address => uint256) public balance0;
    mapping(address => uint256) public balance1;

    event Swap(address indexed sender, uint256 amountIn, uint256 amountOut, bool zeroForOne);

    constructor() {
        reserve0 = 1e24;
        reserve1 = 1e24;
        lastTimestamp = uint32(block.timestamp);
    }

    function sqrt(uint256 y) internal pure returns (uint256 z) {
        if (y > 3) {
            z = y;
            uint256 x = y / 2 + 1;
            while (x < z) {
                z = x;
                x = (y / x + x) / 2;
            }
        } else if (y != 0) {
            z = 1;
        }
    }

    function swap(uint256 amountIn, bool zeroForOne) external returns (uint256 amountOut) {
        (uint256 r0, uint256 r1) = (reserve0, reserve1);
        uint256 inWithFee = amountIn * 997;
        if (zeroForOne) {
            amountOut = (inWithFee * r1) / (r0 * 1000 + inWithFee);
            r0 += amountIn;
            r1 -= amountOut;
            balance1[msg.sender] += amountOut;
        } else {
            amountOut = (inWithFee * r0) / (r1 * 1000 + inWithFee);
            r1 += amountIn;
            r0 -= amountOut;
            balance0[msg.sender] += amountOut;
        }
        uint32 elapsed = uint32(block.timestamp) - lastTimestamp;
        price0Cumulative += (r1 << 32) / r0 * (elapsed + 1);
        price1Cumulative += (r0 << 32) / r1 * (elapsed + 1);
        kLast = sqrt(r0 * r1);
        uint256 i = (observationIndex + 1) % 16;
        observations[i] = price0Cumulative ^ (kLast << 128);
        observationIndex = i;
        (reserve0, reserve1, lastTimestamp) = (uint112(r0), uint112(r1), uint32(block.timestamp));
        emit Swap(msg.sender, amountIn, amountOut, zeroForOne);
    }
}

interface ICapabilitiesView {
    function has(uint256 agentId, bytes32 capability) external view returns (bool);
}

/// @notice An agent's service contract: checks the agent's capability in the native registry,
///         records each client's jobs, and pays a fee counter.
contract BenchAgentService {
    ICapabilitiesView constant CAPABILITIES = ICapabilitiesView(0x0000000000000000000000000000000000008007);
    bytes32 public constant SERVE = keccak256("serve");
    uint256 public immutable agentId;
    mapping(address => uint256) public jobs;
    mapping(address => bytes32) public lastJob;
    mapping(address => uint256) public credits;

    event Served(address indexed client, bytes32 job, uint256 count);

    constructor(uint256 agentId_) {
        agentId = agentId_;
    }

    function serve(bytes32 job) external returns (bytes32 result) {
        require(CAPABILITIES.has(agentId, SERVE), "not allowed to serve");
        result = job;
        for (uint256 i; i < 8; ++i) {
            result = keccak256(abi.encode(result, i, msg.sender));
        }
        uint256 n = ++jobs[msg.sender];
        lastJob[msg.sender] = result;
        credits[msg.sender] += 1;
        emit Served(msg.sender, result, n);
    }
}
