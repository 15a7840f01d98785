# apilayer: every test with one command (`make test`), on a fresh machine.
#
# `make test` installs what the tests need when it is missing (redis-server,
# chromium and the app servers of internal/appservers from Debian packages
# when running as root; npm dependencies with `npm ci`), then runs go vet, a
# gofmt check, the Go tests with -race, and the React package's unit and
# browser tests (clients/react).

GO        ?= go
GOFLAGS   ?=
TESTFLAGS ?= -race -count=1 -timeout 15m

STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build test deps test-go lint fmt vet staticcheck tidy demo clean bench bench-smoke bench-go

include clients/react/Makefile.inc
include internal/appservers/Makefile.inc

all: build

build:
	$(GO) build ./...

demo:
	$(GO) run ./cmd/apilayer demo

test: deps lint test-go test-react bench-smoke

# deps installs the system packages the test suite uses, when missing. The
# app servers of internal/appservers run on Debian's /usr/bin/python3 (a
# python3 earlier in PATH would not see the Debian modules).
deps:
	@need=""; \
	command -v redis-server >/dev/null 2>&1 || need="$$need redis-server"; \
	{ command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } || need="$$need chromium"; \
	/usr/bin/python3 -c 'import django' >/dev/null 2>&1 || need="$$need python3-django"; \
	/usr/bin/python3 -c 'import gunicorn' >/dev/null 2>&1 || need="$$need gunicorn"; \
	/usr/bin/python3 -c 'import uvicorn' >/dev/null 2>&1 || need="$$need python3-uvicorn"; \
	command -v puma >/dev/null 2>&1 || need="$$need puma"; \
	ruby -e 'require "rack"' >/dev/null 2>&1 || need="$$need ruby-rack"; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing:$$need"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null; \
	  else \
	    echo "missing:$$need (install them with: sudo apt-get install$$need)"; \
	  fi; \
	fi

lint: vet staticcheck tidy
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# tidy fails when go.mod or go.sum is not what `go mod tidy` makes.
tidy:
	@$(GO) mod tidy -diff || { echo "go.mod is not tidy: run go mod tidy"; exit 1; }

staticcheck:
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

vet:
	$(GO) vet ./...

test-go: appservers-deps
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
