//! A duty board on an L2 from an agent's side: what `agnt2 duty|bond|probe` do, as a library
//! for agents written in Rust.

use crate::{IDutyBoard, IProbeVerifier, Probe, SignedProbe, evidence, probe_domain};
use agnt2_client::{AnyTransactionReceipt, Client};
use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent, SolStruct};
use eyre::{WrapErr, bail, eyre};
use std::time::{Duration, Instant};

/// The parameters of a duty paid in ETH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDuty {
    /// The funder's agent (the key must own it).
    pub funder_agent: U256,
    /// Its kind, also the bond role operators need (`role("rpc")`, …).
    pub kind: B256,
    /// Where it is described.
    pub spec: String,
    /// Pay per unit (wei).
    pub rate: U256,
    /// The most units paid.
    pub units_cap: u64,
    /// Seconds per unit (epoch).
    pub epoch: u64,
    /// The bond an operator locks.
    pub min_bond: U256,
    /// The verifier counting units.
    pub verifier: Address,
    /// The escrow sent.
    pub escrow: U256,
}

/// What a claim paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    /// The units asked about, `[from, to)`.
    pub range: (u64, u64),
    /// Units paid.
    pub units: u64,
    /// Wei paid.
    pub amount: U256,
    /// The claim's transaction.
    pub tx: B256,
}

/// What a slash took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slash {
    /// The operator slashed.
    pub operator_agent: U256,
    /// Wei taken from its bond.
    pub amount: U256,
    /// The reporter's share of it.
    pub reporter_share: U256,
    /// The slash's transaction.
    pub tx: B256,
}

/// A probe made and why it is not ok (empty when it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// The signed probe.
    pub probe: SignedProbe,
    /// Why the endpoint was not ok.
    pub why: String,
}

/// What a probe checks, by the kind of duty.
#[derive(Debug, Clone)]
pub enum Check {
    /// An RPC / follower duty: the endpoint answers for this chain with a head at most
    /// `max_lag` blocks behind the prober's node.
    Rpc {
        /// Blocks of slack.
        max_lag: u64,
    },
    /// A sequencer duty: the endpoint is the operator's sequencer, and the prober's node — a
    /// follower deriving the chain from the L1 alone — has a safe head at most `max_safe_age`
    /// seconds old whose block the sequencer serves with the same hash: the operator's blocks
    /// are what derivation made of its batches.
    SafeHead {
        /// Seconds.
        max_safe_age: u64,
        /// The prober's follower (default: the board's node).
        follower: Option<Client>,
    },
    /// A batcher duty: the prober's follower's safe head is at most `max_safe_age` seconds old
    /// — the chain's batches are being posted and accepted by derivation (the endpoint is not
    /// asked).
    Batches {
        /// Seconds.
        max_safe_age: u64,
        /// The prober's follower (default: the board's node).
        follower: Option<Client>,
    },
}

/// A duty board at an address on an L2.
#[derive(Debug, Clone)]
pub struct Board {
    l2: Client,
    address: Address,
}

impl Board {
    /// The board at `address` on the L2 `l2`.
    pub const fn at(l2: Client, address: Address) -> Self {
        Self { l2, address }
    }

    /// Its address.
    pub const fn address(&self) -> Address {
        self.address
    }

    /// The L2 it is on.
    pub const fn l2(&self) -> &Client {
        &self.l2
    }

    fn send(
        &self,
        key: &PrivateKeySigner,
        value: U256,
        call: impl SolCall,
    ) -> eyre::Result<AnyTransactionReceipt> {
        self.l2.transact_receipt(key, Some(self.address), value, call.abi_encode())
    }

    fn event<E: SolEvent>(r: &AnyTransactionReceipt, what: &str) -> eyre::Result<E> {
        r.logs()
            .iter()
            .find_map(|l| E::decode_log(&l.inner).ok().map(|e| e.data))
            .ok_or_else(|| eyre!("the {what} {} emitted no {}", r.transaction_hash, E::SIGNATURE))
    }

    /// Posts a duty; its id.
    pub fn post(&self, key: &PrivateKeySigner, d: &NewDuty) -> eyre::Result<U256> {
        let call = IDutyBoard::postDutyCall {
            funderAgentId: d.funder_agent,
            kind: d.kind,
            specURI: d.spec.clone(),
            token: Address::ZERO,
            ratePerUnit: d.rate,
            unitsCap: d.units_cap,
            epochLength: d.epoch,
            minBond: d.min_bond,
            verifier: d.verifier,
            escrow: d.escrow,
        };
        let r = self.send(key, d.escrow, call).wrap_err("posting the duty")?;
        Ok(Self::event::<IDutyBoard::DutyPosted>(&r, "post")?.dutyId)
    }

