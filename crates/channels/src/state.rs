//! Channel parameters, ids, the EIP-712 state and the rules for a valid next state.

use crate::keys::Sig;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain};

// The generated constructor of `ChannelOpened` takes one argument per event field.
#[allow(clippy::too_many_arguments)]
mod abi {
    alloy_sol_types::sol! {
        /// The on-chain adjudicator (contracts/src/channels/Adjudicator.sol).
        #[derive(Debug, PartialEq, Eq)]
        contract Adjudicator {
            /// A channel state as both parties sign it (EIP-712).
            #[derive(Default)]
            struct State {
                bytes32 channelId;
                uint64 version;
                uint256 sentA;
                uint256 sentB;
                bytes32 appData;
                bool isFinal;
            }

            /// A channel as the adjudicator holds it.
            struct Channel {
                address a;
                address b;
                address token;
                uint48 challengeDuration;
                uint8 status;
                uint64 version;
                uint64 disputeEnd;
                uint256 agentA;
                uint256 agentB;
                uint256 depositA;
                uint256 depositB;
                uint256 sentA;
                uint256 sentB;
                uint256 owedA;
                uint256 owedB;
            }

            event ChannelOpened(bytes32 indexed channelId, address indexed a, address indexed b, address token, uint64 nonce, uint48 challengeDuration, uint256 agentA, uint256 agentB);
            event Deposited(bytes32 indexed channelId, address indexed participant, uint256 amount, uint256 deposit);
            event Disputed(bytes32 indexed channelId, uint64 version, uint64 disputeEnd, address indexed by);
            event Refuted(bytes32 indexed channelId, uint64 version, address indexed by);
            event Concluded(bytes32 indexed channelId, uint64 version, uint256 balanceA, uint256 balanceB, bool cooperative);
            event SignerAdmitted(bytes32 indexed channelId, address indexed key, uint8 side, uint256 cap);

            function open(address b, address token, uint64 nonce, uint48 challengeDuration, uint256 agentA, uint256 agentB, uint256 amount) external payable returns (bytes32 id);
            function deposit(bytes32 id, address participant, uint256 amount) external payable;
            function close(State s, bytes sigA, bytes sigB) external;
            function dispute(State s, bytes sigA, bytes sigB) external;
            function refute(State s, bytes sigA, bytes sigB) external;
            function settle(bytes32 id) external;
            function withdraw(bytes32 id, address to) external;
            function getChannel(bytes32 id) external view returns (Channel memory);
            function admit(bytes32 id, address key, uint256 cap) external;
            /// `cap` is a uint248 on chain; the ABI word decodes the same.
            function signers(bytes32 id, address key) external view returns (uint8 side, uint256 cap);
            function reserved(uint256 agentId, address key) external view returns (uint256);
            function MIN_CHALLENGE_DURATION() external view returns (uint48);
            function stateDigest(State s) external view returns (bytes32);
        }
    }
}

pub use Adjudicator::State;
pub use abi::Adjudicator;

/// Channel status codes of the adjudicator (`Adjudicator.Status`).
pub mod status {
    /// No such channel.
    pub const NONE: u8 = 0;
    /// Open: updates off-chain, deposits allowed.
    pub const OPEN: u8 = 1;
    /// A dispute's challenge window is running.
    pub const DISPUTED: u8 = 2;
    /// Concluded: withdrawals only.
    pub const SETTLED: u8 = 3;
}

/// Which side of a channel a participant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The opener, `a`.
    A,
    /// The other participant, `b`.
    B,
}

impl Side {
    /// The other side.
    pub const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }
}

/// What identifies a channel: the chain, the adjudicator, the participants, the token and a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChannelParams {
    /// Chain id of the rollup.
    pub chain_id: u64,
    /// Adjudicator contract address.
    pub adjudicator: Address,
    /// Side A (the opener).
    pub a: Address,
    /// Side B.
    pub b: Address,
    /// ERC-20 token, or zero for ETH.
    pub token: Address,
    /// Distinguishes channels of the same participants and token.
    pub nonce: u64,
}

