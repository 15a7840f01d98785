# apilayer: every test with one command (`make test`), on a fresh machine.
#
# `make test` installs what the tests need when it is missing (redis-server
# and chromium from Debian packages when running as root; npm dependencies
# with `npm ci`), then runs go vet, a gofmt check, the Go tests with -race,
# and the React package's unit and browser tests (clients/react).

GO        ?= go
GOFLAGS   ?=
TESTFLAGS ?= -race -count=1 -timeout 15m

STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build test deps test-go lint fmt vet staticcheck demo clean bench bench-smoke bench-go

include clients/react/Makefile.inc
include clients/next/Makefile.inc

all: build

build:
	$(GO) build ./...

demo:
	$(GO) run ./cmd/apilayer demo

test: deps lint test-go test-react test-next bench-smoke

# deps installs the system packages the test suite uses, when missing.
deps:
	@need=""; \
	command -v redis-server >/dev/null 2>&1 || need="$$need redis-server"; \
	{ command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } || need="$$need chromium"; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing:$$need"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null; \
	  else \
	    echo "missing:$$need (install them with: sudo apt-get install$$need)"; \
	  fi; \
	fi

lint: vet staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

staticcheck:
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

vet:
	$(GO) vet ./...

test-go:
	$(GO) test $(GOFLAGS) $(TESTFLAGS) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# bench runs the full load harness and writes bench/results/<date>.md;
# bench-smoke is the quick run CI makes to show the harness works (it
# asserts no speed); bench-go runs the Go benchmarks.
bench:
	$(GO) run ./bench -out bench/results/$$(date -u +%Y-%m-%d).md

bench-smoke:
	$(GO) run ./bench -quick

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin dist
