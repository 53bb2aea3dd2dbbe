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

.PHONY: all deps configure build demo test test-asan test-tsan bench fuzz install clean

all: build

deps:
	@scripts/install-deps.sh

# $(call configure_tree,FOLDER,MORE CMAKE ARGUMENTS): one build tree, its
# configure output kept in FOLDER.configure.log and shown only on failure.
configure_tree = cmake -S . -B $(1) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
  -DAPPWIRE_WOLFSSL=$(WOLFSSL) $(2) > $(1).configure.log 2>&1 || { cat $(1).configure.log; exit 1; }

# ccache (CMakeLists.txt uses it when installed) shares its cache between
# clones and build folders: paths are hashed relative to the clone.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

configure: deps
	@$(call configure_tree,$(BUILD_DIR))

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
test-asan: SANITIZER := address
test-asan: SANITIZER_BUILD_DIR := build-asan
test-asan: SANITIZER_ENV := \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:strict_string_checks=1 \
  LSAN_OPTIONS=suppressions=$(SANITIZER_SUPPRESSIONS)/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(SANITIZER_SUPPRESSIONS)/ubsan.supp
test-tsan: SANITIZER := thread
test-tsan: SANITIZER_BUILD_DIR := build-tsan
test-tsan: SANITIZER_ENV := \
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(SANITIZER_SUPPRESSIONS)/tsan.supp
test-asan test-tsan: deps
	@$(call configure_tree,$(SANITIZER_BUILD_DIR),-DAPPWIRE_SANITIZE=$(SANITIZER))
	@cmake --build $(SANITIZER_BUILD_DIR) -j $(JOBS)
	@cd $(SANITIZER_BUILD_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS)

# `make install PREFIX=/opt/appwire`: the libraries (static and shared), the
# public headers, the binaries, the CMake package and pkg-config files.
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX)

bench: build
	@$(BUILD_DIR)/bench/appwire-bench

FUZZ_CMAKE_ARGUMENTS = -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DAPPWIRE_LIBFUZZER=ON "-DCMAKE_C_FLAGS=$(FUZZ_FLAGS)" "-DCMAKE_CXX_FLAGS=$(FUZZ_FLAGS)"
fuzz: deps
	@scripts/install-deps.sh --fuzz
	@$(call configure_tree,$(FUZZ_BUILD_DIR),$(FUZZ_CMAKE_ARGUMENTS))
	@cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target appwire_fuzzers
	@tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR).configure.log build-asan build-asan.configure.log \
	  build-tsan build-tsan.configure.log $(FUZZ_BUILD_DIR) $(FUZZ_BUILD_DIR).configure.log
