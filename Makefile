# Build, test and check briefd. `make check` is what CI runs besides the tests.
GO ?= go

.PHONY: build test check fuzz bench bench-go bench-compare

build:
	$(GO) build -o briefd ./cmd/briefd

test:
	$(GO) test ./...

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	@command -v staticcheck >/dev/null && staticcheck ./... || true

# Run each fuzz target for FUZZTIME (default 1m).
FUZZTIME ?= 1m
fuzz:
	$(GO) test ./pdfcheck -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pdfcheck -run '^$$' -fuzz '^FuzzRawFile$$' -fuzztime $(FUZZTIME)
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
