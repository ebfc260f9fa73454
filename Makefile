# The README's two commands are `make run` and `make test`.
GO ?= go

# Tests that need PostgreSQL use this server (trust auth); each test works in
# its own schema. Unset it to skip them outside CI.
BROADSHEET_TEST_POSTGRES_DSN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export BROADSHEET_TEST_POSTGRES_DSN

# The version stamped into the binary: the nearest tag, else the commit,
# from git (`broadsheet version` prints it). Without git the binary falls
# back on its build information.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS := $(if $(VERSION),-X main.Version=$(VERSION))

.PHONY: run test test-deps build static vet fmt-check fuzz bench

## run: the daemon on ./config.yaml with the embedded SQLite store. It
## builds, then execs the binary (`go run` turned a clean stop into an
## error), which takes the terminal for itself (BROADSHEET_TAKE_TERMINAL):
## Ctrl-C then stops the daemon cleanly without interrupting make, which
## exits 0.
run: build
	@echo "make run: starting bin/broadsheet run --config config.yaml (Ctrl-C stops it)"
	@BROADSHEET_TAKE_TERMINAL=1 exec bin/broadsheet run --config config.yaml

## build: a static binary in ./bin
build:
	@if [ ! -x bin/broadsheet ]; then echo "make: building bin/broadsheet for the first time: Go downloads and compiles the modules, which takes a minute or two..."; fi
	@CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/broadsheet ./cmd/broadsheet
	@echo "make: built bin/broadsheet $$(bin/broadsheet version | cut -d' ' -f2)"

## static: the binary of the container image (Dockerfile): static,
## without paths or symbols, with the time zone database inside (for
## CRON_TZ= on a base without one)
STATIC_OUT ?= bin/broadsheet-static
static:
	CGO_ENABLED=0 $(GO) build -trimpath -tags timetzdata -ldflags "-s -w $(LDFLAGS)" -o $(STATIC_OUT) ./cmd/broadsheet

## test: install what the tests need, then run every test
test: test-deps
	$(GO) test -count=1 -timeout 15m ./...

## test-deps: Debian packages and Go tools the tests use
test-deps:
	scripts/test-deps

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi

## fuzz: each fuzz target for FUZZTIME (default 10s)
FUZZTIME ?= 10s
fuzz:
	scripts/fuzz $(FUZZTIME)

## bench: every benchmark once, printing figures
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...