impl ChannelParams {
    /// `keccak256(abi.encode(chainid, adjudicator, a, b, token, nonce))`, as the contract computes it.
    pub fn id(&self) -> B256 {
        keccak256(
            (U256::from(self.chain_id), self.adjudicator, self.a, self.b, self.token, self.nonce)
                .abi_encode(),
        )
    }

    /// The EIP-712 domain states of this channel are signed under.
    pub fn domain(&self) -> Eip712Domain {
        domain(self.chain_id, self.adjudicator)
    }

    /// The side `who` is on, if a participant.
    pub fn side_of(&self, who: Address) -> Option<Side> {
        if who == self.a {
            Some(Side::A)
        } else if who == self.b {
            Some(Side::B)
        } else {
            None
        }
    }

    /// The participant on `side`.
    pub const fn participant(&self, side: Side) -> Address {
        match side {
            Side::A => self.a,
            Side::B => self.b,
        }
    }

    /// The opening state (version 0, nothing sent).
    pub fn opening_state(&self) -> State {
        State { channelId: self.id(), ..Default::default() }
    }
}

/// The adjudicator's EIP-712 domain: `("agnt2-adjudicator", "1", chainId, adjudicator)`.
pub fn domain(chain_id: u64, adjudicator: Address) -> Eip712Domain {
    eip712_domain! {
        name: "agnt2-adjudicator",
        version: "1",
        chain_id: chain_id,
        verifying_contract: adjudicator,
    }
}

/// The digest both parties sign for `state` under `domain`.
pub fn digest(state: &State, domain: &Eip712Domain) -> B256 {
    state.eip712_signing_hash(domain)
}

/// What `side` has sent in total in `state`.
pub const fn sent(state: &State, side: Side) -> U256 {
    match side {
        Side::A => state.sentA,
        Side::B => state.sentB,
    }
}

/// The balance of `side` in `state` given both deposits, as the adjudicator computes it
/// (`None` when the side has sent more than it holds).
pub fn balance(state: &State, side: Side, deposits: [U256; 2]) -> Option<U256> {
    let (mine, theirs) = match side {
        Side::A => (deposits[0], deposits[1]),
        Side::B => (deposits[1], deposits[0]),
    };
    let _ = theirs;
    mine.checked_add(sent(state, side.other()))?.checked_sub(sent(state, side))
}

/// What `state` leaves `side` short of its deposits: what it sent minus what it received (zero
/// when it received more). A session key signs for a side only while this is within the cap the
/// key was admitted with (`Adjudicator.admit`).
pub fn outflow(state: &State, side: Side) -> U256 {
    sent(state, side).saturating_sub(sent(state, side.other()))
}

/// Why a proposed state cannot follow the current one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The state names another channel.
    #[error("state is for channel {got}, not {expected}")]
    WrongChannel {
        /// This channel.
        expected: B256,
        /// What the state names.
        got: B256,
    },
    /// Versions go up by exactly one.
    #[error("version {got} does not follow {current}")]
    WrongVersion {
        /// The current version.
        current: u64,
        /// The proposed one.
        got: u64,
    },
    /// The channel has a final state.
    #[error("channel is final at version {0}")]
    Final(u64),
    /// A proposer may only raise what it sends itself.
    #[error("a proposal may only raise what its proposer sends")]
    TakesFromOther,
    /// What a side sends never decreases.
    #[error("sent amounts never decrease")]
    SentDecreased,
    /// The proposer would send more than it holds.
    #[error("proposer would send more than it holds ({holds} wei)")]
    Overspend {
        /// What the proposer holds before this state.
        holds: U256,
    },
}