    /// Takes `duty` as `agent`, naming `signer` as the key that signs its work.
    pub fn accept(
        &self,
        key: &PrivateKeySigner,
        duty: U256,
        agent: U256,
        signer: Address,
    ) -> eyre::Result<B256> {
        let call = IDutyBoard::acceptDutyCall { dutyId: duty, operatorAgentId: agent, signer };
        Ok(self.send(key, U256::ZERO, call).wrap_err("accepting the duty")?.transaction_hash)
    }

    /// Bonds `amount` for `role` as `agent`; the bond afterwards (amount, locked).
    pub fn bond(
        &self,
        key: &PrivateKeySigner,
        agent: U256,
        role: B256,
        amount: U256,
    ) -> eyre::Result<(U256, U256, B256)> {
        let r = self.send(key, amount, IDutyBoard::bondCall { agentId: agent, role })?;
        let b = self.l2.view(self.address, &IDutyBoard::bondsCall { agentId: agent, role })?;
        Ok((b.amount, b.locked, r.transaction_hash))
    }

    /// Claims the units before `to` (default: every finished one) with `probes`.
    pub fn claim(
        &self,
        key: &PrivateKeySigner,
        duty: U256,
        to: Option<u64>,
        probes: Vec<SignedProbe>,
    ) -> eyre::Result<Paid> {
        let to = match to {
            Some(t) => t,
            None => self.current_unit(duty)?,
        };
        let call = IDutyBoard::claimCall { dutyId: duty, to, evidence: evidence(probes)? };
        let r = self.send(key, U256::ZERO, call).wrap_err("claiming")?;
        let e = Self::event::<IDutyBoard::UnitsPaid>(&r, "claim")?;
        Ok(Paid { range: (e.from, e.to), units: e.units, amount: e.amount, tx: r.transaction_hash })
    }

    /// Slashes the operator of `duty` for the missed units `[from, to)` the probes show.
    pub fn slash_missed(
        &self,
        key: &PrivateKeySigner,
        duty: U256,
        (from, to): (u64, u64),
        probes: Vec<SignedProbe>,
    ) -> eyre::Result<Slash> {
        let call =
            IDutyBoard::slashMissedCall { dutyId: duty, from, to, evidence: evidence(probes)? };
        self.slash(key, call)
    }

    /// Slashes the operator of `duty` whose owner disputed `channel` (with the funder, on the
    /// board's Adjudicator) with a stale state and was refuted.
    pub fn slash_refuted(
        &self,
        key: &PrivateKeySigner,
        duty: U256,
        channel: B256,
    ) -> eyre::Result<Slash> {
        let call = IDutyBoard::slashRefutedDisputeCall { dutyId: duty, channelId: channel };
        self.slash(key, call)
    }

    /// Slashes the operator of `duty` for two different blocks its signer signed at `height`,
    /// each given as (hash, 65-byte signature) — what `optimism_blockSignature` serves.
    pub fn slash_equivocation(
        &self,
        key: &PrivateKeySigner,
        duty: U256,
        height: u64,
        (hash_a, sig_a): (B256, alloy_primitives::Bytes),
        (hash_b, sig_b): (B256, alloy_primitives::Bytes),
    ) -> eyre::Result<Slash> {
        let call = IDutyBoard::slashEquivocationCall {
            dutyId: duty,
            height,
            hashA: hash_a,
            sigA: sig_a,
            hashB: hash_b,
            sigB: sig_b,
        };
        self.slash(key, call)
    }

    /// Sends a slashing call; what its `Slashed` event says.
    fn slash(&self, key: &PrivateKeySigner, call: impl SolCall) -> eyre::Result<Slash> {
        let r = self.send(key, U256::ZERO, call).wrap_err("slashing")?;
        let e = Self::event::<IDutyBoard::Slashed>(&r, "slash")?;
        Ok(Slash {
            operator_agent: e.operatorAgentId,
            amount: e.amount,
            reporter_share: e.reporterShare,
            tx: r.transaction_hash,
        })
    }

    /// Sends a call to the board that takes only the duty id (pause, resume, end, refund).
    pub fn act(&self, key: &PrivateKeySigner, call: impl SolCall) -> eyre::Result<B256> {
        Ok(self.send(key, U256::ZERO, call)?.transaction_hash)
    }

    /// The first unit not finished.
    pub fn current_unit(&self, duty: U256) -> eyre::Result<u64> {
        self.l2.view(self.address, &IDutyBoard::currentUnitCall { dutyId: duty })
    }

