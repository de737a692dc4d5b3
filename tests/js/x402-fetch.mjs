// The unmodified @x402/fetch + @x402/evm client paying an agnt2-sidecar route with `exact`.
// Usage: node x402-fetch.mjs <url> <chainId> <token> <payerKey> <maxAmount>
// Prints {unpaid, schemes, paid, body, settlement, replay}: the 402's status and the schemes it
// offers, the paid answer, its decoded PAYMENT-RESPONSE, and the status of the same payment
// header sent again.
import { ExactEvmScheme } from "@x402/evm";
import { wrapFetchWithPaymentFromConfig, decodePaymentResponseHeader } from "@x402/fetch";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { privateKeyToAccount } from "viem/accounts";

const [url, chainId, asset, key, maxAmount] = process.argv.slice(2);
const network = `eip155:${chainId}`;
const out = {};
try {
  const unpaid = await fetch(url);
  out.unpaid = unpaid.status;
  const required = decodePaymentRequiredHeader(unpaid.headers.get("PAYMENT-REQUIRED"));
  out.schemes = required.accepts.map((a) => a.scheme);
  // Remember the payment header the SDK sends, to replay it.
  let sent = null;
  const recording = async (input, init) => {
    const req = new Request(input, init);
    sent = req.headers.get("PAYMENT-SIGNATURE") ?? sent;
    return fetch(req);
  };
  const pay = wrapFetchWithPaymentFromConfig(recording, {
    schemes: [{ network, client: new ExactEvmScheme(privateKeyToAccount(key)) }],
    spendControls: { allowedAssets: [{ network, asset, maxAmountPerPayment: maxAmount }] },
  });
  const paid = await pay(url);
  out.paid = paid.status;
  out.body = await paid.text();
  const header = paid.headers.get("PAYMENT-RESPONSE");
  out.settlement = header ? decodePaymentResponseHeader(header) : null;
  const replay = await fetch(url, { headers: { "PAYMENT-SIGNATURE": sent } });
  out.replay = replay.status;
  out.replayError = (await replay.json()).error;
} catch (e) {
  out.error = String(e?.stack ?? e);
}
console.log(JSON.stringify(out));
