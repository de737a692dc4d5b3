//! The hub's MDBX store: every followed channel and its latest co-signed state.
//!
//! Two tables keyed by channel id; values use the wire encoding of [`Msg::Register`] and
//! [`Msg::Latest`]. Writes come in batches ([`Store::commit`]), one durable MDBX transaction per
//! batch, so the hub can acknowledge many states per fsync (group commit).

use crate::{
    state::{ChannelParams, SignedState},
    wire::Msg,
};
use alloy_primitives::{B256, U256};
use signet_libmdbx::{
    DatabaseFlags, Environment, EnvironmentFlags, Geometry, Mode, SyncMode, WriteFlags,
    tx::Database,
};
use std::path::Path;

const CHANNELS: &str = "channels";
const STATES: &str = "states";
const META: &str = "meta";
/// Key of the first L2 block the watchtower has not scanned yet.
const WATCH_CURSOR: &[u8] = b"watch_cursor";

/// A store error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// MDBX failed.
    #[error("mdbx: {0}")]
    Mdbx(#[from] signet_libmdbx::MdbxError),
    /// An MDBX read failed.
    #[error("mdbx read: {0}")]
    Read(#[from] signet_libmdbx::ReadError),
    /// The directory could not be created.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A stored value does not decode.
    #[error("corrupt record for channel {0}")]
    Corrupt(B256),
}

/// A channel as the hub stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRecord {
    /// Its parameters.
    pub params: ChannelParams,
    /// Deposits `[a, b]`.
    pub deposits: [U256; 2],
}

/// One write of a batch.
#[derive(Debug, Clone)]
pub enum Write {
    /// A channel, new or with new deposits.
    Channel(ChannelRecord),
    /// A co-signed state; kept only if its version is above the stored one.
    State(SignedState),
    /// The watchtower scanned every block below this one (kept only if it moves forward).
    WatchCursor(u64),
}

/// The hub's database.
#[derive(Debug)]
pub struct Store {
    env: Environment,
    channels: Database,
    states: Database,
    meta: Database,
}

impl Store {
    /// Opens (creating) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        let mut builder = Environment::builder();
        builder
            .set_max_dbs(4)
            .set_geometry(Geometry {
                size: Some(0..(1usize << 36)),
                growth_step: Some(1 << 24),
                shrink_threshold: None,
                page_size: None,
            })
            .set_flags(EnvironmentFlags {
                mode: Mode::ReadWrite { sync_mode: SyncMode::Durable },
                ..Default::default()
            });
        let env = builder.open(dir)?;
        let tx = env.begin_rw_sync()?;
        let channels = tx.create_db(Some(CHANNELS), DatabaseFlags::empty())?;
        let states = tx.create_db(Some(STATES), DatabaseFlags::empty())?;
        let meta = tx.create_db(Some(META), DatabaseFlags::empty())?;
        tx.commit()?;
        Ok(Self { env, channels, states, meta })
    }

    /// Writes a batch in one durable transaction. A state whose version is not above the stored
    /// one is skipped (a lower version never replaces a higher one).
    pub fn commit(&self, batch: &[Write]) -> Result<(), StoreError> {
        let tx = self.env.begin_rw_sync()?;
        for w in batch {
            match w {
                Write::Channel(rec) => {
                    let v = Msg::Register { params: rec.params, deposits: rec.deposits }.encode();
                    tx.put(self.channels, rec.params.id(), v, WriteFlags::empty())?;
                }
                Write::State(s) => {
                    let id = s.state.channelId;
                    if let Some(old) = tx.get::<Vec<u8>>(self.states.dbi(), id.as_slice())? {
                        let old = decode_state(id, &old)?;
                        if old.state.version >= s.state.version {
                            continue;
                        }
                    }
                    let v = Msg::Latest { state: s.state.clone(), sig_a: s.sig_a, sig_b: s.sig_b }
                        .encode();
                    tx.put(self.states, id, v, WriteFlags::empty())?;
                }
                Write::WatchCursor(next) => {
                    let old = tx.get::<Vec<u8>>(self.meta.dbi(), WATCH_CURSOR)?;
                    if old.map(|v| decode_cursor(&v)).transpose()?.is_none_or(|o| *next > o) {
                        tx.put(self.meta, WATCH_CURSOR, next.to_be_bytes(), WriteFlags::empty())?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The first L2 block the watchtower has not scanned, if it ever stored one.
    pub fn watch_cursor(&self) -> Result<Option<u64>, StoreError> {
        let tx = self.env.begin_ro_sync()?;
        tx.get::<Vec<u8>>(self.meta.dbi(), WATCH_CURSOR)?.map(|v| decode_cursor(&v)).transpose()
    }

    /// Every stored channel with its latest stored state (the opening state if none).
    pub fn load(&self) -> Result<Vec<(ChannelRecord, SignedState)>, StoreError> {
        let tx = self.env.begin_ro_sync()?;
        let mut out = Vec::new();
        let mut c = tx.cursor(self.channels)?;
        for item in c.iter_start::<Vec<u8>, Vec<u8>>()? {
            let (k, v) = item?;
            let id = B256::try_from(k.as_slice()).map_err(|_| StoreError::Corrupt(B256::ZERO))?;
            let Ok(Msg::Register { params, deposits }) = Msg::decode(&v) else {
                return Err(StoreError::Corrupt(id));
            };
            if params.id() != id {
                return Err(StoreError::Corrupt(id));
            }
            let state = match tx.get::<Vec<u8>>(self.states.dbi(), id.as_slice())? {
                Some(v) => decode_state(id, &v)?,
                None => SignedState::opening(&params),
            };
            out.push((ChannelRecord { params, deposits }, state));
        }
        Ok(out)
    }
}

fn decode_cursor(v: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(v).map(u64::from_be_bytes).map_err(|_| StoreError::Corrupt(B256::ZERO))
}

fn decode_state(id: B256, v: &[u8]) -> Result<SignedState, StoreError> {
    match Msg::decode(v) {
        Ok(Msg::Latest { state, sig_a, sig_b }) if state.channelId == id => {
            Ok(SignedState { state, sig_a, sig_b })
        }
        _ => Err(StoreError::Corrupt(id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Sig;
    use alloy_primitives::Address;

    #[test]
    fn keeps_the_highest_version_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let params = ChannelParams {
            chain_id: 1,
            adjudicator: Address::with_last_byte(1),
            a: Address::with_last_byte(2),
            b: Address::with_last_byte(3),
            token: Address::ZERO,
            nonce: 0,
        };
        let rec = ChannelRecord { params, deposits: [U256::from(10), U256::ZERO] };
        let at = |v: u64| {
            let mut s = SignedState::opening(&params);
            s.state.version = v;
            s.sig_a = Some(Sig([v as u8; 65]));
            s.sig_b = Some(Sig([1; 65]));
            Write::State(s)
        };
        {
            let store = Store::open(dir.path()).unwrap();
            store.commit(&[Write::Channel(rec.clone()), at(1), at(5)]).unwrap();
            store.commit(&[at(3)]).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].0, rec);
        assert_eq!(loaded[0].1.state.version, 5);
        assert_eq!(loaded[0].1.sig_a, Some(Sig([5; 65])));
        // The watchtower's cursor: absent, then only ever forward, across reopen.
        assert_eq!(store.watch_cursor().unwrap(), None);
        store.commit(&[Write::WatchCursor(40)]).unwrap();
        store.commit(&[Write::WatchCursor(7)]).unwrap();
        drop(store);
        assert_eq!(Store::open(dir.path()).unwrap().watch_cursor().unwrap(), Some(40));
    }
}
