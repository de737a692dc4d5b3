//! The standard development accounts.

use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};

/// The test mnemonic used by anvil, hardhat and reth `--dev`.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The first `n` signers of [`DEV_MNEMONIC`] at `m/44'/60'/0'/0/i`.
pub fn dev_signers(n: u32) -> Vec<PrivateKeySigner> {
    (0..n)
        .map(|i| {
            MnemonicBuilder::<English>::default()
                .phrase(DEV_MNEMONIC)
                .index(i)
                .and_then(|b| b.build())
                // The phrase and path are constants; derivation cannot fail for them.
                .expect("the dev mnemonic derives")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn derives_the_well_known_accounts() {
        let signers = dev_signers(20);
        assert_eq!(signers.len(), 20);
        assert_eq!(signers[0].address(), address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        assert_eq!(signers[9].address(), address!("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"));
    }
}
