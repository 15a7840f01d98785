# apilayer: every test with one command (`make test`), on a fresh machine.
#
# `make test` installs what the tests need when it is missing (redis-server,
# chromium, the app servers of internal/appservers, and nginx and caddy for
# internal/forwardauth, from Debian packages when running as root; npm
# dependencies with `npm ci`), then runs go vet, a gofmt check, the Go tests
# with -race, the JS packages' tests (clients/react, clients/next), the
# Next.js example's browser test (examples/nextjs), and the quick runs of the
# load harness and of the chaos suite (bench/).

GO        ?= go
GOFLAGS   ?=
TESTFLAGS ?= -race -count=1 -timeout 15m

STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build test deps test-go lint fmt vet staticcheck tidy demo clean bench bench-smoke bench-go chaos chaos-smoke \
	dist dist-bin dist-npm image

include clients/react/Makefile.inc
include internal/appservers/Makefile.inc
include clients/next/Makefile.inc
include examples/nextjs/Makefile.inc

all: build

build:
	$(GO) build ./...

demo:
	$(GO) run ./cmd/apilayer demo

test: deps lint test-go test-react test-next test-nextjs-example bench-smoke chaos-smoke

# deps installs the system packages the test suite uses, when missing. The
# app servers of internal/appservers run on Debian's /usr/bin/python3 (a
# python3 earlier in PATH would not see the Debian modules).
deps:
	@need=""; \
	command -v redis-server >/dev/null 2>&1 || need="$$need redis-server"; \
	command -v redis-sentinel >/dev/null 2>&1 || need="$$need redis-sentinel"; \
	{ command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } || need="$$need chromium"; \
	/usr/bin/python3 -c 'import django' >/dev/null 2>&1 || need="$$need python3-django"; \
	/usr/bin/python3 -c 'import gunicorn' >/dev/null 2>&1 || need="$$need gunicorn"; \
	/usr/bin/python3 -c 'import uvicorn' >/dev/null 2>&1 || need="$$need python3-uvicorn"; \
	command -v puma >/dev/null 2>&1 || need="$$need puma"; \
	ruby -e 'require "rack"' >/dev/null 2>&1 || need="$$need ruby-rack"; \
	{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || need="$$need nginx"; \
	command -v caddy >/dev/null 2>&1 || need="$$need caddy"; \
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

# chaos runs the chaos suite (faults under load on 3 instances and Redis,
# about 6 minutes; bench/doc.go); chaos-smoke is its quick run, which make
# test runs: under 2 minutes, it fails on a failed request, a logout, a
# duplicate refresh, backend calls past the breakers' bound or resources not
# back to baseline (never on a speed). Both need redis-server.
chaos:
	$(GO) run ./bench -chaos

chaos-smoke:
	$(GO) run ./bench -chaos -quick

# dist builds a release into dist/ (git-ignored):
#   dist/<os>_<arch>/apilayer                 static binaries (CGO_ENABLED=0), the
#                                             Dockerfile copies dist/linux_<arch>/apilayer
#   dist/apilayer_<version>_<os>_<arch>.tar.gz  the binary, LICENSE and README.md
#   dist/<package>-<version>.tgz              npm pack of every clients/*/ package
#   dist/SHA256SUMS                           sha256sum of the archives
# VERSION defaults to git describe; a release sets it: make dist VERSION=v0.2.0.
# The archives are reproducible: sorted, owned by 0:0, dated from the commit.
# Needs GNU tar, gzip, sha256sum and npm.
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null)
DIST       ?= dist
PLATFORMS  ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
VERSION_PKG := github.com/apilayer/apilayer/internal/version
DIST_LDFLAGS := -s -w -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).revision=$(REVISION)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
TAR_FLAGS := --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH)

dist:
	rm -rf $(DIST)
	@$(MAKE) --no-print-directory dist-bin
	@$(MAKE) --no-print-directory dist-npm
	cd $(DIST) && sha256sum *.tar.gz $$(ls *.tgz 2>/dev/null) > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

dist-bin:
	@mkdir -p $(DIST); set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; dir=$(DIST)/$${os}_$${arch}; name=apilayer_$(VERSION)_$${os}_$${arch}; \
	  echo "CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=auto -ldflags '$(DIST_LDFLAGS)' -o $$dir/apilayer ./cmd/apilayer"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=auto -ldflags '$(DIST_LDFLAGS)' -o $$dir/apilayer ./cmd/apilayer; \
	  cp LICENSE README.md $$dir/; \
	  tar $(TAR_FLAGS) --transform "s,^,$$name/," -C $$dir -cf - apilayer LICENSE README.md | gzip -9n > $(DIST)/$$name.tar.gz; \
	done

dist-npm:
	@mkdir -p $(DIST); set -e; for pkg in clients/*/package.json; do \
	  dir=$$(dirname $$pkg); echo "npm pack $$dir"; \
	  (cd $$dir && npm ci --no-audit --no-fund --loglevel=warn >/dev/null && \
	   npm run --if-present --silent build >/dev/null && \
	   npm pack --loglevel=warn --pack-destination $(abspath $(DIST)) >/dev/null); \
	done

# image builds the container image for IMAGE_ARCH from the linux binary of
# make dist, with docker, podman or buildah (HEALTHCHECK needs the docker
# format; older buildah does not set TARGETARCH itself).
IMAGE      ?= apilayer:$(VERSION)
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
image:
	@test -x $(DIST)/linux_$(IMAGE_ARCH)/apilayer || (echo "run make dist first"; exit 1)
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
	  docker build --platform linux/$(IMAGE_ARCH) -t $(IMAGE) .; \
	elif command -v podman >/dev/null 2>&1; then \
	  podman build --format docker --platform linux/$(IMAGE_ARCH) --build-arg TARGETARCH=$(IMAGE_ARCH) -t $(IMAGE) .; \
	else buildah bud --format docker --platform linux/$(IMAGE_ARCH) --build-arg TARGETARCH=$(IMAGE_ARCH) -t $(IMAGE) .; fi

clean:
	rm -rf bin dist
