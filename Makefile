# agnt2 — the two commands a newcomer needs are `make devnet` and `make test`.
SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools
export PATH := $(TOOLS)/bin:$(PATH)
CARGO ?= cargo

.PHONY: devnet devnet-full test check tools bench-tools build kona-check contracts genesis fmt clippy bench clean-tools

## Build and start the devnet on embedded defaults (http+ws on 127.0.0.1:8545).
devnet: build
	$(CARGO) run -p agnt2 -- node --dev --datadir $(CURDIR)/.devnet

## anvil as the L1 + the OP Stack's L1 contracts + the rollup node following it + the hub.
devnet-full: tools contracts
	$(CARGO) build -p agnt2 -p agnt2-hub
	scripts/devnet-full.sh

## Install the project's tools, build, run every test.
test: tools bench-tools build kona-check contracts
	command -v cargo-nextest >/dev/null || $(CARGO) install cargo-nextest --locked
	cd contracts && forge test
	$(CARGO) nextest run --workspace --no-fail-fast

build:
	$(CARGO) build --workspace --all-targets

## kona-protocol's decoder of batcher transactions (its own workspace: kona pins alloy 1.x), for
## the tests that check agnt2's batches against an implementation it did not write.
kona-check:
	$(CARGO) build --locked --manifest-path tools/kona-check/Cargo.toml --target-dir $(CURDIR)/target

## Source checks CI runs before the tests: file names, formatting, clippy, rustdoc.
check:
	@bad=$$(git ls-files -z | LC_ALL=C grep -z '[[:cntrl:]]' | tr '\0' '\n' || true); \
	  if [ -n "$$bad" ]; then echo "file names with control characters:"; echo "$$bad"; exit 1; fi
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --workspace

## Foundry (forge, cast, anvil), solc and the x402 SDKs from the npm registry, and the Python x402
## client from PyPI (a venv), into .tools/ (git-ignored).
tools: $(TOOLS)/.installed

$(TOOLS)/.installed: tools/package.json tools/solc-shim.cjs tools/requirements.txt
	mkdir -p $(TOOLS)/bin
	cp tools/package.json $(TOOLS)/package.json
	cd $(TOOLS) && npm install --no-audit --no-fund --loglevel=error
	python3 -m venv $(TOOLS)/py
	$(TOOLS)/py/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	chmod +x $(TOOLS)/node_modules/@foundry-rs/*-linux-*/bin/*
	for t in forge cast anvil; do ln -sf ../node_modules/@foundry-rs/$$t-linux-amd64/bin/$$t $(TOOLS)/bin/$$t; done
	cp tools/solc-shim.cjs $(TOOLS)/bin/solc-shim.cjs
	printf '#!/bin/sh\nexec node "$$(dirname "$$0")/solc-shim.cjs" "$$@"\n' > $(TOOLS)/bin/solc
	chmod +x $(TOOLS)/bin/solc
	forge --version | head -1 && solc --version | tail -1
	touch $@

## What only `make bench` needs: Debian's nginx (the reference proxy of `agnt2 bench sidecar`),
## unpacked into .tools/nginx without installing it system-wide.
bench-tools: $(TOOLS)/nginx/usr/sbin/nginx

$(TOOLS)/nginx/usr/sbin/nginx:
	mkdir -p $(TOOLS)/debs
	cd $(TOOLS)/debs && { apt-get download nginx 2>/dev/null || { apt-get update -qq && apt-get download nginx; }; }
	dpkg -x $$(ls $(TOOLS)/debs/nginx_*.deb | head -1) $(TOOLS)/nginx
	$@ -v

contracts: tools
	cd contracts && forge build

## Regenerate genesis/devnet.json from the predeploy contracts.
genesis: contracts
	python3 scripts/gen-genesis.py

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: tools bench-tools contracts
	$(CARGO) build --release -p agnt2 -p agnt2-hub -p agnt2-sidecar-bin
	scripts/bench-e2e.sh
	scripts/bench-channels.sh
	scripts/bench-settlement.sh
	scripts/bench-sidecar.sh
	target/release/agnt2 -q bench agent --calls 200 --rounds 7
	scripts/bench-da.sh 5000
	for w in transfer erc20 agent swap contended mixed; do \
	  target/release/agnt2 -q bench builder --workload $$w --txs 4000 --threads 2 --rounds 9; done

clean-tools:
	rm -rf $(TOOLS)
