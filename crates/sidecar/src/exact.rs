//! x402's `exact` scheme on agnt2 (EIP-3009 `transferWithAuthorization`): the payload an x402
//! client signs, what a facilitator checks before settling it, and the settling call.
//!
//! Checks, in the order a facilitator makes them (`verify`): the scheme and network are this
//! chain's; the authorization pays exactly `amount` to `payTo`; its window is open (valid after
//! has passed, valid before is at least [`MIN_VALIDITY`] away, so the settlement can land); the
//! signature is the payer's over the EIP-712 digest under the domain the requirements name
//! (`extra.name`, `extra.version`, the chain, the asset); and on chain — the nonce unused and the
//! payer's balance enough.

use agnt2_client::Client;
use alloy_primitives::{Address, B256, Bytes, Signature, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{Eip712Domain, SolCall, SolStruct};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The scheme's name.
pub const SCHEME: &str = "exact";

/// Seconds an authorization must still be valid for when it is verified.
pub const MIN_VALIDITY: u64 = 6;

#[allow(missing_docs)]
mod bindings {
    alloy_sol_types::sol! {
        /// EIP-3009's typed data.
        struct TransferWithAuthorization {
            address from;
            address to;
            uint256 value;
            uint256 validAfter;
            uint256 validBefore;
            bytes32 nonce;
        }

        /// The token calls a facilitator makes.
        interface IEip3009 {
            function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature) external;
            function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
            function balanceOf(address who) external view returns (uint256);
            function eip712Domain() external view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions);
        }
    }
}
pub use bindings::{IEip3009, TransferWithAuthorization};

/// What a resource server asks for (x402 v2 `PaymentRequirements`, the fields `exact` reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirements {
    /// `exact`.
    pub scheme: String,
    /// CAIP-2: `eip155:<chain id>`.
    pub network: String,
    /// The price in the asset's smallest unit (a decimal string).
    pub amount: String,
    /// The token.
    pub asset: Address,
    /// The payee.
    pub pay_to: Address,
    /// Seconds the client may take.
    #[serde(default)]
    pub max_timeout_seconds: u64,
    /// The token's EIP-712 domain: `{"name", "version"}`.
    #[serde(default)]
    pub extra: serde_json::Value,
}

/// EIP-3009's parameters as x402 carries them (numbers as decimal strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// The payer.
    pub from: Address,
    /// The payee.
    pub to: Address,
    /// The amount.
    pub value: String,
    /// Unix seconds after which it is valid.
    pub valid_after: String,
    /// Unix seconds before which it is valid.
    pub valid_before: String,
    /// 32 random bytes.
    pub nonce: B256,
}

/// The `exact` payload: the authorization and the payer's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExactPayload {
    /// What was signed.
    pub authorization: Authorization,
    /// 65 bytes, `r ‖ s ‖ v`.
    pub signature: Bytes,
}

/// Why a payment is refused (x402's `invalidReason` names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// Not `exact`.
    #[error("unsupported_scheme")]
    Scheme,
    /// Another chain.
    #[error("invalid_network")]
    Network,
    /// Paid to someone else than `payTo`.
    #[error("invalid_exact_evm_payload_recipient_mismatch")]
    Recipient,
    /// Another amount than asked.
    #[error("invalid_exact_evm_payload_authorization_value")]
    Value,
    /// Not valid yet.
    #[error("invalid_exact_evm_payload_authorization_valid_after")]
    NotYetValid,
    /// Expired, or too close to expiring to settle.
    #[error("invalid_exact_evm_payload_authorization_valid_before")]
    Expired,
    /// Not the payer's signature (or no EIP-712 domain named).
    #[error("invalid_exact_evm_payload_signature")]
    Signature,
    /// The nonce was used or canceled.
    #[error("invalid_exact_evm_payload_authorization_nonce_used")]
    NonceUsed,
    /// The payer holds less than the amount.
    #[error("insufficient_funds")]
    Funds,
    /// A field that does not parse.
    #[error("invalid_payload")]
    Malformed,
}

fn num(s: &str) -> Result<U256, Invalid> {
    s.parse::<U256>().map_err(|_| Invalid::Malformed)
}

impl ExactPayload {
    /// The typed data signed.
    pub fn typed(&self) -> Result<TransferWithAuthorization, Invalid> {
        let a = &self.authorization;
        Ok(TransferWithAuthorization {
            from: a.from,
            to: a.to,
            value: num(&a.value)?,
            validAfter: num(&a.valid_after)?,
            validBefore: num(&a.valid_before)?,
            nonce: a.nonce,
        })
    }

