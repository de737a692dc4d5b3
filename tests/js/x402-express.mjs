// A resource server written with the unmodified @x402/express middleware, pointed at agnt2's
// facilitator and agnt2's CAIP-2 network, paid by the unmodified @x402/fetch client.
// Usage: node x402-express.mjs <facilitatorUrl> <chainId> <token> <payTo> <payerKey> <amount>
import express from "express";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { ExactEvmScheme as ServerScheme } from "@x402/evm/exact/server";
import { ExactEvmScheme } from "@x402/evm";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { wrapFetchWithPaymentFromConfig, decodePaymentResponseHeader } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";

const [facilitator, chainId, asset, payTo, key, amount] = process.argv.slice(2);
const network = `eip155:${chainId}`;
const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitator })).register(
  network,
  new ServerScheme(),
);
const app = express();
app.use(
  paymentMiddleware(
    {
      "GET /paid": {
        accepts: {
          scheme: "exact",
          price: { amount, asset, extra: { name: "agnt2 USD", version: "1" } },
          network,
          payTo,
        },
        description: "a paid answer",
      },
    },
    server,
  ),
);
app.get("/paid", (_req, res) => res.json({ answer: 42 }));
const listener = await new Promise((ok) => {
  const l = app.listen(0, "127.0.0.1", () => ok(l));
});
const url = `http://127.0.0.1:${listener.address().port}/paid`;
const out = {};
try {
  out.unpaid = (await fetch(url)).status;
  // agnt2's token is not one of the SDK's default assets: the payer opts in to it, with a cap
  // (the SDK's spend controls, configured, not patched).
  const pay = wrapFetchWithPaymentFromConfig(fetch, {
    schemes: [{ network, client: new ExactEvmScheme(privateKeyToAccount(key)) }],
    spendControls: { allowedAssets: [{ network, asset, maxAmountPerPayment: amount }] },
  });
  const paid = await pay(url);
  out.paid = paid.status;
  out.body = await paid.json();
  const header = paid.headers.get("PAYMENT-RESPONSE") ?? paid.headers.get("X-PAYMENT-RESPONSE");
  out.settlement = header ? decodePaymentResponseHeader(header) : null;
} catch (e) {
  out.error = String(e?.stack ?? e);
} finally {
  listener.close();
}
console.log(JSON.stringify(out));
process.exit(0);
