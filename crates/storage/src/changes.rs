//! The state a block leaves behind ([`StateChanges`]) is a chain type of `agnt2-primitives`;
//! storage writes it and reads it back.

pub use agnt2_primitives::{StateChanges, StorageChange};
