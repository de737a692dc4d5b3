//! The rollup calls of channels: the adjudicator's record, opening channels in bulk, and the
//! agent-precompile checks of session keys, as [`ChannelCalls`] on the shared JSON-RPC client.

use crate::state::{Adjudicator, Side};
pub use agnt2_client::{Client as L2, hex_u64};
use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use eyre::WrapErr;

alloy_sol_types::sol! {
    /// The two agent-precompile reads the hub makes.
    interface IAgentChecks {
        function ownerOf(uint256 agentId) external view returns (address);
        function isValid(uint256 agentId, address key, address counterparty) external view returns (bool);
        struct Session {
            address key;
            uint64 expiry;
            uint256 spendLimit;
            uint256 spent;
            address[] counterparties;
        }
        function get(uint256 agentId, address key) external view returns (Session memory);
    }
}

/// The IdentityRegistry precompile.
pub const IDENTITY: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x04]);
/// The Sessions precompile.
pub const SESSIONS: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x08]);

/// `Adjudicator.open` of an ETH channel to `b` without agents: `deposit` wei, challenge window
/// `window` seconds.
pub fn open_eth_call(b: Address, nonce: u64, window: u64, deposit: U256) -> Adjudicator::openCall {
    Adjudicator::openCall {
        b,
        token: Address::ZERO,
        nonce,
        challengeDuration: alloy_primitives::aliases::U48::from(window),
        agentA: U256::ZERO,
        agentB: U256::ZERO,
        amount: deposit,
    }
}

/// Channel calls on the rollup's JSON-RPC.
pub trait ChannelCalls {
    /// The adjudicator's record of channel `id`.
    fn channel(&self, adjudicator: Address, id: B256) -> eyre::Result<Adjudicator::Channel>;

    /// Funds each agent with `fund` wei from `funder`, then has each open an ETH channel with
    /// `counterparty` on `adjudicator` (nonce `nonce`, challenge window `window` seconds)
    /// depositing `deposit`. Transactions go out in batches; returns the channels.
    #[allow(clippy::too_many_arguments)]
    fn open_channels(
        &self,
        funder: &PrivateKeySigner,
        adjudicator: Address,
        counterparty: Address,
        agents: &[crate::Key],
        fund: U256,
        deposit: U256,
        nonce: u64,
        window: u64,
    ) -> eyre::Result<Vec<crate::ChannelParams>>;

    /// The owner of agent `id` (IdentityRegistry `ownerOf`).
    fn agent_owner(&self, id: U256) -> eyre::Result<Address>;
    /// The parameters channel `id` was opened with on `adjudicator` (its `ChannelOpened`
    /// event; the counterparty of a channel learns the nonce there).
    fn opened(&self, adjudicator: Address, id: B256) -> eyre::Result<crate::ChannelParams>;

    /// Whether `key` is a valid session key of agent `id` for `counterparty` (zero: any).
    fn session_valid(&self, id: U256, key: Address, counterparty: Address) -> eyre::Result<bool>;

    /// The side of channel `id` that session key `key` is admitted to sign for, and its cap
    /// (`Adjudicator.signers`); `None` when it is not admitted.
    fn admitted(
        &self,
        adjudicator: Address,
        id: B256,
        key: Address,
    ) -> eyre::Result<Option<Admitted>>;

    /// The expiry (unix seconds, inclusive) of `key`'s session of agent `id`.
    fn session_expiry(&self, id: U256, key: Address) -> eyre::Result<u64>;
}

/// A session key admitted to one side of a channel: its signatures count for that side for the
/// channel's life, within `cap` of what the side deposited ([`crate::state::outflow`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// The side it signs for.
    pub side: Side,
    /// The most a state it signs may leave that side short of its deposits.
    pub cap: U256,
}

impl Admitted {
    /// Refuses a state this key may not sign for its side.
    pub fn check(&self, state: &crate::State) -> Result<(), String> {
        let out = crate::state::outflow(state, self.side);
        if out > self.cap {
            return Err(format!(
                "the session key's cap on this channel is {} wei; this state would move {out} wei                  out of its side",
                self.cap
            ));
        }
        Ok(())
    }
}

/// The shortest challenge window a hub or sidecar accepts on `adjudicator`: the adjudicator's
/// own minimum (which it enforces at `open`), raised to `policy` when that is longer. An
/// adjudicator without a minimum (deployed before it existed) needs an explicit `policy`.
pub fn challenge_window_policy(
    l2: &L2,
    adjudicator: Address,
    policy: Option<u64>,
) -> eyre::Result<u64> {
    let onchain =
        l2.view(adjudicator, &Adjudicator::MIN_CHALLENGE_DURATIONCall {}).map(|v| v.to::<u64>());
    match (onchain, policy) {
        (Ok(min), policy) => Ok(min.max(policy.unwrap_or(0))),
        (Err(_), Some(policy)) => Ok(policy),
        (Err(e), None) => Err(e).wrap_err(format!(
            "the adjudicator {adjudicator} has no MIN_CHALLENGE_DURATION (deployed before the \
             minimum existed): give --min-challenge-window, or deploy a new one"
        )),
    }
}

