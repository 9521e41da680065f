# Build, test and check briefd. `make check` is what CI runs besides the tests.
GO ?= go

.PHONY: build test check check-cross test-emulated release fuzz bench bench-go bench-compare

# The release targets: the office's PCs (Windows), 信创 Linux (arm64: Kunpeng, Phytium; loong64: Loongson),
# servers, and macOS for developers.
TARGETS ?= linux/amd64 linux/arm64 linux/loong64 windows/amd64 darwin/arm64

build:
	$(GO) build -o briefd ./cmd/briefd

test:
	$(GO) test ./...

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff
	@command -v staticcheck >/dev/null || { echo "staticcheck is not installed: go install honnef.co/go/tools/cmd/staticcheck@v0.8.2"; exit 1; }
	staticcheck ./...
	staticcheck -tags crash ./...

# go vet, and a build of briefd, for every release target (CI runs it), with the release's flags so that
# `make release` afterwards finds every package compiled.
check-cross:
	@set -e; for t in $(TARGETS); do \
	  echo "== $$t"; \
	  CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet -trimpath ./...; \
	  CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -trimpath -o /dev/null ./cmd/briefd; \
	done

# pdfcheck, store and roster tests for linux/arm64 and linux/loong64 under qemu-user (see .ci/test-emulated).
test-emulated:
	GO=$(GO) .ci/test-emulated

# One archive per target and SHA256SUMS in dist/ (deploy/release.sh).
release:
	GO=$(GO) TARGETS="$(TARGETS)" deploy/release.sh

# Run each fuzz target for FUZZTIME (default 1m).
FUZZTIME ?= 1m
fuzz:
	$(GO) test ./pdfcheck -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pdfcheck -run '^$$' -fuzz '^FuzzRawFile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./intake -run '^$$' -fuzz '^FuzzUnzip$$' -fuzztime $(FUZZTIME)
	$(GO) test ./store -run '^$$' -fuzz '^FuzzSafeName$$' -fuzztime $(FUZZTIME)
	$(GO) test ./store -run '^$$' -fuzz '^FuzzEntryCodec$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailmsg -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mailmsg -run '^$$' -fuzz '^FuzzFilename$$' -fuzztime $(FUZZTIME)
	$(GO) test ./roster -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime $(FUZZTIME)

# Go benchmarks, then briefd against mbsync and the admin's scripts on a real Dovecot (bench/run.sh, root,
# about 7 minutes; BENCH_FLAGS are passed to bench/cmd/benchmail, e.g. BENCH_FLAGS="-n 100 -runs 1").
bench: bench-go bench-compare

bench-go:
	$(GO) test ./... -run '^$$' -bench . -benchmem

bench-compare:
	GO=$(GO) bench/run.sh $(BENCH_FLAGS)
