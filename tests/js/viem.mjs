// viem against an agnt2 devnet: deploy, call, wait for a receipt, watch events over WebSocket,
// sign typed data with a dev account held by the node, estimate fees, register an agent.
// Usage: node viem.mjs <http url> <ws url> <Counter artifact json>
import fs from 'node:fs';
import {
  createPublicClient, createWalletClient, defineChain, http, parseAbi, parseEventLogs, verifyTypedData,
  webSocket,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const [url, wsUrl, artifact] = process.argv.slice(2);
const fail = (msg) => { console.error(msg); process.exit(1); };
const chain = defineChain({
  id: 80042, name: 'agnt2', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [url], webSocket: [wsUrl] } },
});
const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const pub = createPublicClient({ chain, transport: http(url) });
const wsPub = createPublicClient({ chain, transport: webSocket(wsUrl) });
const wallet = createWalletClient({ account, chain, transport: http(url) });
const abi = parseAbi([
  'constructor(uint256 start)',
  'function number() view returns (uint256)',
  'function increment()',
  'event Bumped(address indexed by, uint256 newNumber)',
]);
const bytecode = JSON.parse(fs.readFileSync(artifact, 'utf8')).bytecode.object;

if (await pub.getChainId() !== 80042) fail('chain id');
const hash = await wallet.deployContract({ abi, bytecode, args: [3n] });
const receipt = await pub.waitForTransactionReceipt({ hash });
if (receipt.status !== 'success') fail('deploy failed');
const address = receipt.contractAddress;
if (await pub.readContract({ address, abi, functionName: 'number' }) !== 3n) fail('read');

const seen = new Promise((resolve, reject) => {
  const unwatch = wsPub.watchContractEvent({
    address, abi, eventName: 'Bumped',
    onLogs: (logs) => { unwatch(); resolve(logs); },
    onError: reject,
  });
  setTimeout(() => reject(new Error('no event over WebSocket')), 20000);
});
await new Promise((r) => setTimeout(r, 300));
const h2 = await wallet.writeContract({ address, abi, functionName: 'increment' });
const r2 = await pub.waitForTransactionReceipt({ hash: h2 });
if (r2.status !== 'success') fail('increment failed');
const logs = await seen;
if (logs[0].args.newNumber !== 4n || logs[0].transactionHash !== h2) fail('event contents');

// Typed data signed by the node with the dev key (eth_signTypedData_v4).
const rpcWallet = createWalletClient({ account: account.address, chain, transport: http(url) });
const typed = {
  domain: { name: 'agnt2', version: '1', chainId: 80042, verifyingContract: address },
  types: { Mail: [{ name: 'to', type: 'address' }, { name: 'contents', type: 'string' }] },
  primaryType: 'Mail',
  message: { to: address, contents: 'hello agents' },
};
const signature = await rpcWallet.signTypedData(typed);
if (!(await verifyTypedData({ address: account.address, ...typed, signature }))) fail('typed data');

const fees = await pub.estimateFeesPerGas();
if (!(fees.maxFeePerGas > 0n && fees.maxPriorityFeePerGas > 0n)) fail('fees');
const gas = await pub.estimateContractGas({ address, abi, functionName: 'increment', account: account.address });
if (!(gas > 21000n)) fail('gas estimate');
// The native agent registry, as docs/agents.md shows it: a plain ABI at 0x…8004, the event
// decoded by viem, the typed read over agent_getAgent.
const IDENTITY = '0x0000000000000000000000000000000000008004';
const identityAbi = parseAbi([
  'function register(string agentURI) returns (uint256 agentId)',
  'function tokenURI(uint256 tokenId) view returns (string)',
  'event Registered(uint256 indexed agentId, string agentURI, address indexed owner)',
]);
const { result: newId, request } = await pub.simulateContract({
  address: IDENTITY, abi: identityAbi, functionName: 'register', args: ['ipfs://viem-agent'], account,
});
const r3 = await pub.waitForTransactionReceipt({ hash: await wallet.writeContract(request) });
if (r3.status !== 'success') fail('register failed');
const [registered] = parseEventLogs({ abi: identityAbi, logs: r3.logs, eventName: 'Registered' });
if (registered.args.agentId !== newId || registered.args.owner !== account.address) fail('Registered event');
if (await pub.readContract({ address: IDENTITY, abi: identityAbi, functionName: 'tokenURI', args: [newId] }) !== 'ipfs://viem-agent') fail('tokenURI');
const agent = await pub.request({ method: 'agent_getAgent', params: [`0x${newId.toString(16)}`] });
if (agent.agentURI !== 'ipfs://viem-agent') fail(`agent_getAgent: ${JSON.stringify(agent)}`);
console.log(JSON.stringify({ ok: true, address }));
process.exit(0);