/// Refuses a channel whose challenge window is shorter than `min` seconds.
pub fn check_challenge_window(channel: &Adjudicator::Channel, min: u64) -> Result<(), String> {
    let window = channel.challengeDuration.to::<u64>();
    if window < min {
        return Err(format!(
            "the channel's challenge window is {window} s; this service takes channels of at \
             least {min} s (a shorter one could be disputed and settled before a refute lands)"
        ));
    }
    Ok(())
}

impl ChannelCalls for L2 {
    fn channel(&self, adjudicator: Address, id: B256) -> eyre::Result<Adjudicator::Channel> {
        self.view(adjudicator, &Adjudicator::getChannelCall { id })
            .wrap_err("reading getChannel (is this the adjudicator?)")
    }

    fn open_channels(
        &self,
        funder: &PrivateKeySigner,
        adjudicator: Address,
        counterparty: Address,
        agents: &[crate::Key],
        fund: U256,
        deposit: U256,
        nonce: u64,
        window: u64,
    ) -> eyre::Result<Vec<crate::ChannelParams>> {
        let chain_id = self.chain_id()?;
        let fees = self.fees()?;
        let start = self.nonce(funder.address())?;
        let mut raws = Vec::with_capacity(agents.len());
        for (i, a) in agents.iter().enumerate() {
            raws.push(Self::sign_tx(
                funder,
                chain_id,
                start + i as u64,
                fees,
                21_000,
                Some(a.address()),
                fund,
                vec![],
            )?);
        }
        self.send_all(&raws)?;
        let mut raws = Vec::with_capacity(agents.len());
        let mut out = Vec::with_capacity(agents.len());
        for a in agents {
            let signer = PrivateKeySigner::from_bytes(&a.secret_bytes())?;
            let call = open_eth_call(counterparty, nonce, window, deposit);
            let n = self.nonce(a.address())?;
            raws.push(Self::sign_tx(
                &signer,
                chain_id,
                n,
                fees,
                300_000,
                Some(adjudicator),
                deposit,
                call.abi_encode(),
            )?);
            out.push(crate::ChannelParams {
                chain_id,
                adjudicator,
                a: a.address(),
                b: counterparty,
                token: Address::ZERO,
                nonce,
            });
        }
        self.send_all(&raws)?;
        Ok(out)
    }

    /// The owner of agent `id` (IdentityRegistry `ownerOf`).
    fn agent_owner(&self, id: U256) -> eyre::Result<Address> {
        self.view(IDENTITY, &IAgentChecks::ownerOfCall { agentId: id })
            .wrap_err_with(|| format!("ownerOf({id})"))
    }

    fn opened(&self, adjudicator: Address, id: B256) -> eyre::Result<crate::ChannelParams> {
        use alloy_sol_types::SolEvent;
        let logs = self.logs_topic(adjudicator, Adjudicator::ChannelOpened::SIGNATURE_HASH, id)?;
        let log = logs.first().ok_or_else(|| eyre::eyre!("no channel {id} on {adjudicator}"))?;
        let e = Adjudicator::ChannelOpened::decode_log(&log.inner)
            .map_err(|e| eyre::eyre!("ChannelOpened of {id}: {e}"))?
            .data;
        let params = crate::ChannelParams {
            chain_id: self.chain_id()?,
            adjudicator,
            a: e.a,
            b: e.b,
            token: e.token,
            nonce: e.nonce,
        };
        if params.id() != id {
            eyre::bail!("the ChannelOpened event of {id} names parameters of another channel");
        }
        Ok(params)
    }

    /// Whether `key` is a valid session key of agent `id` for `counterparty` (zero: any).
    fn session_valid(&self, id: U256, key: Address, counterparty: Address) -> eyre::Result<bool> {
        self.view(SESSIONS, &IAgentChecks::isValidCall { agentId: id, key, counterparty })
    }

    fn admitted(
        &self,
        adjudicator: Address,
        id: B256,
        key: Address,
    ) -> eyre::Result<Option<Admitted>> {
        let r = self
            .view(adjudicator, &Adjudicator::signersCall { id, key })
            .wrap_err("reading signers (is this adjudicator older than signer admission?)")?;
        Ok(match r.side {
            1 => Some(Admitted { side: Side::A, cap: r.cap }),
            2 => Some(Admitted { side: Side::B, cap: r.cap }),
            _ => None,
        })
    }

    /// The expiry (unix seconds, inclusive) of `key`'s session of agent `id`.
    fn session_expiry(&self, id: U256, key: Address) -> eyre::Result<u64> {
        Ok(self.view(SESSIONS, &IAgentChecks::getCall { agentId: id, key })?.expiry)
    }
}