    /// Duty `id`; an error when it does not exist.
    pub fn duty(&self, id: U256) -> eyre::Result<IDutyBoard::Duty> {
        let d = self.l2.view(self.address, &IDutyBoard::getDutyCall { dutyId: id })?;
        if matches!(d.status, IDutyBoard::Status::None) {
            bail!("duty {id} does not exist on {}", self.address);
        }
        Ok(d)
    }

    /// How many duties were posted.
    pub fn count(&self) -> eyre::Result<U256> {
        self.l2.view(self.address, &IDutyBoard::dutyCountCall {})
    }

    /// Probes `endpoint` for `duty` as the prober `agent`: one request (no retries) answered
    /// within `timeout`, its chain and head checked against this board's node (at most `max_lag`
    /// blocks behind), signed for the duty's verifier — after checking the verifier's own digest
    /// is the EIP-712 one signed, so the chain cannot refuse the probe later.
    pub fn probe(
        &self,
        key: &PrivateKeySigner,
        duty: U256,
        agent: U256,
        endpoint: &str,
        check: Check,
        timeout: Duration,
    ) -> eyre::Result<Probed> {
        let d = self.duty(duty)?;
        // The epoch running now is the one this probe speaks for.
        let epoch = self.current_unit(duty)?;
        let chain_id = self.l2.chain_id()?;
        let started = Instant::now();
        let (ok, head_seen, why) = match check {
            Check::Rpc { max_lag } => {
                let mine = self.l2.block_number()?;
                let seen = Client::single_attempt(endpoint, timeout)
                    .and_then(|c| Ok((c.chain_id()?, c.block_number()?)));
                match seen {
                    Ok((id, _)) if id != chain_id => {
                        (false, 0, format!("serves chain {id}, not {chain_id}"))
                    }
                    Ok((_, head)) if head + max_lag < mine => {
                        (false, head, format!("head {head} trails {mine} by more than {max_lag}"))
                    }
                    Ok((_, head)) => (true, head, String::new()),
                    Err(e) => (false, 0, format!("{e:#}")),
                }
            }
            Check::SafeHead { max_safe_age, follower } => {
                let (safe, hash, age) = safe_head(follower.as_ref().unwrap_or(&self.l2))?;
                let theirs = Client::single_attempt(endpoint, timeout)
                    .and_then(|c| Ok((c.chain_id()?, c.header(safe)?.map(|h| h.hash))));
                match theirs {
                    _ if age > max_safe_age => (
                        false,
                        safe,
                        format!("the safe head {safe} is {age} s old (> {max_safe_age})"),
                    ),
                    Ok((id, _)) if id != chain_id => {
                        (false, 0, format!("serves chain {id}, not {chain_id}"))
                    }
                    Ok((_, Some(h))) if h == hash => (true, safe, String::new()),
                    Ok((_, Some(h))) => (
                        false,
                        safe,
                        format!("block {safe} is {h} there, but derivation made {hash}"),
                    ),
                    Ok((_, None)) => (false, safe, format!("it has no block {safe}")),
                    Err(e) => (false, 0, format!("{e:#}")),
                }
            }
            Check::Batches { max_safe_age, follower } => {
                let (safe, _, age) = safe_head(follower.as_ref().unwrap_or(&self.l2))?;
                if age > max_safe_age {
                    (false, safe, format!("the safe head {safe} is {age} s old (> {max_safe_age})"))
                } else {
                    (true, safe, String::new())
                }
            }
        };
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let probe = Probe {
            dutyId: duty,
            agentId: agent,
            epoch,
            ok,
            latencyMs: latency_ms,
            headSeen: head_seen,
        };
        let signed = SignedProbe::sign(probe, key, chain_id, d.verifier)?;
        let onchain = self
            .l2
            .view(d.verifier, &IProbeVerifier::probeDigestCall { p: signed.probe.clone() })?;
        let local = signed.probe.eip712_signing_hash(&probe_domain(chain_id, d.verifier));
        if onchain != local {
            bail!("the verifier's probe digest {onchain} is not the EIP-712 one {local}");
        }
        Ok(Probed { probe: signed, why })
    }
}

/// A node's safe head: number, hash, and age in seconds by the wall clock.
fn safe_head(node: &Client) -> eyre::Result<(u64, B256, u64)> {
    let h = node
        .tagged_header(alloy_eips::BlockNumberOrTag::Safe)?
        .ok_or_else(|| eyre!("{} has no safe head", node.url()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok((h.number, h.hash, now.saturating_sub(h.timestamp)))
}
