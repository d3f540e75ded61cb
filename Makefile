# stagescope — the two commands a newcomer needs are `make run` and `make test`.

GO       ?= go
BIN      := bin/stagescope
EXAMPLE  ?= examples/hello-multistage
# go test flags for the whole suite: never a cached result, and time for the
# engine-backed tests on 2 cores.
TESTFLAGS ?= -count=1 -timeout 30m
FUZZTIME ?= 20s
# The differential fuzzer against BuildKit's conversion, run alone.
FUZZTIME_ORACLE ?= 10m

.PHONY: all build run run-headless story examples test race vet unit engines bases fuzz fuzz-oracle bench clean

all: build

# stagescope --version says what git describe says of the work tree.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

build:
	$(GO) build -ldflags "-X github.com/stagescope/stagescope/internal/version.Version=$(VERSION)" -o $(BIN) ./cmd/stagescope

# The main job: build stagescope, make sure an engine answers (BUILDKIT_HOST,
# else Docker, else the private buildkitd), assemble the offline golang base,
# then open the TUI on the example. A buildkitd gets the base as an OCI
# layout and Docker as an image in its store: both cache steps on it across
# builds (scripts/offline-bases context).
run: build
	@set -e; eval "$$(scripts/engine)"; \
	golang=$$(scripts/offline-bases context golang); \
	exec $(BIN) $(EXAMPLE) --build-context golang=$$golang

# The same build without the TUI: builder, then the final stage.
run-headless: build
	@set -e; eval "$$(scripts/engine)"; \
	golang=$$(scripts/offline-bases context golang); \
	$(BIN) build $(EXAMPLE) --target builder --build-context golang=$$golang --progress plain; \
	$(BIN) build $(EXAMPLE) --build-context golang=$$golang --progress plain

# The whole story on one screen: the TUI on the four teaching examples
# together (single stage, builder pattern, multi-stage Java, Go on scratch);
# a builds every target of every file, c shows them in one table. The
# first time it assembles the Java bases (a few minutes, debootstrap) and
# makes the builder pattern's jar with its build.sh on Docker.
story: build
	@scripts/story

# The four teaching examples, offline, and one size table (CI runs it).
examples: build
	scripts/examples

# Everything CI runs: vet, unit tests, and end-to-end tests on a real
# buildkitd and a real dockerd (both started here when not running).
# The engines answer slowly while the test packages run in parallel on two
# cores: a longer reachability probe keeps that from reading as "unreachable".
test: vet engines bases
	STAGESCOPE_PROBE_TIMEOUT=15s $(GO) test $(TESTFLAGS) ./...
	$(MAKE) race
	$(MAKE) fuzz

# The whole suite again under the race detector (docs/reliability.md).
race:
	STAGESCOPE_PROBE_TIMEOUT=15s $(GO) test -race $(TESTFLAGS) ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -short ./...

# Emulated linux/arm64 RUN steps where the kernel allows (scripts/binfmt
# says which, and what works without).
engines:
	scripts/buildkitd start
	scripts/dockerd start
	-scripts/binfmt start

bases:
	scripts/offline-bases

# Short fuzzing runs of every fuzz target (FUZZTIME each).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# FuzzDifferential alone for FUZZTIME_ORACLE (10m): generated Dockerfiles,
# every target, stagescope's closure against BuildKit's own conversion
# (docs/reliability.md). The counts of Dockerfiles and target checks are
# summed over the fuzzing processes at the end.
fuzz-oracle:
	@stats=$$(mktemp -d)/stats; \
	STAGESCOPE_DIFFFUZZ_STATS=$$stats $(GO) test -run '^$$' -fuzz '^FuzzDifferential$$' -fuzztime $(FUZZTIME_ORACLE) ./buildgraph || exit 1; \
	cat $$stats.* 2>/dev/null | awk '{for (i = 1; i <= NF; i++) { split($$i, kv, "="); n[kv[1]] += kv[2] }} \
	  END {printf "differential: %d Dockerfiles, %d target checks (%d accepted, %d rejected)\n", n["dockerfiles"], n["targets"], n["accepted"], n["rejected"]}'

# Benchmarks print their ratios against reference runs in the same
# invocation (b.ReportMetric): stagescope against buildctl on the same
# buildkitd, Parse against BuildKit's parser, measuring against docker save.
BENCHTIME ?= 3x
bench: engines bases
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -timeout 60m ./...

clean:
	rm -rf bin
