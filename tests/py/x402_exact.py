"""An x402 `exact` payment payload made by the unmodified Python `x402` client scheme (its own
EIP-3009 signing), printed as JSON.
Usage: python x402_exact.py <chainId> <token> <payerKey> <payTo> <amount>"""
import json
import sys

from eth_account import Account
from x402.mechanisms.evm.exact import ExactEvmClientScheme
from x402.schemas import PaymentRequirements

chain_id, asset, key, pay_to, amount = sys.argv[1:6]
requirements = PaymentRequirements(
    scheme="exact",
    network=f"eip155:{chain_id}",
    asset=asset,
    amount=amount,
    pay_to=pay_to,
    max_timeout_seconds=300,
    extra={"name": "agnt2 USD", "version": "1"},
)
payload = ExactEvmClientScheme(Account.from_key(key)).create_payment_payload(requirements)
print(json.dumps({"x402Version": 2, "payload": payload}))
