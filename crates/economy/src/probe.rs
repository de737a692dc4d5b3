//! Probes: signing one, and the evidence (`abi.encode(Probe[], bytes[])`, ordered by epoch and
//! prober) a claim or a slash carries.

use crate::Probe;
use alloy_primitives::{Address, Bytes};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain};
use serde::{Deserialize, Serialize};

/// The verifier's EIP-712 domain: `("agnt2-probes", "1", chainId, verifier)`.
pub fn probe_domain(chain_id: u64, verifier: Address) -> Eip712Domain {
    eip712_domain! {
        name: "agnt2-probes",
        version: "1",
        chain_id: chain_id,
        verifying_contract: verifier,
    }
}

/// A probe with its signature, as `agnt2 probe` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedProbe {
    /// What was observed.
    pub probe: Probe,
    /// The prober's signature (65 bytes, `r ‖ s ‖ v`).
    pub signature: Bytes,
    /// Who signed it.
    pub signer: Address,
}

impl SignedProbe {
    /// Signs `probe` for the verifier at `verifier` on chain `chain_id`.
    pub fn sign(
        probe: Probe,
        key: &PrivateKeySigner,
        chain_id: u64,
        verifier: Address,
    ) -> eyre::Result<Self> {
        let digest = probe.eip712_signing_hash(&probe_domain(chain_id, verifier));
        let sig = key.sign_hash_sync(&digest)?;
        Ok(Self { probe, signature: Bytes::from(sig.as_bytes().to_vec()), signer: key.address() })
    }
}

/// The evidence for the board: the probes sorted by (epoch, agent) — duplicates of one prober
/// in one epoch are refused here rather than by the verifier on chain.
pub fn evidence(mut probes: Vec<SignedProbe>) -> eyre::Result<Bytes> {
    probes.sort_by_key(|p| (p.probe.epoch, p.probe.agentId));
    if let Some(w) = probes
        .windows(2)
        .find(|w| (w[0].probe.epoch, w[0].probe.agentId) == (w[1].probe.epoch, w[1].probe.agentId))
    {
        eyre::bail!(
            "agent {} probed epoch {} twice: keep one",
            w[0].probe.agentId,
            w[0].probe.epoch
        );
    }
    let sigs: Vec<Bytes> = probes.iter().map(|p| p.signature.clone()).collect();
    let list: Vec<Probe> = probes.into_iter().map(|p| p.probe).collect();
    Ok((list, sigs).abi_encode_params().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    fn probe(agent: u64, epoch: u64) -> Probe {
        Probe {
            dutyId: U256::from(1),
            agentId: U256::from(agent),
            epoch,
            ok: true,
            latencyMs: 3,
            headSeen: 9,
        }
    }

    #[test]
    fn evidence_is_sorted_and_refuses_a_prober_twice_in_an_epoch() {
        let key = PrivateKeySigner::random();
        let v = Address::repeat_byte(1);
        let s = |a, e| SignedProbe::sign(probe(a, e), &key, 7, v).unwrap();
        let ev = evidence(vec![s(3, 1), s(2, 1), s(4, 0)]).unwrap();
        let (list, sigs) = <(Vec<Probe>, Vec<Bytes>)>::abi_decode_params(&ev).unwrap();
        let order: Vec<(u64, u64)> =
            list.iter().map(|p| (p.epoch, p.agentId.to::<u64>())).collect();
        assert_eq!(order, vec![(0, 4), (1, 2), (1, 3)]);
        assert_eq!(sigs.len(), 3);
        assert!(evidence(vec![s(2, 1), s(2, 1)]).is_err());
        // The signature recovers to the prober over the EIP-712 digest.
        let one = s(5, 2);
        let digest = one.probe.eip712_signing_hash(&probe_domain(7, v));
        let sig = alloy_primitives::Signature::try_from(one.signature.as_ref()).unwrap();
        assert_eq!(sig.recover_address_from_prehash(&digest).unwrap(), key.address());
    }
}
