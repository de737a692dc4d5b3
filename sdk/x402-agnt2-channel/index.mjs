// agnt2's `agnt2-channel` payment scheme for the x402 SDKs (@x402/core 2.x): a client scheme for
// payers (@x402/fetch, @x402/axios) and a server scheme for resource servers (@x402/express,
// @x402/hono), next to `exact`. A payment is the payer's signature of the next state of its
// channel to the service (EIP-712 under the Adjudicator's domain): no transaction per request.
// The facilitator — `agnt2 facilitator --channel.hub HOST:PORT --channel.adjudicator ADDR`, run
// with the service's key — checks the state against the channel on chain and countersigns it
// into the hub. No dependencies: the client signs with any viem-style account
// (`signTypedData`).

/** The scheme's name. */
export const SCHEME = "agnt2-channel";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const ZERO_WORD = `0x${"00".repeat(32)}`;

/** The Adjudicator's `State` (contracts/src/channels/Adjudicator.sol). */
const STATE_TYPES = {
  State: [
    { name: "channelId", type: "bytes32" },
    { name: "version", type: "uint64" },
    { name: "sentA", type: "uint256" },
    { name: "sentB", type: "uint256" },
    { name: "appData", type: "bytes32" },
    { name: "isFinal", type: "bool" },
  ],
};

const same = (x, y) => String(x).toLowerCase() === String(y).toLowerCase();

/**
 * The payer's side. `channel` is the channel's parameters as `agnt2 channel open` saves them
 * (`{chainId, adjudicator, a, b, token, nonce}`; give the nonce as a string or a BigInt — a u64
 * does not fit a JavaScript number — it is sent as a decimal string), `latest` its latest state (`{channelId, version,
 * sentA, sentB, appData, isFinal}`; the opening state is version 0, nothing sent). Each payment
 * signs `latest` + the price as the next state and makes it the new `latest`; when the paid
 * request comes back without a settlement (refused, or the service failed and the server did not
 * settle), the scheme's `onPaymentResponse` hook sets `latest` back, so the next payment follows
 * the last state the service took. One request at a time per channel.
 */
export class Agnt2ChannelClientScheme {
  constructor(account, channel, latest) {
    this.scheme = SCHEME;
    this.account = account;
    this.channel = { ...channel, nonce: BigInt(channel.nonce).toString() };
    this.latest = latest;
    this.before = null;
    this.schemeHooks = {
      onPaymentResponse: async (ctx) => {
        const sent = ctx.paymentPayload?.payload?.state;
        const settled = ctx.settleResponse?.success === true;
        if (!settled && this.before && sent && Number(sent.version) === Number(this.latest.version)) {
          this.latest = this.before;
          this.before = null;
        }
      },
    };
  }

  async createPaymentPayload(x402Version, requirements) {
    const chainId = Number(String(requirements.network).replace(/^eip155:/, ""));
    if (requirements.scheme !== SCHEME) throw new Error(`not ${SCHEME}: ${requirements.scheme}`);
    if (chainId !== Number(this.channel.chainId)) {
      throw new Error(`the channel is on chain ${this.channel.chainId}, not ${requirements.network}`);
    }
    if (!same(requirements.payTo, this.channel.b)) {
      throw new Error(`the channel pays ${this.channel.b}, not payTo ${requirements.payTo}`);
    }
    if (!same(requirements.asset ?? ZERO_ADDRESS, this.channel.token)) {
      throw new Error(`the channel carries ${this.channel.token}, the price is in ${requirements.asset}`);
    }
    const adjudicator = requirements.extra?.adjudicator;
    if (adjudicator && !same(adjudicator, this.channel.adjudicator)) {
      throw new Error(`the service takes channels of ${adjudicator}, not ${this.channel.adjudicator}`);
    }
    const sentA = BigInt(this.latest.sentA) + BigInt(requirements.amount);
    const next = {
      channelId: this.latest.channelId,
      version: Number(this.latest.version) + 1,
      sentA: `0x${sentA.toString(16)}`,
      sentB: `0x${BigInt(this.latest.sentB).toString(16)}`,
      appData: ZERO_WORD,
      isFinal: false,
    };
    const signature = await this.account.signTypedData({
      domain: { name: "agnt2-adjudicator", version: "1", chainId, verifyingContract: this.channel.adjudicator },
      types: STATE_TYPES,
      primaryType: "State",
      message: { ...next, version: BigInt(next.version), sentA, sentB: BigInt(next.sentB) },
    });
    this.before = this.latest;
    this.latest = next;
    return { x402Version, payload: { channel: this.channel, state: next, signature } };
  }
}

/**
 * The resource server's side: prices are `{ amount, asset }` in the asset's smallest unit (wei
 * for ETH, the zero address); the requirements carry what the facilitator advertises for the
 * scheme in `/supported` (`adjudicator`, `hub`, `payTo`).
 */
export class Agnt2ChannelServerScheme {
  constructor() {
    this.scheme = SCHEME;
    this.defaultAssetTransferMethod = "default";
    this.paymentFlows = { default: { supported: ["authorization"], default: "authorization" } };
  }

  async parsePrice(price, network) {
    if (typeof price === "object" && price !== null && "amount" in price) {
      return { amount: String(price.amount), asset: price.asset ?? ZERO_ADDRESS, extra: price.extra ?? {} };
    }
    throw new Error(`${SCHEME} on ${network}: give the price as { amount, asset } in the asset's smallest unit`);
  }

  enhancePaymentRequirements(requirements, supportedKind) {
    return Promise.resolve({ ...requirements, extra: { ...(supportedKind?.extra ?? {}), ...(requirements.extra ?? {}) } });
  }
}