    /// The checks that need no chain, at unix time `now` on chain `chain_id`; the payer.
    pub fn check(&self, req: &Requirements, chain_id: u64, now: u64) -> Result<Address, Invalid> {
        if req.scheme != SCHEME {
            return Err(Invalid::Scheme);
        }
        if req.network != format!("eip155:{chain_id}") {
            return Err(Invalid::Network);
        }
        let t = self.typed()?;
        if t.to != req.pay_to {
            return Err(Invalid::Recipient);
        }
        if t.value != num(&req.amount)? {
            return Err(Invalid::Value);
        }
        if t.validAfter >= U256::from(now) {
            return Err(Invalid::NotYetValid);
        }
        if t.validBefore < U256::from(now.saturating_add(MIN_VALIDITY)) {
            return Err(Invalid::Expired);
        }
        let (Some(name), Some(version)) =
            (req.extra["name"].as_str(), req.extra["version"].as_str())
        else {
            return Err(Invalid::Signature);
        };
        let domain = Eip712Domain::new(
            Some(name.to_string().into()),
            Some(version.to_string().into()),
            Some(U256::from(chain_id)),
            Some(req.asset),
            None,
        );
        let sig = Signature::try_from(self.signature.as_ref()).map_err(|_| Invalid::Signature)?;
        // Low s only, as the token checks.
        if sig.normalize_s().is_some() {
            return Err(Invalid::Signature);
        }
        let signer = sig
            .recover_address_from_prehash(&t.eip712_signing_hash(&domain))
            .map_err(|_| Invalid::Signature)?;
        if signer != t.from {
            return Err(Invalid::Signature);
        }
        Ok(t.from)
    }

    /// [`Self::check`], then the chain: the nonce unused, the balance enough.
    pub fn verify(
        &self,
        req: &Requirements,
        l2: &Client,
        now: u64,
    ) -> eyre::Result<Result<Address, Invalid>> {
        let payer = match self.check(req, l2.chain_id()?, now) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let a = &self.authorization;
        let used = l2.view(
            req.asset,
            &IEip3009::authorizationStateCall { authorizer: payer, nonce: a.nonce },
        )?;
        if used {
            return Ok(Err(Invalid::NonceUsed));
        }
        let held = l2.view(req.asset, &IEip3009::balanceOfCall { who: payer })?;
        if held < num(&a.value).unwrap_or(U256::MAX) {
            return Ok(Err(Invalid::Funds));
        }
        Ok(Ok(payer))
    }

    /// The settling call on the token.
    pub fn settle_call(&self) -> Result<IEip3009::transferWithAuthorizationCall, Invalid> {
        let t = self.typed()?;
        Ok(IEip3009::transferWithAuthorizationCall {
            from: t.from,
            to: t.to,
            value: t.value,
            validAfter: t.validAfter,
            validBefore: t.validBefore,
            nonce: t.nonce,
            signature: self.signature.clone(),
        })
    }
}

/// The `extra` of an `exact` requirement for `token`: its EIP-712 `name` and `version`, read
/// through EIP-5267's `eip712Domain()`; an error when the token does not publish them or
/// publishes another chain or address.
pub fn token_extra(l2: &Client, token: Address) -> eyre::Result<serde_json::Value> {
    let d = l2.view(token, &IEip3009::eip712DomainCall {}).map_err(|e| {
        eyre::eyre!("{token} does not answer eip712Domain() (EIP-5267), so its EIP-3009 domain is unknown: {e:#}")
    })?;
    let chain = U256::from(l2.chain_id()?);
    if d.chainId != chain || d.verifyingContract != token {
        eyre::bail!(
            "{token}'s eip712Domain() names chain {} and contract {}, not {chain} and itself",
            d.chainId,
            d.verifyingContract
        );
    }
    Ok(serde_json::json!({"name": d.name, "version": d.version}))
}

/// A settled payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The payer.
    pub payer: Address,
    /// The `transferWithAuthorization` transaction.
    pub transaction: B256,
}

/// Why a settlement did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The payment does not pass the checks.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The chain could not be asked, or the transaction failed.
    #[error("{0:#}")]
    Chain(#[from] eyre::Error),
}

/// Verifies and settles `exact` payments from one key: settlements go out one at a time (one
/// nonce sequence), and an authorization being served or settled is held, so the same one
/// presented twice at once is refused instead of being served twice and paid once.
#[derive(Debug)]
pub struct Settler {
    l2: Client,
    key: PrivateKeySigner,
    chain_id: u64,
    sending: parking_lot::Mutex<()>,
    held: Holds,
}

/// Authorizations being served or settled, by (payer, nonce).
#[derive(Debug, Default)]
pub struct Holds(parking_lot::Mutex<HashSet<(Address, B256)>>);

/// An authorization held by [`Holds::hold`]; released on drop.
#[derive(Debug)]
pub struct Held<'a> {
    holds: &'a Holds,
    id: (Address, B256),
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.holds.0.lock().remove(&self.id);
    }
}

impl Holds {
    /// Holds `p`'s authorization until the guard drops; refused while another holds it.
    pub fn hold(&self, p: &ExactPayload) -> Result<Held<'_>, Invalid> {
        let id = (p.authorization.from, p.authorization.nonce);
        if !self.0.lock().insert(id) {
            return Err(Invalid::NonceUsed);
        }
        Ok(Held { holds: self, id })
    }
}

impl Settler {
    /// Settles on the chain at `l2` from `key`.
    pub fn new(l2: Client, key: PrivateKeySigner) -> eyre::Result<Self> {
        let chain_id = l2.chain_id()?;
        Ok(Self { l2, key, chain_id, sending: parking_lot::Mutex::new(()), held: Holds::default() })
    }

