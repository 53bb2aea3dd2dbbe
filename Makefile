# The README's two commands: `make demo` and `make test`. Both install what
# is missing (Debian packages), build, and run.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
WOLFSSL ?= cache
SANITIZER_SUPPRESSIONS := $(CURDIR)/tests/sanitizers

# `make fuzz`: a clang build with libFuzzer and ASan/UBSan in its own folder,
# each fuzz target run for FUZZ_SECONDS (tests/fuzz/).
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -fsanitize=fuzzer-no-link

.PHONY: all deps configure build demo test test-asan test-tsan bench fuzz clean

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

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (leaks
# on), and under ThreadSanitizer, each in a build folder of its own. Any
# report fails the test that caused it. Suppressions (tests/sanitizers/)
# only cover uninstrumented library internals, each with its reason.
test-asan: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DAPPWIRE_WOLFSSL=$(WOLFSSL) -DAPPWIRE_SANITIZE=address > build-asan.configure.log 2>&1 \
	  || { cat build-asan.configure.log; exit 1; }
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:strict_string_checks=1 \
	  LSAN_OPTIONS=suppressions=$(SANITIZER_SUPPRESSIONS)/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(SANITIZER_SUPPRESSIONS)/ubsan.supp \
	  ctest --output-on-failure -j $(JOBS)

test-tsan: deps
	@cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DAPPWIRE_WOLFSSL=$(WOLFSSL) -DAPPWIRE_SANITIZE=thread > build-tsan.configure.log 2>&1 \
	  || { cat build-tsan.configure.log; exit 1; }
	@cmake --build build-tsan -j $(JOBS)
	@cd build-tsan && \
	  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(SANITIZER_SUPPRESSIONS)/tsan.supp \
	  ctest --output-on-failure -j $(JOBS)

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
	rm -rf $(BUILD_DIR) $(BUILD_DIR).configure.log build-asan build-asan.configure.log \
	  build-tsan build-tsan.configure.log
