# Build, test and check briefd. `make check` is what CI runs besides the tests.
GO ?= go

.PHONY: build test check fuzz bench

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
	$(GO) test ./pdfcheck -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)
	$(GO) test ./intake -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./... -run '^$$' -bench . -benchmem
