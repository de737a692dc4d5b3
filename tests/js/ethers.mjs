// ethers v6 against an agnt2 devnet: deploy, call, wait, events over WebSocket, typed data
// signed by the node, fee data.
// Usage: node ethers.mjs <http url> <ws url> <Counter artifact json>
import fs from 'node:fs';
import { ethers } from 'ethers';

const [url, wsUrl, artifact] = process.argv.slice(2);
const fail = (msg) => { console.error(msg); process.exit(1); };
const provider = new ethers.JsonRpcProvider(url, 80042, { staticNetwork: true });
const ws = new ethers.WebSocketProvider(wsUrl, 80042, { staticNetwork: true });
const wallet = new ethers.Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d', provider);
const { abi, bytecode } = JSON.parse(fs.readFileSync(artifact, 'utf8'));

const factory = new ethers.ContractFactory(abi, bytecode.object, wallet);
const counter = await factory.deploy(11n);
await counter.waitForDeployment();
const address = await counter.getAddress();
if ((await counter.number()) !== 11n) fail('read');

const watched = new ethers.Contract(address, abi, ws);
const seen = new Promise((resolve, reject) => {
  watched.on('Bumped', (by, n, ev) => resolve({ by, n, ev }));
  setTimeout(() => reject(new Error('no event over WebSocket')), 20000);
});
await new Promise((r) => setTimeout(r, 300));
const tx = await counter.increment();
const receipt = await tx.wait();
if (receipt.status !== 1) fail('increment failed');
const ev = await seen;
if (ev.n !== 12n || ev.by !== wallet.address) fail('event contents');

const signer = await provider.getSigner('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
const domain = { name: 'agnt2', version: '1', chainId: 80042, verifyingContract: address };
const types = { Mail: [{ name: 'to', type: 'address' }, { name: 'contents', type: 'string' }] };
const message = { to: address, contents: 'hello agents' };
const sig = await signer.signTypedData(domain, types, message);
if (ethers.verifyTypedData(domain, types, message, sig) !== await signer.getAddress()) fail('typed data');

const fee = await provider.getFeeData();
if (!(fee.maxFeePerGas > 0n && fee.gasPrice > 0n)) fail('fee data');
console.log(JSON.stringify({ ok: true, address }));
await ws.destroy();
process.exit(0);