/// Checks that `next`, proposed by `proposer`, may follow `current` in a channel with `deposits`.
///
/// The proposer raises only what it sends (a payment) and may change the app data or mark the
/// state final; the other side's sent amount stays as it is, so nobody can propose to take value.
pub fn check_transition(
    current: &State,
    next: &State,
    proposer: Side,
    deposits: [U256; 2],
) -> Result<(), TransitionError> {
    if next.channelId != current.channelId {
        return Err(TransitionError::WrongChannel {
            expected: current.channelId,
            got: next.channelId,
        });
    }
    if current.isFinal {
        return Err(TransitionError::Final(current.version));
    }
    if current.version.checked_add(1) != Some(next.version) {
        return Err(TransitionError::WrongVersion { current: current.version, got: next.version });
    }
    let other = proposer.other();
    if sent(next, other) != sent(current, other) {
        return Err(TransitionError::TakesFromOther);
    }
    if sent(next, proposer) < sent(current, proposer) {
        return Err(TransitionError::SentDecreased);
    }
    if balance(next, proposer, deposits).is_none() {
        return Err(TransitionError::Overspend {
            holds: balance(current, proposer, deposits).unwrap_or_default(),
        });
    }
    Ok(())
}

/// A state with both parties' signatures (either may be missing for the opening state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedState {
    /// The state.
    pub state: State,
    /// Side A's signature.
    pub sig_a: Option<Sig>,
    /// Side B's signature.
    pub sig_b: Option<Sig>,
}

impl SignedState {
    /// The unsigned opening state of `params`.
    pub fn opening(params: &ChannelParams) -> Self {
        Self { state: params.opening_state(), sig_a: None, sig_b: None }
    }

    /// Both signatures present.
    pub const fn is_cosigned(&self) -> bool {
        self.sig_a.is_some() && self.sig_b.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ChannelParams {
        ChannelParams {
            chain_id: 7,
            adjudicator: Address::with_last_byte(1),
            a: Address::with_last_byte(0xa),
            b: Address::with_last_byte(0xb),
            token: Address::ZERO,
            nonce: 1,
        }
    }

    #[test]
    fn channel_id_binds_every_parameter() {
        let p = params();
        let id = p.id();
        for q in [
            ChannelParams { chain_id: 8, ..p },
            ChannelParams { adjudicator: Address::with_last_byte(2), ..p },
            ChannelParams { a: p.b, b: p.a, ..p },
            ChannelParams { token: Address::with_last_byte(3), ..p },
            ChannelParams { nonce: 2, ..p },
        ] {
            assert_ne!(q.id(), id, "{q:?}");
        }
    }

    #[test]
    fn transitions() {
        let p = params();
        let deposits = [U256::from(100), U256::from(10)];
        let s0 = p.opening_state();
        let pay = |v: u64, a: u64, b: u64| State {
            version: v,
            sentA: U256::from(a),
            sentB: U256::from(b),
            ..s0.clone()
        };
        assert_eq!(check_transition(&s0, &pay(1, 40, 0), Side::A, deposits), Ok(()));
        assert_eq!(
            check_transition(&s0, &pay(2, 40, 0), Side::A, deposits),
            Err(TransitionError::WrongVersion { current: 0, got: 2 })
        );
        assert_eq!(
            check_transition(&s0, &pay(1, 0, 5), Side::A, deposits),
            Err(TransitionError::TakesFromOther)
        );
        assert_eq!(
            check_transition(&s0, &pay(1, 101, 0), Side::A, deposits),
            Err(TransitionError::Overspend { holds: U256::from(100) })
        );
        // B can spend what A sent it.
        let s1 = pay(1, 40, 0);
        assert_eq!(check_transition(&s1, &pay(2, 40, 50), Side::B, deposits), Ok(()));
        assert!(check_transition(&s1, &pay(2, 30, 0), Side::A, deposits).is_err());
        let fin = State { isFinal: true, ..pay(2, 40, 0) };
        assert_eq!(check_transition(&s1, &fin, Side::A, deposits), Ok(()));
        assert_eq!(
            check_transition(&fin, &pay(3, 41, 0), Side::A, deposits),
            Err(TransitionError::Final(2))
        );
        let other = State { channelId: B256::ZERO, ..pay(1, 1, 0) };
        assert!(matches!(
            check_transition(&s0, &other, Side::A, deposits),
            Err(TransitionError::WrongChannel { .. })
        ));
    }
}
