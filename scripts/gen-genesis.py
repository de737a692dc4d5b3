#!/usr/bin/env python3
"""Writes genesis/devnet.json from the compiled predeploys (contracts/out) and the dev accounts.

Run through `make genesis` (which builds the contracts first). The node's tests check that the
committed genesis still matches what this script produces from the contracts.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAST = os.path.join(ROOT, ".tools", "bin", "cast")
MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 80042
DEV_BALANCE = 10_000 * 10**18
# agnt2 USD, the devnet's EIP-3009 token (x402's `exact` scheme): 6 decimals, 1,000,000 to each
# dev account, dev account 0 mints. `agnt2 launch` leaves it out of chains that hold value.
USD_ADDRESS = "0x4200000000000000000000000000000000000402"
USD_DEV_BALANCE = 1_000_000 * 10**6


def runtime_code(contract, source=None):
    path = os.path.join(ROOT, "contracts", "out", f"{source or contract}.sol", f"{contract}.json")
    with open(path) as f:
        return json.load(f)["deployedBytecode"]["object"]


def predeploy(n):
    return "0x42" + "00" * 18 + f"{n:02x}"


def slot(n):
    return "0x" + f"{n:064x}"


def short_string(text):
    """A Solidity string of at most 31 bytes as its storage word."""
    data = text.encode()
    assert len(data) < 32
    return "0x" + (data + b"\0" * (31 - len(data)) + bytes([2 * len(data)])).hex()


def mapping_slot(key, index):
    return subprocess.check_output([CAST, "index", "address", key, str(index)], text=True).strip()


def authorized_token(accounts):
    """AuthorizedToken's code and storage (contracts/src/x402/AuthorizedToken.sol's layout)."""
    storage = {
        slot(0): short_string("agnt2 USD"),
        slot(1): short_string("aUSD"),
        # decimals (byte 0) and minter (bytes 1..21) share slot 2.
        slot(2): slot((int(accounts[0], 16) << 8) | 6),
        slot(3): slot(USD_DEV_BALANCE * len(accounts)),
    }
    for a in accounts:
        storage[mapping_slot(a, 4)] = slot(USD_DEV_BALANCE)
    return {"balance": "0x0", "code": runtime_code("AuthorizedToken"), "storage": storage}


def main():
    out = os.path.join(ROOT, "genesis", "devnet.json")
    if len(sys.argv) == 3 and sys.argv[1] == "--out":
        out = sys.argv[2]
    accounts = []
    for i in range(20):
        address = subprocess.check_output(
            [CAST, "wallet", "address", "--mnemonic", MNEMONIC, "--mnemonic-index", str(i)], text=True
        )
        accounts.append(address.strip())

    alloc = {}
    for a in accounts:
        alloc[a] = {"balance": hex(DEV_BALANCE)}

    vault = runtime_code("FeeVault")
    recipient = "0x" + "00" * 12 + accounts[0][2:].lower()
    for n in (0x11, 0x19, 0x1A, 0x1B):
        alloc[predeploy(n)] = {"balance": "0x0", "code": vault, "storage": {slot(0): recipient}}
    alloc[predeploy(0x15)] = {"balance": "0x0", "code": runtime_code("L1Block")}
    alloc[predeploy(0x16)] = {"balance": "0x0", "code": runtime_code("L2ToL1MessagePasser")}
    # The messenger and the standard bridge, initialized as OP's proxies are: `_initialized` = 1
    # (messenger: byte 20 of slot 0; bridge: byte 0), xDomainMsgSender = 0x…dead (slot 204), the
    # bridge's messenger (slot 3). The L1 side (messenger slot 207, bridge slot 4) is written by
    # `agnt2 launch`, which knows the L1 deployment; on the plain devnet there is none.
    alloc[predeploy(0x07)] = {
        "balance": "0x0",
        "code": runtime_code("L2CrossDomainMessenger"),
        "storage": {slot(0): slot(1 << 160), slot(204): slot(0xDEAD)},
    }
    alloc[predeploy(0x10)] = {
        "balance": "0x0",
        "code": runtime_code("L2StandardBridge"),
        "storage": {slot(0): slot(1), slot(3): "0x" + "00" * 12 + predeploy(0x07)[2:]},
    }
    # isEcotone, isFjord, isIsthmus, isJovian packed in slot 0.
    alloc[predeploy(0x0F)] = {
        "balance": "0x0",
        "code": runtime_code("GasPriceOracle"),
        "storage": {slot(0): slot(0x01010101)},
    }

    alloc[USD_ADDRESS] = authorized_token(accounts)

    # The interaction trie's account (nonce 1: never cleared as empty) and, at each agent
    # precompile, the Solidity twin of the precompile (contracts/src/agnt2): the node runs the
    # precompile, never this code, but Foundry's EVM (forge script simulation, forge test
    # --fork-url) fetches and runs it, and it reads and writes the interaction trie through
    # AgentStateTwin, the code of the trie's account.
    alloc["0x" + "00" * 18 + "8000"] = {
        "balance": "0x0",
        "nonce": "0x1",
        "code": runtime_code("AgentStateTwin", "AgentState"),
    }
    twins = {
        "8004": "IdentityTwin",
        "8005": "ReputationTwin",
        "8007": "CapabilitiesTwin",
        "8008": "SessionsTwin",
        "8009": "InteractionsTwin",
    }
    for precompile, twin in twins.items():
        alloc["0x" + "00" * 18 + precompile] = {"balance": "0x0", "code": runtime_code(twin)}

    genesis = {
        "config": {
            "chainId": CHAIN_ID,
            "homesteadBlock": 0,
            "eip150Block": 0,
            "eip155Block": 0,
            "eip158Block": 0,
            "byzantiumBlock": 0,
            "constantinopleBlock": 0,
            "petersburgBlock": 0,
            "istanbulBlock": 0,
            "muirGlacierBlock": 0,
            "berlinBlock": 0,
            "londonBlock": 0,
            "arrowGlacierBlock": 0,
            "grayGlacierBlock": 0,
            "mergeNetsplitBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,
            "pragueTime": 0,
            "bedrockBlock": 0,
            "regolithTime": 0,
            "canyonTime": 0,
            "ecotoneTime": 0,
            "fjordTime": 0,
            "graniteTime": 0,
            "holoceneTime": 0,
            "isthmusTime": 0,
            "jovianTime": 0,
            "terminalTotalDifficulty": 0,
            "terminalTotalDifficultyPassed": True,
            "optimism": {
                "eip1559Elasticity": 6,
                "eip1559Denominator": 50,
                "eip1559DenominatorCanyon": 250,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": "0x",
        "gasLimit": hex(100_000_000),
        "difficulty": "0x0",
        "mixHash": "0x" + "00" * 32,
        "coinbase": predeploy(0x11),
        "baseFeePerGas": hex(1_000_000_000),
        "alloc": alloc,
    }
    with open(out, "w") as f:
        json.dump(genesis, f, indent=2)
        f.write("\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
