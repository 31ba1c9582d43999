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
# KEEP_TESTENV=1 leaves the test control plane running after test,
# test-chaos, bench and reliability, for fast reruns (stop it with make
# testenv-stop). By default each of them stops the plane if it was not
# running before: go test's packages share one plane started by
# plugin/internal/testenv, so it is stopped once, after all of them.
KEEP_TESTENV ?=
# with_testenv runs the command $(1), then stops the control plane unless it
# was running before or KEEP_TESTENV is set; the command's exit code stays.
define with_testenv
	@up=0; $(TESTENV) status >/dev/null 2>&1 && up=1; rc=0; \
	echo '$(subst ','\'',$(1))'; $(1) || rc=$$?; \
	if [ $$up = 0 ] && [ -z "$(KEEP_TESTENV)" ]; then $(TESTENV) stop; \
	elif [ $$up = 0 ]; then echo "KEEP_TESTENV set: the test control plane keeps running (make testenv-stop)"; fi; \
	exit $$rc
endef

.PHONY: help build test unit vet bench demo testenv-build testenv-start testenv-stop clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

build: ## build the static linux/amd64 executable bin/chaosops
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build $(GOFLAGS_BUILD) -o $(BIN) ./plugin/cmd/chaosops
	@ls -l $(BIN)

vet: ## gofmt check and go vet
	@test -z "$$(gofmt -l plugin)" || { echo "gofmt would change:"; gofmt -l plugin; exit 1; }
	go vet ./...

test: build vet testenv-build ## everything: vet, blueprint lint, unit and integration tests (real control plane with the real Chaos Mesh controller), the demo, quick fuzzing
	$(if $(wildcard blueprints/*/blueprint.yaml),$(BIN) blueprint lint $(dir $(wildcard blueprints/*/blueprint.yaml)))
	$(call with_testenv,CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test $(GO_TEST_FLAGS) ./...)
	$(MAKE) fuzz-quick

# The chaos lifecycle's own packages, for a quick round on the real Chaos
# Mesh controller (make test runs them too).
CHAOS_PACKAGES := ./plugin/internal/standin/chaosdaemon ./plugin/chaos/... ./plugin/experiment

.PHONY: test-chaos
test-chaos: build testenv-build ## only the chaos lifecycle's tests against the real Chaos Mesh controller
	$(call with_testenv,CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test $(GO_TEST_FLAGS) $(CHAOS_PACKAGES))

unit: build ## only the tests that need no control plane (go test -short)
	CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test -short $(GO_TEST_FLAGS) ./...

bench: build testenv-build ## benchmarks (numbers go to docs/benchmarks.md)
	$(call with_testenv,CHAOSOPS_BIN=$(CURDIR)/$(BIN) go test -run '^$$' -bench . -benchtime 5x -timeout 60m ./...)

.PHONY: bundle
bundle: build ## one archive per blueprint in dist/ for cfy blueprint upload (linted; prints the upload commands)
	CHAOSOPS_BIN=$(CURDIR)/$(BIN) scripts/bundle.sh

.PHONY: reliability fuzz-quick
reliability: build testenv-build ## long trials: 50 cancels, API restarts and faults, bad input, secrets, RBAC, fuzz 60s each; figures to docs/reliability.md
	$(call with_testenv,CHAOSOPS_BIN=$(CURDIR)/$(BIN) go run ./plugin/internal/cmd/reliability -fuzztime 60s -out docs/reliability.md)

# The fuzz runs' test binaries start the control plane in TestMain like any
# test of their package: with_testenv stops it again.
fuzz-quick: ## run every fuzz target for 10 s (seed corpora in testdata/fuzz)
	$(call with_testenv,go run ./plugin/internal/cmd/reliability -fuzz-only -fuzztime 10s)

demo: build ## the whole story locally: app + traffic, install the bundle, RunHTTPChaos, verdict + chart (KUBECONFIG=... for a real cluster)
	$(if $(KEEP_TESTENV),DEMO_KEEP=1 )scripts/demo.sh

testenv-build: ## build (or reuse) the cached kube-apiserver/etcd/kwok binaries
	$(TESTENV) build

testenv-start: testenv-build ## start the real test control plane
	$(TESTENV) start

testenv-stop: ## stop the test control plane
	$(TESTENV) stop

clean: ## remove build output and local state
	rm -rf bin dist .chaosops
