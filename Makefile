# The README's two commands: `make demo` and `make test`. Both install what
# is missing (Debian packages), build, and run.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
WOLFSSL ?= cache
# `make fuzz`: a clang build with libFuzzer and ASan/UBSan in its own folder,
# each fuzz target run for FUZZ_SECONDS (tests/fuzz/).
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -fsanitize=fuzzer-no-link

.PHONY: all deps configure build demo test bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DAPPWIRE_WOLFSSL=$(WOLFSSL) > $(BUILD_DIR).configure.log 2>&1 \
	  || { cat $(BUILD_DIR).configure.log; exit 1; }

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD_DIR)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	@$(BUILD_DIR)/bench/appwire-bench

fuzz: deps
	@scripts/install-fuzz-deps.sh
	@cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DAPPWIRE_WOLFSSL=$(WOLFSSL) -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DAPPWIRE_LIBFUZZER=ON "-DCMAKE_C_FLAGS=$(FUZZ_FLAGS)" "-DCMAKE_CXX_FLAGS=$(FUZZ_FLAGS)" \
	  > $(FUZZ_BUILD_DIR).configure.log 2>&1 \
	  || { cat $(FUZZ_BUILD_DIR).configure.log; exit 1; }
	@cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target appwire_fuzzers
	@tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR).configure.log
