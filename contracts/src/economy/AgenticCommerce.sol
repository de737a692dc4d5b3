// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The ERC-20 calls the contract makes.
interface IERC20Acp {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

/// @title AgenticCommerce
/// @notice ERC-8183 (Agentic Commerce, draft 2026-02-25) as a non-hooked kernel: one-off jobs
///         between agents, escrowed in one ERC-20 token, released by an evaluator. The
///         recurring duties of running a chain are DutyBoard's; this is the standard surface
///         ERC-8183 clients call.
///
/// States Open → Funded → Submitted → Completed | Rejected | Expired, with exactly the
/// transitions the ERC allows. Every core function exists with and without the trailing
/// `optParams` (forwarded to hooks in hooked implementations; this kernel has none, so a job
/// created with a hook is refused rather than silently run without it). An optional platform
/// fee (basis points, to a treasury) is taken on completion only. A token that keeps a fee on
/// transfer cannot be used: `fund` checks the escrow received is the budget.
contract AgenticCommerce {
    enum Status {
        Open,
        Funded,
        Submitted,
        Completed,
        Rejected,
        Expired
    }

    struct Job {
        address client;
        address provider;
        address evaluator;
        string description;
        uint256 budget;
        uint256 expiredAt;
        Status status;
        address hook;
    }

    IERC20Acp public immutable paymentToken;
    address public immutable treasury;
    uint16 public immutable feeBps;
    uint256 public jobCount;
    mapping(uint256 => Job) internal _jobs;
    uint256 private _lock = 1;

    event JobCreated(
        uint256 indexed jobId,
        address indexed client,
        address indexed provider,
        address evaluator,
        uint256 expiredAt,
        address hook
    );
    event ProviderSet(uint256 indexed jobId, address indexed provider);
    event BudgetSet(uint256 indexed jobId, uint256 amount);
    event JobFunded(uint256 indexed jobId, address indexed client, uint256 amount);
    event JobSubmitted(uint256 indexed jobId, address indexed provider, bytes32 deliverable);
    event JobCompleted(uint256 indexed jobId, address indexed evaluator, bytes32 reason);
    event JobRejected(uint256 indexed jobId, address indexed rejector, bytes32 reason);
    event JobExpired(uint256 indexed jobId);
    event PaymentReleased(uint256 indexed jobId, address indexed provider, uint256 amount);
    event Refunded(uint256 indexed jobId, address indexed client, uint256 amount);

    error Unauthorized();
    error InvalidStatus(Status status);
    error InvalidJob();
    error BudgetMismatch();
    error HooksNotSupported();
    error NotExpired();
    error TransferFailed();
    error Reentrant();

    modifier nonReentrant() {
        if (_lock != 1) revert Reentrant();
        _lock = 2;
        _;
        _lock = 1;
    }

    constructor(IERC20Acp token, address treasury_, uint16 feeBps_) {
        require(feeBps_ <= 10_000 && (feeBps_ == 0 || treasury_ != address(0)), "bad fee");
        paymentToken = token;
        treasury = treasury_;
        feeBps = feeBps_;
    }

    function getJob(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    function createJob(address provider, address evaluator, uint256 expiredAt, string calldata description)
        external
        returns (uint256)
    {
        return _create(provider, evaluator, expiredAt, description, address(0));
    }

    function createJob(
        address provider,
        address evaluator,
        uint256 expiredAt,
        string calldata description,
        address hook
    ) external returns (uint256) {
        return _create(provider, evaluator, expiredAt, description, hook);
    }

    function _create(address provider, address evaluator, uint256 expiredAt, string calldata description, address hook)
        internal
        returns (uint256 jobId)
    {
        if (hook != address(0)) revert HooksNotSupported();
        if (evaluator == address(0) || expiredAt <= block.timestamp) revert InvalidJob();
        jobId = ++jobCount;
        Job storage j = _jobs[jobId];
        j.client = msg.sender;
        j.provider = provider;
        j.evaluator = evaluator;
        j.description = description;
        j.expiredAt = expiredAt;
        emit JobCreated(jobId, msg.sender, provider, evaluator, expiredAt, hook);
    }

    function setProvider(uint256 jobId, address provider) external {
        _setProvider(jobId, provider);
    }

    function setProvider(uint256 jobId, address provider, bytes calldata) external {
        _setProvider(jobId, provider);
    }

    function _setProvider(uint256 jobId, address provider) internal {
        Job storage j = _job(jobId);
        if (msg.sender != j.client) revert Unauthorized();
        if (j.status != Status.Open) revert InvalidStatus(j.status);
        if (j.provider != address(0) || provider == address(0)) revert InvalidJob();
        j.provider = provider;
        emit ProviderSet(jobId, provider);
    }

    function setBudget(uint256 jobId, uint256 amount) external {
        _setBudget(jobId, amount);
    }

    function setBudget(uint256 jobId, uint256 amount, bytes calldata) external {
        _setBudget(jobId, amount);
    }

    function _setBudget(uint256 jobId, uint256 amount) internal {
        Job storage j = _job(jobId);
        if (msg.sender != j.client && (msg.sender != j.provider || j.provider == address(0))) revert Unauthorized();
        if (j.status != Status.Open) revert InvalidStatus(j.status);
        j.budget = amount;
        emit BudgetSet(jobId, amount);
    }

    function fund(uint256 jobId, uint256 expectedBudget) external {
        _fund(jobId, expectedBudget);
    }

    function fund(uint256 jobId, uint256 expectedBudget, bytes calldata) external {
        _fund(jobId, expectedBudget);
    }

    function _fund(uint256 jobId, uint256 expectedBudget) internal nonReentrant {
        Job storage j = _job(jobId);
        if (msg.sender != j.client) revert Unauthorized();
        if (j.status != Status.Open) revert InvalidStatus(j.status);
        if (j.provider == address(0) || j.budget == 0) revert InvalidJob();
        // Front-running protection: the price the client saw is the price it pays.
        if (j.budget != expectedBudget) revert BudgetMismatch();
        j.status = Status.Funded;
        uint256 before = paymentToken.balanceOf(address(this));
        if (!paymentToken.transferFrom(msg.sender, address(this), j.budget)) revert TransferFailed();
        if (paymentToken.balanceOf(address(this)) - before != j.budget) revert TransferFailed();
        emit JobFunded(jobId, msg.sender, j.budget);
    }

    function submit(uint256 jobId, bytes32 deliverable) external {
        _submit(jobId, deliverable);
    }

    function submit(uint256 jobId, bytes32 deliverable, bytes calldata) external {
        _submit(jobId, deliverable);
    }

    function _submit(uint256 jobId, bytes32 deliverable) internal {
        Job storage j = _job(jobId);
        if (msg.sender != j.provider) revert Unauthorized();
        if (j.status != Status.Funded) revert InvalidStatus(j.status);
        j.status = Status.Submitted;
        emit JobSubmitted(jobId, msg.sender, deliverable);
    }

    function complete(uint256 jobId, bytes32 reason) external {
        _complete(jobId, reason);
    }

    function complete(uint256 jobId, bytes32 reason, bytes calldata) external {
        _complete(jobId, reason);
    }

    function _complete(uint256 jobId, bytes32 reason) internal nonReentrant {
        Job storage j = _job(jobId);
        if (msg.sender != j.evaluator) revert Unauthorized();
        if (j.status != Status.Submitted) revert InvalidStatus(j.status);
        j.status = Status.Completed;
        uint256 fee = j.budget * feeBps / 10_000;
        uint256 pay = j.budget - fee;
        emit JobCompleted(jobId, msg.sender, reason);
        if (fee > 0) _send(treasury, fee);
        _send(j.provider, pay);
        emit PaymentReleased(jobId, j.provider, pay);
    }

    function reject(uint256 jobId, bytes32 reason) external {
        _reject(jobId, reason);
    }

    function reject(uint256 jobId, bytes32 reason, bytes calldata) external {
        _reject(jobId, reason);
    }

    function _reject(uint256 jobId, bytes32 reason) internal nonReentrant {
        Job storage j = _job(jobId);
        Status s = j.status;
        if (s == Status.Open) {
            if (msg.sender != j.client) revert Unauthorized();
        } else if (s == Status.Funded || s == Status.Submitted) {
            if (msg.sender != j.evaluator) revert Unauthorized();
        } else {
            revert InvalidStatus(s);
        }
        j.status = Status.Rejected;
        emit JobRejected(jobId, msg.sender, reason);
        if (s != Status.Open) {
            _send(j.client, j.budget);
            emit Refunded(jobId, j.client, j.budget);
        }
    }

    /// @notice After `expiredAt`, anyone returns a funded or submitted job's escrow to its
    ///         client (once: the job is then Expired).
    function claimRefund(uint256 jobId) external nonReentrant {
        Job storage j = _job(jobId);
        if (j.status != Status.Funded && j.status != Status.Submitted) revert InvalidStatus(j.status);
        if (block.timestamp < j.expiredAt) revert NotExpired();
        j.status = Status.Expired;
        emit JobExpired(jobId);
        _send(j.client, j.budget);
        emit Refunded(jobId, j.client, j.budget);
    }

    function _job(uint256 jobId) internal view returns (Job storage j) {
        if (jobId == 0 || jobId > jobCount) revert InvalidJob();
        j = _jobs[jobId];
    }

    function _send(address to, uint256 amount) internal {
        if (!paymentToken.transfer(to, amount)) revert TransferFailed();
    }
}
