// viem's OP Stack actions against agnt2 settled on anvil: a deposit and a withdrawal round trip
// (initiate, wait to prove, prove, wait to finalize, finalize) with no agnt2 code involved.
// Usage: node opstack.mjs <l1 url> <l2 url> <portal> <l2OutputOracle>
import {
  createPublicClient, createWalletClient, defineChain, http, parseEther,
} from 'viem';
// viem does not export this constant; its file is imported by path (a deep import).
const { multicall3Bytecode } = await import(new URL('./node_modules/viem/_esm/constants/contracts.js', import.meta.url));
import { privateKeyToAccount } from 'viem/accounts';
import {
  getL2TransactionHashes, publicActionsL1, publicActionsL2, walletActionsL1, walletActionsL2,
} from 'viem/op-stack';

const [l1Url, l2Url, portal, oracle] = process.argv.slice(2);
const fail = (msg) => { console.error(msg); process.exit(1); };
const eth = { name: 'Ether', symbol: 'ETH', decimals: 18 };
// Dev account 2, so that the CLI tests' accounts are untouched.
const account = privateKeyToAccount('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
// viem's withdrawal status reads through Multicall3, which a fresh anvil lacks: deploy it from
// the bytecode viem ships.
const bare = defineChain({ id: 31337, name: 'anvil', nativeCurrency: eth, rpcUrls: { default: { http: [l1Url] } } });
const deployer = createWalletClient({ account, chain: bare, transport: http(l1Url) });
const mcHash = await deployer.deployContract({ abi: [], bytecode: multicall3Bytecode });
const mc = await createPublicClient({ chain: bare, transport: http(l1Url) }).waitForTransactionReceipt({ hash: mcHash });
const l1 = defineChain({ ...bare, contracts: { multicall3: { address: mc.contractAddress } } });
const l2 = defineChain({
  id: 80042, name: 'agnt2', nativeCurrency: eth, sourceId: 31337,
  rpcUrls: { default: { http: [l2Url] } },
  contracts: {
    portal: { 31337: { address: portal } },
    l2OutputOracle: { 31337: { address: oracle } },
  },
});
const poll = { pollingInterval: 200 };
const publicL1 = createPublicClient({ chain: l1, transport: http(l1Url), ...poll }).extend(publicActionsL1());
const walletL1 = createWalletClient({ account, chain: l1, transport: http(l1Url), ...poll }).extend(walletActionsL1());
const publicL2 = createPublicClient({ chain: l2, transport: http(l2Url), ...poll }).extend(publicActionsL2());
const walletL2 = createWalletClient({ account, chain: l2, transport: http(l2Url), ...poll }).extend(walletActionsL2());

// Deposit 1 ether.
const l2Before = await publicL2.getBalance({ address: account.address });
const depositArgs = await publicL2.buildDepositTransaction({ mint: parseEther('1'), to: account.address });
const depositHash = await walletL1.depositTransaction(depositArgs);
const depositReceipt = await publicL1.waitForTransactionReceipt({ hash: depositHash });
const [l2Hash] = getL2TransactionHashes(depositReceipt);
const l2Receipt = await publicL2.waitForTransactionReceipt({ hash: l2Hash });
if (l2Receipt.status !== 'success') fail(`deposit on L2: ${l2Receipt.status}`);
const l2After = await publicL2.getBalance({ address: account.address });
if (l2After - l2Before !== parseEther('1')) fail(`L2 balance rose by ${l2After - l2Before}`);

// Withdraw 0.25 ether to a fresh L1 address.
const to = '0x00000000000000000000000000000000000000cc';
const withdrawArgs = await publicL1.buildInitiateWithdrawal({ to, value: parseEther('0.25') });
const withdrawHash = await walletL2.initiateWithdrawal(withdrawArgs);
const withdrawReceipt = await publicL2.waitForTransactionReceipt({ hash: withdrawHash });
const { output, withdrawal } = await publicL1.waitToProve({ receipt: withdrawReceipt, targetChain: l2 });
const status1 = await publicL1.getWithdrawalStatus({ receipt: withdrawReceipt, targetChain: l2 });
if (status1 !== 'ready-to-prove') fail(`status before proving: ${status1}`);
const proveArgs = await publicL2.buildProveWithdrawal({ output, withdrawal });
const proveHash = await walletL1.proveWithdrawal(proveArgs);
const proveReceipt = await publicL1.waitForTransactionReceipt({ hash: proveHash });
if (proveReceipt.status !== 'success') fail('prove reverted');
await publicL1.waitToFinalize({ targetChain: l2, withdrawalHash: withdrawal.withdrawalHash });
const finalizeHash = await walletL1.finalizeWithdrawal({ targetChain: l2, withdrawal });
const finalizeReceipt = await publicL1.waitForTransactionReceipt({ hash: finalizeHash });
if (finalizeReceipt.status !== 'success') fail('finalize reverted');
const status2 = await publicL1.getWithdrawalStatus({ receipt: withdrawReceipt, targetChain: l2 });
if (status2 !== 'finalized') fail(`status after finalizing: ${status2}`);
const got = await publicL1.getBalance({ address: to });
if (got !== parseEther('0.25')) fail(`L1 recipient holds ${got}`);
console.log(JSON.stringify({ ok: true, deposit: l2Hash, withdrawal: withdrawal.withdrawalHash, outputIndex: String(output.outputIndex) }));
