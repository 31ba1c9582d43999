# chaosops: chaos experiments as Day-2 operations for Cloudify.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
PKG     := github.com/cloudify-chaos/chaosops
LDFLAGS := -s -w -X $(PKG)/plugin/version.Version=$(VERSION) -X $(PKG)/plugin/version.Commit=$(COMMIT)
# urfave_cli_no_docs drops the man/markdown generators (and their init cost).
GOFLAGS_BUILD := -trimpath -tags urfave_cli_no_docs -ldflags "$(LDFLAGS)"
BIN     := bin/chaosops
TESTENV := scripts/testenv.sh
GO_TEST_FLAGS ?= -count=1 -timeout 40m

.PHONY: help build test unit vet bench demo testenv-build testenv-start testenv-stop clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

build: ## build the static linux/amd64 executable bin/chaosops
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build $(GOFLAGS_BUILD) -o $(BIN) ./plugin/cmd/chaosops
	@ls -l $(BIN)

vet: ## gofmt check and go vet
	@test -z "$$(gofmt -l plugin)" || { echo "gofmt would change:"; gofmt -l plugin; exit 1; }
	go vet ./...

test: build vet testenv-build ## everything: vet, blueprint lint, unit and integration tests (real control plane), the real Chaos Mesh controller's tests
	$(if $(wildcard blueprints/*/blueprint.yaml),$(BIN) blueprint lint $(dir $(wildcard blueprints/*/blueprint.yaml)))
	CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test $(GO_TEST_FLAGS) ./...
	$(MAKE) test-real
	$(MAKE) fuzz-quick

# A second control plane, in its own state dir and on its own ports, runs
# the real Chaos Mesh controller-manager (webhooks, chaos-daemon stand-in)
# while the default one keeps the controller stand-in.
REAL_TESTENV := CHAOSOPS_TESTENV_CHAOS=real CHAOSOPS_TESTENV_DIR=/tmp/chaosops-testenv-real \
	CHAOSOPS_TESTENV_APISERVER_PORT=47443 CHAOSOPS_TESTENV_ETCD_PORT=43379 CHAOSOPS_TESTENV_ETCD_PEER_PORT=43380 \
	CHAOSOPS_TESTENV_DAEMON_PORT=41767 CHAOSOPS_TESTENV_WEBHOOK_PORT=49443 CHAOSOPS_TESTENV_CHAOS_METRICS_PORT=49080
# Packages whose tests run again against the real controller; then the demo
# (TestDemo: the bundle installed, RunHTTPChaos through real controller ->
# chaos-daemon stand-in -> fault proxies).
REAL_PACKAGES := ./plugin/internal/testenv ./plugin/internal/daemonstandin ./plugin/experiment ./plugin/chaos/realtest

.PHONY: test-real
test-real: build testenv-build ## the tests that need the real Chaos Mesh controller, on a second control plane in real mode
	$(REAL_TESTENV) CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test $(GO_TEST_FLAGS) $(REAL_PACKAGES) && \
	$(REAL_TESTENV) CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test $(GO_TEST_FLAGS) -run '^TestDemo$$' ./plugin/local; \
	rc=$$?; $(REAL_TESTENV) $(TESTENV) stop; exit $$rc

unit: build ## only the tests that need no control plane (go test -short)
	CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test -short $(GO_TEST_FLAGS) ./...

bench: build testenv-build ## benchmarks (numbers go to docs/benchmarks.md)
	CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test -run '^$$' -bench . -benchtime 5x -timeout 60m ./...

.PHONY: bundle
bundle: build ## one archive per blueprint in dist/ for cfy blueprint upload (linted; prints the upload commands)
	CHAOSOPS_BIN=$(CURDIR)/$(BIN) scripts/bundle.sh

.PHONY: reliability fuzz-quick
reliability: build testenv-build ## long trials: 50 cancels, API restarts and faults, bad input, secrets, RBAC, fuzz 60s each; figures to docs/reliability.md
	CHAOSOPS_BIN=$(CURDIR)/$(BIN) go run ./plugin/cmd/reliability -fuzztime 60s -out docs/reliability.md

fuzz-quick: ## run every fuzz target for 10 s (seed corpora in testdata/fuzz)
	go run ./plugin/cmd/reliability -fuzz-only -fuzztime 10s

demo: build ## the whole story locally: app + traffic, install the bundle, RunHTTPChaos, verdict + chart (KUBECONFIG=... for a real cluster)
	scripts/demo.sh

testenv-build: ## build (or reuse) the cached kube-apiserver/etcd/kwok binaries
	$(TESTENV) build

testenv-start: testenv-build ## start the real test control plane
	$(TESTENV) start

testenv-stop: ## stop the test control plane
	$(TESTENV) stop

clean: ## remove build output and local state
	rm -rf bin dist .chaosops
