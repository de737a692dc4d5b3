use alloy_evm::{Database, EvmEnv, EvmFactory, precompiles::PrecompilesMap};
use alloy_op_evm::{OpEvmContext, OpEvmFactory};
use op_revm::OpSpecId;
use revm::{Inspector, context::BlockEnv, inspector::NoOpInspector};

/// op-revm's EVM with the agent precompiles (`agnt2-agent`) installed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AgentEvmFactory(OpEvmFactory);

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
        let mut evm = self.0.create_evm(db, input);
        agnt2_agent::install(alloy_evm::Evm::precompiles_mut(&mut evm));
        evm
    }

    fn create_evm_with_inspector<DB: Database, I: Inspector<Self::Context<DB>>>(
        &self,
        db: DB,
        input: EvmEnv<OpSpecId, BlockEnv>,
        inspector: I,
    ) -> Self::Evm<DB, I> {
        let mut evm = self.0.create_evm_with_inspector(db, input, inspector);
        agnt2_agent::install(alloy_evm::Evm::precompiles_mut(&mut evm));
        evm
    }
}
