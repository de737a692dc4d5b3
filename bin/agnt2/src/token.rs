//! `agnt2 token …`: the EIP-3009 token x402's `exact` scheme settles with
//! (`contracts/src/x402/AuthorizedToken.sol`) — deploy one on a chain that has none (the devnet
//! has agnt2 USD in its genesis at [`agnt2_primitives::constants::DEVNET_USD`]), mint, read a
//! balance.

use agnt2_client::Client;
use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolValue, sol};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use serde_json::json;
use std::path::PathBuf;

sol! {
    interface IAuthorizedToken {
        function mint(address to, uint256 value) external;
        function balanceOf(address who) external view returns (uint256);
        function minter() external view returns (address);
    }
}

/// `agnt2 token …`
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    l2: agnt2_cli::L2RpcArgs,
    #[command(flatten)]
    key: agnt2_cli::PrivateKeyArgs,
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Deploy an AuthorizedToken (ERC-20 with EIP-3009 and EIP-5267) from `make contracts`'
    /// output; prints `{"token", "minter"}`.
    Deploy {
        /// Foundry's output with AuthorizedToken.sol.
        #[arg(long, default_value = "contracts/out", value_name = "DIR")]
        artifacts: PathBuf,
        /// The EIP-712 domain's name (x402 requirements carry it as `extra.name`).
        #[arg(long, default_value = "agnt2 USD")]
        name: String,
        /// The ERC-20 symbol.
        #[arg(long, default_value = "aUSD")]
        symbol: String,
        /// Decimals.
        #[arg(long, default_value_t = 6)]
        decimals: u8,
        /// Who may mint (default: the deployer).
        #[arg(long)]
        minter: Option<Address>,
    },
    /// Mint `amount` (the token's smallest unit) to `to`, as the minter.
    Mint {
        /// The token.
        #[arg(long)]
        token: Address,
        /// The receiver.
        #[arg(long)]
        to: Address,
        /// Amount in the token's smallest unit.
        #[arg(long)]
        amount: U256,
    },
    /// A holder's balance.
    Balance {
        /// The token.
        #[arg(long)]
        token: Address,
        /// The holder.
        #[arg(long)]
        of: Address,
    },
}

pub(crate) fn run(args: TokenArgs) -> eyre::Result<()> {
    let l2 = Client::new(&args.l2.l2_rpc_url)?;
    match args.command {
        TokenCommand::Deploy { artifacts, name, symbol, decimals, minter } => {
            let key = args.key.signer()?;
            let minter = minter.unwrap_or_else(|| key.address());
            let mut code =
                agnt2_bench::artifact(&artifacts, "AuthorizedToken.sol", "AuthorizedToken")?
                    .to_vec();
            code.extend((name, symbol, U256::from(decimals), minter).abi_encode_params());
            let token = l2.deploy(&key, code.into()).wrap_err("deploying the token")?;
            println!("{}", json!({ "token": token, "minter": minter }));
        }
        TokenCommand::Mint { token, to, amount } => {
            let key = args.key.signer()?;
            let minter = l2.view(token, &IAuthorizedToken::minterCall {})?;
            if minter != key.address() {
                eyre::bail!("{token}'s minter is {minter}, not {}", key.address());
            }
            let call = IAuthorizedToken::mintCall { to, value: amount }.abi_encode();
            let r = l2.transact_receipt(&key, Some(token), U256::ZERO, call)?;
            println!("{}", json!({ "tx": r.transaction_hash }));
        }
        TokenCommand::Balance { token, of } => {
            let b = l2.view(token, &IAuthorizedToken::balanceOfCall { who: of })?;
            println!("{b}");
        }
    }
    Ok(())
}
