GO ?= go
BIN := bin/leadscore
PKG := github.com/leadscore/leadscore
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test demo lint bench proto proto-check deps-check fmt-check vet deploy-check deploy-render

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/leadscore

test:
	$(GO) test -count=1 ./...

demo: build
	./$(BIN) demo

lint: fmt-check vet deps-check proto-check wallclock-check

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# wallclock-check fails on a test that asserts on elapsed time (scripts/wallclock-check.sh says what it matches).
.PHONY: wallclock-check
wallclock-check:
	@./scripts/wallclock-check.sh

# deps-check enforces the package arrows of DESIGN.md.
deps-check:
	@./scripts/deps-check.sh

BENCH_ROWS ?= 1000000
# BENCH_EQUAL_ROWS is the size of the equal-work comparison with scikit-learn (issue 14: 300,000).
BENCH_EQUAL_ROWS ?= 300000

# bench: Go benchmarks (BenchmarkReadParquet on BENCH_ROWS contacts from `leadscore generate`), then
# train against scikit-learn at equal work on BENCH_EQUAL_ROWS contacts (both models; the default
# cross-validated penalty and a fixed C, both ways), serve against a trivial handler, each peer in the same run, then
# training's scaling (1M and 5M contacts with the default flags: time, peak memory, their ratio; long).
bench: build
	mkdir -p out/bench
	./$(BIN) generate --rows $(BENCH_ROWS) --seed 1 --out out/bench/contacts.parquet
	LEADSCORE_BENCH_PARQUET=$(CURDIR)/out/bench/contacts.parquet $(GO) test -run '^$$' -bench . -benchmem ./...
	ROWS=$(BENCH_EQUAL_ROWS) ./scripts/bench/train-vs-sklearn.sh
	./scripts/bench/serve-vs-trivial.sh
	./scripts/bench/train-scale.sh

proto:
	./scripts/proto.sh

proto-check:
	@./scripts/proto.sh --check

# soak runs the reliability tests with their long durations (reload storm, storage faults, shutdown,
# overload, restart, hostile input; loopback only, about 6 minutes on 2 cores), then the fuzz targets.
# `make test` runs the same tests in their short form. The fuzz targets run even when a test failed,
# so one run reports everything; the target fails if either did.
.PHONY: soak fuzz
soak:
	@status=0; \
	LEADSCORE_SOAK=1 $(GO) test -count=1 -timeout 9m -v ./reliability || status=1; \
	$(MAKE) --no-print-directory fuzz || status=1; \
	exit $$status

# FUZZTIME is an execution count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# fail a target with a bare "context deadline exceeded" at the deadline when the machine is loaded
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 30000x

# fuzz runs each fuzz target for FUZZTIME: the request decoder (typed contacts, and raw wire bytes), the pooled
# request decoder against protobuf's, the gRPC codec (generated decoding against protobuf's), the rules parser,
# the CSV and Parquet
# readers and the model artifact decoder. Minimising a find is capped (also by count) so large inputs
# do not stall it.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzPredict$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./serve
	$(GO) test -run '^$$' -fuzz '^FuzzPredictWire$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./serve
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeLikeProto$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./serve
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./serve/codec
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./models/rules
	$(GO) test -run '^$$' -fuzz '^FuzzReadCSV$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./train/dataset
	$(GO) test -run '^$$' -fuzz '^FuzzReadParquet$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./train/dataset
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeArtifact$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./reliability

# helm from PATH, else where scripts/ci-deps.sh installs it.
HELM ?= $(shell command -v helm 2>/dev/null || echo "$$($(GO) env GOPATH)/bin/helm")
CHART := deploy/helm/leadscore

# deploy-check checks the Helm chart offline: helm lint with its defaults and every ci/*-values.yaml,
# then deploy/check (a module of its own, so k8s.io/api stays out of ours) renders each value set with
# helm template and strict-decodes every object with k8s.io/api types, runs every leadscore command
# line the chart holds through the built binary's flag parser, fails when deploy/kustomize is stale, and
# builds the kustomize overlay example of deploy/kustomize/kustomization.yaml.
deploy-check: build
	@[ -x "$(HELM)" ] || { echo "deploy-check: helm not found; scripts/ci-deps.sh installs it (go install helm.sh/helm/v4/cmd/helm@v4.3.2)"; exit 1; }
	$(HELM) lint --strict $(CHART)
	@for f in $(CHART)/ci/*-values.yaml; do echo "$(HELM) lint --strict $(CHART) -f $$f"; $(HELM) lint --strict $(CHART) -f $$f || exit 1; done
	cd deploy/check && $(GO) vet ./... && HELM=$(HELM) LEADSCORE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 ./...

# deploy-render regenerates deploy/kustomize/leadscore.yaml from the chart's defaults.
deploy-render:
	cd deploy/check && HELM=$(HELM) $(GO) test -count=1 -run '^TestKustomizeUpToDate$$' . -update
