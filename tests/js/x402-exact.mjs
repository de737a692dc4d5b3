// An x402 `exact` payment payload made by the unmodified @x402/evm client scheme (the SDK's own
// EIP-3009 signing, not agnt2's), printed as JSON for the test to settle on agnt2.
// Usage: node x402-exact.mjs <chainId> <token> <payerKey> <payTo> <amount>
import { ExactEvmScheme, toClientEvmSigner } from "@x402/evm";
import { privateKeyToAccount } from "viem/accounts";

const [chainId, asset, key, payTo, amount] = process.argv.slice(2);
const account = privateKeyToAccount(key);
const scheme = new ExactEvmScheme(toClientEvmSigner(account));
const requirements = {
  scheme: "exact",
  network: `eip155:${chainId}`,
  amount,
  asset,
  payTo,
  maxTimeoutSeconds: 300,
  extra: { name: "agnt2 USD", version: "1" },
};
const result = await scheme.createPaymentPayload(2, requirements);
console.log(JSON.stringify(result));
