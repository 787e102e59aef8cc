# Entry points. `make prove` and `make test` each do the whole set-up on a fresh Debian bookworm
# machine (as root): install missing packages, configure, build, then run.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CTEST_FLAGS ?=

.PHONY: all deps build prove test asan-test bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The main job: the proof-of-atomicity campaign on its embedded default.
prove: build
	$(BUILD)/tools/tearproof prove

# Everything except the `slow` label.
test: build
	cd $(BUILD) && ctest -LE slow -j $(JOBS) --output-on-failure $(CTEST_FLAGS)

# ASan + UBSan build of the fast tiers.
asan-test: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEARPROOF_SANITIZE=ON \
	  -DTEARPROOF_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest -L 'unit|prop' -LE 'slow|interop|bmc' -j $(JOBS) --output-on-failure \
	  $(CTEST_FLAGS)

bench: build
	$(BUILD)/bench/tearproof_medium_bench
	$(BUILD)/bench/tearproof_btt_bench

# libFuzzer over BTT open + check + read/write (clang, ASan+UBSan); FUZZ_SECONDS bounds it.
fuzz: deps
	fuzz/run.sh $(or $(FUZZ_SECONDS),60)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
