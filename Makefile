GO ?= go
BIN := bin/leadscore
PKG := github.com/leadscore/leadscore
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test demo lint bench proto proto-check deps-check fmt-check vet

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/leadscore

test:
	$(GO) test -count=1 ./...

demo: build
	./$(BIN) demo

lint: fmt-check vet deps-check proto-check

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# deps-check enforces the package arrows of DESIGN.md.
deps-check:
	@./scripts/deps-check.sh

BENCH_ROWS ?= 1000000

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	ROWS=$(BENCH_ROWS) ./scripts/bench/train-vs-sklearn.sh
	./scripts/bench/serve-vs-trivial.sh

proto:
	./scripts/proto.sh

proto-check:
	@./scripts/proto.sh --check