    /// The chain's id.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The address settlements are sent from.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// The rollup.
    pub const fn l2(&self) -> &Client {
        &self.l2
    }

    /// [`ExactPayload::verify`] now.
    pub fn verify(
        &self,
        p: &ExactPayload,
        req: &Requirements,
    ) -> eyre::Result<Result<Address, Invalid>> {
        p.verify(req, &self.l2, crate::session::unix_now())
    }

    /// Holds `p`'s authorization until the guard drops ([`Holds::hold`]).
    pub fn hold(&self, p: &ExactPayload) -> Result<Held<'_>, Invalid> {
        self.held.hold(p)
    }

    /// Verifies `p` again and sends its `transferWithAuthorization`; waits for the receipt.
    pub fn settle(&self, p: &ExactPayload, req: &Requirements) -> Result<Settled, SettleError> {
        let _one = self.sending.lock();
        let payer = self.verify(p, req)??;
        let call = p.settle_call()?;
        let r =
            self.l2.transact_receipt(&self.key, Some(req.asset), U256::ZERO, call.abi_encode())?;
        Ok(Settled { payer, transaction: r.transaction_hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    fn setup(value: &str, before: u64) -> (ExactPayload, Requirements, PrivateKeySigner) {
        let key = PrivateKeySigner::random();
        let req = Requirements {
            scheme: "exact".into(),
            network: "eip155:80042".into(),
            amount: "1500000".into(),
            asset: Address::repeat_byte(0xaa),
            pay_to: Address::repeat_byte(0xbb),
            max_timeout_seconds: 60,
            extra: serde_json::json!({"name": "agnt2 USD", "version": "1"}),
        };
        let auth = Authorization {
            from: key.address(),
            to: req.pay_to,
            value: value.into(),
            valid_after: "0".into(),
            valid_before: before.to_string(),
            nonce: B256::repeat_byte(7),
        };
        let mut p = ExactPayload { authorization: auth, signature: Bytes::new() };
        let domain = Eip712Domain::new(
            Some("agnt2 USD".into()),
            Some("1".into()),
            Some(U256::from(80042)),
            Some(req.asset),
            None,
        );
        let sig = key.sign_hash_sync(&p.typed().unwrap().eip712_signing_hash(&domain)).unwrap();
        p.signature = Bytes::from(sig.as_bytes().to_vec());
        (p, req, key)
    }

    #[test]
    fn the_payers_signature_over_the_terms_asked_passes_and_any_change_fails() {
        let (p, req, key) = setup("1500000", 1_000);
        assert_eq!(p.check(&req, 80042, 500), Ok(key.address()));
        assert_eq!(p.check(&req, 1, 500), Err(Invalid::Network));
        assert_eq!(p.check(&req, 80042, 995), Err(Invalid::Expired), "too close to expiry");
        let mut other = req.clone();
        other.pay_to = Address::repeat_byte(0xcc);
        assert_eq!(p.check(&other, 80042, 500), Err(Invalid::Recipient));
        other = req.clone();
        other.amount = "1500001".into();
        assert_eq!(p.check(&other, 80042, 500), Err(Invalid::Value));
        other = req.clone();
        other.extra = serde_json::json!({"name": "agnt2 USD", "version": "2"});
        assert_eq!(p.check(&other, 80042, 500), Err(Invalid::Signature), "another domain");
        other = req.clone();
        other.scheme = "upto".into();
        assert_eq!(p.check(&other, 80042, 500), Err(Invalid::Scheme));
        // The payload's own terms changed after signing.
        let mut changed = p.clone();
        changed.authorization.value = "1".into();
        other = req.clone();
        other.amount = "1".into();
        assert_eq!(changed.check(&other, 80042, 500), Err(Invalid::Signature));
        let mut bad = p.clone();
        bad.authorization.value = "not a number".into();
        assert_eq!(bad.check(&req, 80042, 500), Err(Invalid::Malformed));
        // The high-s twin of the signature.
        let sig = Signature::try_from(p.signature.as_ref()).unwrap();
        let n = U256::from_str_radix(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
            16,
        )
        .unwrap();
        let twin = Signature::new(sig.r(), n - sig.s(), !sig.v());
        let mut high = p;
        high.signature = Bytes::from(twin.as_bytes().to_vec());
        assert_eq!(high.check(&req, 80042, 500), Err(Invalid::Signature));
    }

    #[test]
    fn an_authorization_is_held_once_at_a_time() {
        let (p, _, _) = setup("1", 1_000);
        let holds = Holds::default();
        let first = holds.hold(&p).unwrap();
        assert_eq!(holds.hold(&p).unwrap_err(), Invalid::NonceUsed, "held twice at once");
        let mut other = p.clone();
        other.authorization.nonce = B256::repeat_byte(8);
        assert!(holds.hold(&other).is_ok(), "another nonce is another authorization");
        drop(first);
        assert!(holds.hold(&p).is_ok(), "released on drop");
    }
}
