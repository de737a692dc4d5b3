// A resource server written with the unmodified @x402/express, pointed at `agnt2 facilitator`
// with the channel scheme, paid over an agnt2 channel by the unmodified @x402/fetch client with
// agnt2's scheme plugins (sdk/x402-agnt2-channel).
// Usage: node x402-channel.mjs <facilitatorUrl> <chainId> <payTo> <payerKey> <amount> <channel json> <state json> <count>
// Prints {unpaid, schemes, paid: [status…], flaky, settlements: […], replay}: between the first
// and the second paid request, a paid request to a route whose handler fails (500, not settled).
import express from "express";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { wrapFetchWithPaymentFromConfig, decodePaymentResponseHeader } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";
import { Agnt2ChannelClientScheme, Agnt2ChannelServerScheme } from "../../sdk/x402-agnt2-channel/index.mjs";

const [facilitator, chainId, payTo, key, amount, channel, latest, count] = process.argv.slice(2);
const network = `eip155:${chainId}`;
const ETH = "0x0000000000000000000000000000000000000000";
const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitator })).register(
  network,
  new Agnt2ChannelServerScheme(),
);
const app = express();
app.use(
  paymentMiddleware(
    {
      "GET /paid": {
        accepts: { scheme: "agnt2-channel", price: { amount, asset: ETH }, network, payTo },
        description: "a paid answer",
      },
      "GET /flaky": {
        accepts: { scheme: "agnt2-channel", price: { amount, asset: ETH }, network, payTo },
        description: "fails: not settled",
      },
    },
    server,
  ),
);
let served = 0;
app.get("/paid", (_req, res) => res.json({ answer: 42, served: ++served }));
// The service fails: the middleware does not settle, the client's next payment must not build
// on the state that was never taken.
app.get("/flaky", (_req, res) => res.status(500).json({ error: "down" }));
const listener = await new Promise((ok) => {
  const l = app.listen(0, "127.0.0.1", () => ok(l));
});
const url = `http://127.0.0.1:${listener.address().port}/paid`;
const out = { paid: [], settlements: [] };
try {
  const unpaid = await fetch(url);
  out.unpaid = unpaid.status;
  const required = decodePaymentRequiredHeader(unpaid.headers.get("PAYMENT-REQUIRED"));
  out.schemes = required.accepts.map((a) => a.scheme);
  out.extra = required.accepts[0].extra;
  let sent = null;
  const recording = async (input, init) => {
    const req = new Request(input, init);
    sent = req.headers.get("PAYMENT-SIGNATURE") ?? sent;
    return fetch(req);
  };
  const client = new Agnt2ChannelClientScheme(privateKeyToAccount(key), JSON.parse(channel), JSON.parse(latest));
  const pay = wrapFetchWithPaymentFromConfig(recording, {
    schemes: [{ network, client }],
    spendControls: { allowedAssets: [{ network, asset: ETH, maxAmountPerPayment: amount }] },
  });
  for (let i = 0; i < Number(count); i++) {
    if (i === 1) {
      const flaky = await pay(url.replace("/paid", "/flaky"));
      out.flaky = flaky.status;
      await flaky.text();
    }
    const paid = await pay(url);
    out.paid.push(paid.status);
    const body = await paid.text();
    if (paid.status !== 200) {
      const h = paid.headers.get("PAYMENT-REQUIRED");
      out.refused = h ? decodePaymentRequiredHeader(h).error : body;
    }
    const header = paid.headers.get("PAYMENT-RESPONSE");
    out.settlements.push(header ? decodePaymentResponseHeader(header) : null);
  }
  const replay = await fetch(url, { headers: { "PAYMENT-SIGNATURE": sent } });
  out.replay = replay.status;
  out.served = served;
} catch (e) {
  out.error = String(e?.stack ?? e);
} finally {
  listener.close();
}
console.log(JSON.stringify(out));
process.exit(0);
