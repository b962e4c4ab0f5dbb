# bsnn: the two commands a new user needs are `make demo` and `make test`.
GO          ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
QEMU        ?= qemu-aarch64-static
BIN         := bin
OUT         := out

.PHONY: all deps build test lint unit unit-purego unit-arm64 generate check-generated demo bench clean

all: build

deps:
	scripts/deps.sh test

build:
	$(GO) build -o $(BIN)/ ./tools/...

# Everything CI checks: formatting, vet, staticcheck, generated code current,
# tests with the race detector, the pure-Go build, and the arm64 build
# (NEON included) under qemu user emulation.
test: deps lint check-generated unit unit-purego unit-arm64

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

check-generated:
	scripts/check-flatc.sh

unit:
	$(GO) test -race -timeout 20m ./...

unit-purego:
	$(GO) test -tags purego -timeout 20m ./...
	$(GO) test -tags noasm -timeout 10m ./bitops/...

unit-arm64:
	GOARCH=arm64 $(GO) test -short -timeout 30m -exec $(QEMU) ./...
	GOARCH=arm64 $(GO) test -short -tags purego -timeout 10m -exec $(QEMU) ./bitops/...

generate:
	$(GO) generate ./model/...

# The shipped default job: measure the kernels, train a small BSNN with AGMM
# on 6,000 MNIST images for one epoch (about a minute on 2 cores), export it,
# show its layer table, and run it on 1,000 MNIST test images.
DEMO := $(OUT)/mnist-demo
demo: build
	$(BIN)/bsnn-bench kernels -duration 300ms
	$(BIN)/bsnn-train -arch mnist -widths 16,32,32 -data mnist -train-n 6000 -test-n 1000 \
		-epochs 1 -seed 1 -run-dir $(DEMO) -out $(DEMO).bsnn -progress lines
	$(BIN)/bsnn-inspect $(DEMO).bsnn
	$(BIN)/bsnn-run -model $(DEMO).bsnn -input 'dataset:mnist:test?n=1000' > $(DEMO).predictions.txt
	@tail -n 2 $(DEMO).predictions.txt
	@echo "demo: model $(DEMO).bsnn, predictions $(DEMO).predictions.txt, metrics and plots in $(DEMO)/"

# bsnn against the same nets in PyTorch (/usr/bin/python3 with python3-torch;
# without it only bsnn's half is measured), plus the kernel throughput:
# bench/REPORT.md and its charts. About 6 minutes on 2 idle cores, 10 when
# the machine is shared.
BENCH_RUN := $(OUT)/bench
bench: build
	@mkdir -p $(BENCH_RUN)
	$(BIN)/bsnn-bench kernels -json > $(BENCH_RUN)/kernels.json
	$(BIN)/bsnn-bench compare -arch resnet19 -T 2 -rounds 3 -min-calls 1 -json > $(BENCH_RUN)/resnet19.json
	$(BIN)/bsnn-bench compare -arch mnist -rounds 3 -json > $(BENCH_RUN)/mnist.json
	$(BIN)/bsnn-bench compare -arch vgg -T 2 -rounds 2 -min-calls 1 -json > $(BENCH_RUN)/vgg.json
	$(BIN)/bsnn-bench report -kernels $(BENCH_RUN)/kernels.json \
		-compare $(BENCH_RUN)/resnet19.json,$(BENCH_RUN)/mnist.json,$(BENCH_RUN)/vgg.json -out bench

clean:
	rm -rf $(BIN) $(OUT)
