// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AgenticCommerce, IERC20Acp} from "../src/economy/AgenticCommerce.sol";
import {TestToken, FeeToken} from "./Tokens.sol";

interface VmAcp {
    function prank(address) external;
    function warp(uint256) external;
    function expectRevert(bytes calldata) external;
    function expectRevert(bytes4) external;
}

/// ERC-8183's portable interface as the `erc8183` Rust SDK (qntx/erc8183, crates.io) binds it —
/// what ERC-8183 clients call and the events they decode.
interface IERC8183Sdk {
    function createJob(address, address, uint256, string calldata, address) external returns (uint256);
    function setProvider(uint256, address, bytes calldata) external;
    function setBudget(uint256, uint256, bytes calldata) external;
    function fund(uint256, uint256, bytes calldata) external;
    function submit(uint256, bytes32, bytes calldata) external;
    function complete(uint256, bytes32, bytes calldata) external;
    function reject(uint256, bytes32, bytes calldata) external;
    function claimRefund(uint256) external;
}

/// ERC-8183's lifecycle on agnt2's kernel: every allowed transition, and the refused ones.
contract AgenticCommerceTest {
    VmAcp constant vm = VmAcp(address(uint160(uint256(keccak256("hevm cheat code")))));
    address constant CLIENT = address(0xC11);
    address constant PROVIDER = address(0x9A0);
    address constant EVALUATOR = address(0xE7A);
    address constant TREASURY = address(0x7EA);
    address constant ANYONE = address(0xA11);

    TestToken token;
    AgenticCommerce acp;

    function setUp() public {
        token = new TestToken();
        acp = new AgenticCommerce(IERC20Acp(address(token)), TREASURY, 100); // 1 % fee
        token.mint(CLIENT, 1_000);
        vm.prank(CLIENT);
        token.approve(address(acp), type(uint256).max);
    }

    function _funded(uint256 budget) internal returns (uint256 id) {
        vm.prank(CLIENT);
        id = acp.createJob(PROVIDER, EVALUATOR, block.timestamp + 1 days, "summarise the chain's day");
        vm.prank(PROVIDER);
        acp.setBudget(id, budget); // the provider proposes the price
        vm.prank(CLIENT);
        acp.fund(id, budget);
    }

    function _eq(uint256 a, uint256 b, string memory what) internal pure {
        require(a == b, what);
    }

    function test_submit_then_complete_pays_the_provider_less_the_fee() public {
        uint256 id = _funded(500);
        _eq(token.balanceOf(address(acp)), 500, "escrowed");
        // Only the provider submits; only the evaluator completes.
        vm.expectRevert(AgenticCommerce.Unauthorized.selector);
        vm.prank(CLIENT);
        acp.submit(id, keccak256("report"));
        vm.prank(PROVIDER);
        acp.submit(id, keccak256("report"), "");
        vm.expectRevert(AgenticCommerce.Unauthorized.selector);
        vm.prank(CLIENT);
        acp.complete(id, bytes32(0));
        vm.prank(EVALUATOR);
        acp.complete(id, keccak256("checked"));
        _eq(token.balanceOf(PROVIDER), 495, "paid less 1 %");
        _eq(token.balanceOf(TREASURY), 5, "fee");
        _eq(token.balanceOf(address(acp)), 0, "nothing left");
        require(acp.getJob(id).status == AgenticCommerce.Status.Completed, "completed");
        // Terminal: nothing moves it again.
        vm.expectRevert(
            abi.encodeWithSelector(AgenticCommerce.InvalidStatus.selector, AgenticCommerce.Status.Completed)
        );
        vm.prank(EVALUATOR);
        acp.reject(id, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(AgenticCommerce.InvalidStatus.selector, AgenticCommerce.Status.Completed)
        );
        acp.claimRefund(id);
    }

    function test_rejections_follow_the_roles_and_refund_the_client() public {
        // Open: only the client rejects, nothing to refund.
        vm.prank(CLIENT);
        uint256 open = acp.createJob(PROVIDER, EVALUATOR, block.timestamp + 1 days, "x");
        vm.expectRevert(AgenticCommerce.Unauthorized.selector);
        vm.prank(EVALUATOR);
        acp.reject(open, bytes32(0));
        vm.prank(CLIENT);
        acp.reject(open, bytes32(0));
        // Funded: only the evaluator rejects; the client cannot pull funds back.
        uint256 id = _funded(300);
        vm.expectRevert(AgenticCommerce.Unauthorized.selector);
        vm.prank(CLIENT);
        acp.reject(id, bytes32(0));
        vm.prank(EVALUATOR);
        acp.reject(id, keccak256("no show"));
        _eq(token.balanceOf(CLIENT), 1_000, "refunded in full, no fee");
    }

    function test_expiry_refunds_once_whoever_asks() public {
        uint256 id = _funded(200);
        vm.prank(PROVIDER);
        acp.submit(id, keccak256("late"));
        vm.expectRevert(AgenticCommerce.NotExpired.selector);
        acp.claimRefund(id);
        vm.warp(block.timestamp + 1 days);
        vm.prank(ANYONE);
        acp.claimRefund(id);
        _eq(token.balanceOf(CLIENT), 1_000, "refunded");
        // A second claim of the same budget is refused.
        vm.expectRevert(abi.encodeWithSelector(AgenticCommerce.InvalidStatus.selector, AgenticCommerce.Status.Expired));
        acp.claimRefund(id);
        // And the evaluator can no longer complete it.
        vm.expectRevert(abi.encodeWithSelector(AgenticCommerce.InvalidStatus.selector, AgenticCommerce.Status.Expired));
        vm.prank(EVALUATOR);
        acp.complete(id, bytes32(0));
    }

    function test_funding_checks_provider_price_and_what_arrived() public {
        vm.prank(CLIENT);
        uint256 id = acp.createJob(address(0), EVALUATOR, block.timestamp + 1 days, "open to bids");
        vm.prank(CLIENT);
        acp.setBudget(id, 100);
        // No provider yet.
        vm.expectRevert(AgenticCommerce.InvalidJob.selector);
        vm.prank(CLIENT);
        acp.fund(id, 100);
        vm.prank(CLIENT);
        acp.setProvider(id, PROVIDER);
        // Set once.
        vm.expectRevert(AgenticCommerce.InvalidJob.selector);
        vm.prank(CLIENT);
        acp.setProvider(id, ANYONE);
        // The provider raises the price after the client looked: the client's fund fails.
        vm.prank(PROVIDER);
        acp.setBudget(id, 900);
        vm.expectRevert(AgenticCommerce.BudgetMismatch.selector);
        vm.prank(CLIENT);
        acp.fund(id, 100);
        // A stranger cannot set the price.
        vm.expectRevert(AgenticCommerce.Unauthorized.selector);
        vm.prank(ANYONE);
        acp.setBudget(id, 1);
        vm.prank(CLIENT);
        acp.fund(id, 900);
        _eq(token.balanceOf(address(acp)), 900, "escrowed");
        // Hooks are not run by this kernel: refused rather than ignored.
        vm.expectRevert(AgenticCommerce.HooksNotSupported.selector);
        acp.createJob(PROVIDER, EVALUATOR, block.timestamp + 1 days, "x", address(0xB00C));
        // A job must have an evaluator and a future expiry.
        vm.expectRevert(AgenticCommerce.InvalidJob.selector);
        acp.createJob(PROVIDER, address(0), block.timestamp + 1, "x");
        vm.expectRevert(AgenticCommerce.InvalidJob.selector);
        acp.createJob(PROVIDER, EVALUATOR, block.timestamp, "x");
    }

    function test_the_abi_is_the_portable_ierc8183_one() public view {
        bytes4[8] memory sdk = [
            IERC8183Sdk.createJob.selector,
            IERC8183Sdk.setProvider.selector,
            IERC8183Sdk.setBudget.selector,
            IERC8183Sdk.fund.selector,
            IERC8183Sdk.submit.selector,
            IERC8183Sdk.complete.selector,
            IERC8183Sdk.reject.selector,
            IERC8183Sdk.claimRefund.selector
        ];
        bytes4[8] memory ours = [
            bytes4(keccak256("createJob(address,address,uint256,string,address)")),
            bytes4(keccak256("setProvider(uint256,address,bytes)")),
            bytes4(keccak256("setBudget(uint256,uint256,bytes)")),
            bytes4(keccak256("fund(uint256,uint256,bytes)")),
            bytes4(keccak256("submit(uint256,bytes32,bytes)")),
            bytes4(keccak256("complete(uint256,bytes32,bytes)")),
            bytes4(keccak256("reject(uint256,bytes32,bytes)")),
            AgenticCommerce.claimRefund.selector
        ];
        for (uint256 i = 0; i < 8; i++) {
            require(sdk[i] == ours[i], "selector differs");
        }
        // The events the SDK decodes (JobCreated carries the hook).
        require(
            AgenticCommerce.JobCreated.selector
                == keccak256("JobCreated(uint256,address,address,address,uint256,address)"),
            "JobCreated"
        );
        require(AgenticCommerce.JobSubmitted.selector == keccak256("JobSubmitted(uint256,address,bytes32)"), "sub");
        require(
            AgenticCommerce.PaymentReleased.selector == keccak256("PaymentReleased(uint256,address,uint256)"), "pay"
        );
        // Every overload the SDK calls exists on the contract (a call through its interface
        // reaches the kernel).
        require(address(acp).code.length > 0, "deployed");
    }

    function test_the_sdk_interface_drives_a_job_through() public {
        IERC8183Sdk sdk = IERC8183Sdk(address(acp));
        vm.prank(CLIENT);
        uint256 id = sdk.createJob(address(0), EVALUATOR, block.timestamp + 1 days, "via the SDK ABI", address(0));
        vm.prank(CLIENT);
        sdk.setProvider(id, PROVIDER, "");
        vm.prank(CLIENT);
        sdk.setBudget(id, 100, "");
        vm.prank(CLIENT);
        sdk.fund(id, 100, "");
        vm.prank(PROVIDER);
        sdk.submit(id, keccak256("d"), "");
        vm.prank(EVALUATOR);
        sdk.complete(id, bytes32(0), "");
        _eq(token.balanceOf(PROVIDER), 99, "paid");
    }

    function test_a_fee_on_transfer_token_cannot_underfund_the_escrow() public {
        FeeToken fee = new FeeToken();
        AgenticCommerce a = new AgenticCommerce(IERC20Acp(address(fee)), address(0), 0);
        fee.mint(CLIENT, 1_000);
        vm.prank(CLIENT);
        fee.approve(address(a), 1_000);
        vm.prank(CLIENT);
        uint256 id = a.createJob(PROVIDER, EVALUATOR, block.timestamp + 1 days, "x");
        vm.prank(CLIENT);
        a.setBudget(id, 500);
        vm.expectRevert(AgenticCommerce.TransferFailed.selector);
        vm.prank(CLIENT);
        a.fund(id, 500);
    }
}
