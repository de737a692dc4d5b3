// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AuthorizedToken} from "../src/x402/AuthorizedToken.sol";

interface VmToken {
    function prank(address) external;
    function warp(uint256) external;
    function expectRevert(bytes4) external;
    function addr(uint256) external pure returns (address);
    function sign(uint256, bytes32) external pure returns (uint8, bytes32, bytes32);
}

/// EIP-3009 as x402's `exact` scheme uses it: a payer's signed authorization moves exactly its
/// value to its payee, once, within its window, whoever submits it.
contract AuthorizedTokenTest {
    VmToken constant vm = VmToken(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 constant PAYER = 0xA11CE;
    uint256 constant PAYEE = 0xB0B;
    uint256 constant OTHER = 0xE7E;
    AuthorizedToken token;
    address payer;
    address payee;

    function setUp() public {
        token = new AuthorizedToken("agnt2 USD", "aUSD", 6, address(this));
        payer = vm.addr(PAYER);
        payee = vm.addr(PAYEE);
        token.mint(payer, 100e6);
        vm.warp(1_000_000);
    }

    function _sign(uint256 key, bytes32 typehash, address to, uint256 value, uint256 after_, uint256 before, bytes32 n)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 structHash = keccak256(abi.encode(typehash, vm.addr(key), to, value, after_, before, n));
        return vm.sign(key, keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash)));
    }

    function _transferSig(uint256 key, address to, uint256 value, bytes32 n)
        internal
        view
        returns (uint8, bytes32, bytes32)
    {
        return _sign(key, token.TRANSFER_WITH_AUTHORIZATION_TYPEHASH(), to, value, 0, 2_000_000, n);
    }

    function test_an_authorization_moves_its_value_once_whoever_submits_it() public {
        (uint8 v, bytes32 r, bytes32 s) = _transferSig(PAYER, payee, 1.5e6, bytes32(uint256(1)));
        vm.prank(vm.addr(OTHER));
        token.transferWithAuthorization(payer, payee, 1.5e6, 0, 2_000_000, bytes32(uint256(1)), v, r, s);
        require(token.balanceOf(payee) == 1.5e6 && token.balanceOf(payer) == 98.5e6, "moved");
        require(token.authorizationState(payer, bytes32(uint256(1))), "used");
        // A replay: refused.
        vm.expectRevert(AuthorizedToken.AuthorizationAlreadyUsed.selector);
        token.transferWithAuthorization(payer, payee, 1.5e6, 0, 2_000_000, bytes32(uint256(1)), v, r, s);
        // The bytes form of the same signature is the same authorization.
        vm.expectRevert(AuthorizedToken.AuthorizationAlreadyUsed.selector);
        token.transferWithAuthorization(
            payer, payee, 1.5e6, 0, 2_000_000, bytes32(uint256(1)), abi.encodePacked(r, s, v)
        );
    }

    function test_the_bytes_signature_form_works() public {
        (uint8 v, bytes32 r, bytes32 s) = _transferSig(PAYER, payee, 2e6, bytes32(uint256(2)));
        token.transferWithAuthorization(payer, payee, 2e6, 0, 2_000_000, bytes32(uint256(2)), abi.encodePacked(r, s, v));
        require(token.balanceOf(payee) == 2e6, "moved");
        vm.expectRevert(AuthorizedToken.InvalidSignature.selector);
        token.transferWithAuthorization(payer, payee, 2e6, 0, 2_000_000, bytes32(uint256(3)), hex"00");
    }

    function test_changed_terms_a_stranger_and_the_window_are_refused() public {
        bytes32 n = bytes32(uint256(4));
        (uint8 v, bytes32 r, bytes32 s) = _transferSig(PAYER, payee, 1e6, n);
        // Another payee or value than signed.
        vm.expectRevert(AuthorizedToken.InvalidSignature.selector);
        token.transferWithAuthorization(payer, vm.addr(OTHER), 1e6, 0, 2_000_000, n, v, r, s);
        vm.expectRevert(AuthorizedToken.InvalidSignature.selector);
        token.transferWithAuthorization(payer, payee, 2e6, 0, 2_000_000, n, v, r, s);
        // Signed by someone else for the payer's funds.
        (v, r, s) = _transferSig(OTHER, payee, 1e6, n);
        vm.expectRevert(AuthorizedToken.InvalidSignature.selector);
        token.transferWithAuthorization(payer, payee, 1e6, 0, 2_000_000, n, v, r, s);
        // The high-s twin of a valid signature.
        (v, r, s) = _transferSig(PAYER, payee, 1e6, n);
        bytes32 highS = bytes32(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 - uint256(s));
        vm.expectRevert(AuthorizedToken.InvalidSignature.selector);
        token.transferWithAuthorization(payer, payee, 1e6, 0, 2_000_000, n, v == 27 ? 28 : 27, r, highS);
        // Before its window and after it.
        bytes32 typehash = token.TRANSFER_WITH_AUTHORIZATION_TYPEHASH();
        (v, r, s) = _sign(PAYER, typehash, payee, 1e6, 1_500_000, 2_000_000, n);
        vm.expectRevert(AuthorizedToken.AuthorizationNotYetValid.selector);
        token.transferWithAuthorization(payer, payee, 1e6, 1_500_000, 2_000_000, n, v, r, s);
        (v, r, s) = _sign(PAYER, typehash, payee, 1e6, 0, 999_999, n);
        vm.expectRevert(AuthorizedToken.AuthorizationExpired.selector);
        token.transferWithAuthorization(payer, payee, 1e6, 0, 999_999, n, v, r, s);
        // More than the payer holds.
        (v, r, s) = _transferSig(PAYER, payee, 101e6, n);
        vm.expectRevert(AuthorizedToken.InsufficientBalance.selector);
        token.transferWithAuthorization(payer, payee, 101e6, 0, 2_000_000, n, v, r, s);
    }

    function test_receive_is_for_the_payee_only() public {
        bytes32 n = bytes32(uint256(5));
        bytes32 typehash = token.RECEIVE_WITH_AUTHORIZATION_TYPEHASH();
        (uint8 v, bytes32 r, bytes32 s) = _sign(PAYER, typehash, payee, 1e6, 0, 2_000_000, n);
        vm.expectRevert(AuthorizedToken.CallerMustBePayee.selector);
        token.receiveWithAuthorization(payer, payee, 1e6, 0, 2_000_000, n, v, r, s);
        // A transfer signature is not a receive signature.
        (uint8 tv, bytes32 tr, bytes32 ts) = _transferSig(PAYER, payee, 1e6, n);
        vm.prank(payee);
        vm.expectRevert(AuthorizedToken.InvalidSignature.selector);
        token.receiveWithAuthorization(payer, payee, 1e6, 0, 2_000_000, n, tv, tr, ts);
        vm.prank(payee);
        token.receiveWithAuthorization(payer, payee, 1e6, 0, 2_000_000, n, v, r, s);
        require(token.balanceOf(payee) == 1e6, "received");
    }

    function test_cancel_voids_a_nonce_and_only_the_payer_cancels() public {
        // The payer cancels an authorization it gave: it can no longer be used.
        bytes32 m = bytes32(uint256(6));
        (uint8 v, bytes32 r, bytes32 s) = _transferSig(PAYER, payee, 1e6, m);
        bytes32 cancelHash = keccak256(abi.encode(token.CANCEL_AUTHORIZATION_TYPEHASH(), payer, m));
        (uint8 cv, bytes32 cr, bytes32 cs) =
            vm.sign(PAYER, keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), cancelHash)));
        token.cancelAuthorization(payer, m, cv, cr, cs);
        vm.expectRevert(AuthorizedToken.AuthorizationAlreadyUsed.selector);
        token.transferWithAuthorization(payer, payee, 1e6, 0, 2_000_000, m, v, r, s);
        require(token.balanceOf(payee) == 0, "nothing moved");
        // Only the payer's signature cancels.
        bytes32 o = bytes32(uint256(7));
        cancelHash = keccak256(abi.encode(token.CANCEL_AUTHORIZATION_TYPEHASH(), payer, o));
        (cv, cr, cs) = vm.sign(OTHER, keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), cancelHash)));
        vm.expectRevert(AuthorizedToken.InvalidSignature.selector);
        token.cancelAuthorization(payer, o, cv, cr, cs);
    }

    function test_the_domain_is_published_and_only_the_minter_mints() public {
        (, string memory n, string memory version, uint256 chainId, address verifying,,) = token.eip712Domain();
        require(keccak256(bytes(n)) == keccak256("agnt2 USD") && keccak256(bytes(version)) == keccak256("1"), "d");
        require(chainId == block.chainid && verifying == address(token), "domain");
        vm.prank(payer);
        vm.expectRevert(AuthorizedToken.NotMinter.selector);
        token.mint(payer, 1);
    }
}
