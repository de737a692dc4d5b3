use alloy_evm::{Database, EvmEnv, EvmFactory, precompiles::PrecompilesMap};
use alloy_op_evm::{OpEvm, OpEvmContext, OpEvmFactory};
use alloy_primitives::{Address, address};
use op_revm::OpSpecId;
use revm::{
    Inspector,
    bytecode::opcode::BALANCE,
    context::BlockEnv,
    inspector::NoOpInspector,
    interpreter::{
        Host, InstructionContext, instructions::host::balance, interpreter::EthInterpreter,
    },
};
use std::cell::Cell;

/// op-revm's EVM with the agent precompiles (`agnt2-agent`) installed and the fee-vault watch on
/// BALANCE (see [`fee_vault_observed`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct AgentEvmFactory(OpEvmFactory);

/// The accounts that collect fees: the sequencer fee vault (the block's beneficiary on agnt2),
/// the base fee vault, the L1 fee vault and the operator fee vault.
pub const FEE_VAULTS: [Address; 4] = [
    address!("0x4200000000000000000000000000000000000011"),
    address!("0x4200000000000000000000000000000000000019"),
    address!("0x420000000000000000000000000000000000001A"),
    address!("0x420000000000000000000000000000000000001B"),
];

thread_local! {
    static OBSERVED: Cell<bool> = const { Cell::new(false) };
}

/// Whether EVM code on this thread read a fee vault's balance with BALANCE since the last
/// [`reset_fee_vault_observed`]. The parallel builder treats fee credits to the vaults as
/// commutative deltas; that holds only for transactions that never looked at a vault's balance.
pub fn fee_vault_observed() -> bool {
    OBSERVED.with(Cell::get)
}

/// Clears the flag of [`fee_vault_observed`].
pub fn reset_fee_vault_observed() {
    OBSERVED.with(|o| o.set(false));
}

/// BALANCE, noting reads of a fee vault's balance.
fn watched_balance<H: Host + ?Sized>(ctx: InstructionContext<'_, H, EthInterpreter>) {
    if let Some(top) = ctx.interpreter.stack.data().last() {
        let a = Address::from_word((*top).into());
        if FEE_VAULTS.contains(&a) {
            OBSERVED.with(|o| o.set(true));
        }
    }
    balance(ctx)
}

fn finish<DB: Database, I: Inspector<OpEvmContext<DB>>>(
    evm: OpEvm<DB, I, PrecompilesMap>,
    inspect: bool,
) -> OpEvm<DB, I, PrecompilesMap> {
    let mut inner = evm.into_inner();
    let table = &mut inner.0.instruction;
    let gas = table.instruction_table[BALANCE as usize].static_gas();
    table.insert_instruction(BALANCE, revm::interpreter::Instruction::new(watched_balance, gas));
    let mut evm = OpEvm::new(inner, inspect);
    agnt2_agent::install(alloy_evm::Evm::precompiles_mut(&mut evm));
    evm
}

impl EvmFactory for AgentEvmFactory {
    type Evm<DB: Database, I: Inspector<OpEvmContext<DB>>> =
        <OpEvmFactory as EvmFactory>::Evm<DB, I>;
    type Context<DB: Database> = OpEvmContext<DB>;
    type Tx = <OpEvmFactory as EvmFactory>::Tx;
    type Error<DBError: core::error::Error + Send + Sync + 'static> =
        <OpEvmFactory as EvmFactory>::Error<DBError>;
    type HaltReason = <OpEvmFactory as EvmFactory>::HaltReason;
    type Spec = OpSpecId;
    type BlockEnv = BlockEnv;
    type Precompiles = PrecompilesMap;

    fn create_evm<DB: Database>(
        &self,
        db: DB,
        input: EvmEnv<OpSpecId, BlockEnv>,
    ) -> Self::Evm<DB, NoOpInspector> {
        finish(self.0.create_evm(db, input), false)
    }

    fn create_evm_with_inspector<DB: Database, I: Inspector<Self::Context<DB>>>(
        &self,
        db: DB,
        input: EvmEnv<OpSpecId, BlockEnv>,
        inspector: I,
    ) -> Self::Evm<DB, I> {
        finish(self.0.create_evm_with_inspector(db, input, inspector), true)
    }
}
