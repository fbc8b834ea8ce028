# finfeed: the README's two commands, plus the developer's extras.
#   make run    install what is missing, build, run the daemon on the offline demo
#   make check  install what is missing, build, run every test (also under ASan+UBSan)
BUILD     ?= build
ASAN      ?= build-asan
FUZZBUILD ?= build-fuzz
SHARED    ?= $(CURDIR)/../shared
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build run check unit conformance asan bench fuzz clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DFINFEED_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run-demo $(BUILD)/finfeed

# A test whose tool is missing is a skip (ctest's SKIP_RETURN_CODE 77) when
# run by hand; these targets install every tool (deps) and make it a failure.
REQUIRE_ALL = FINFEED_REQUIRE_ALL=1

unit: build
	cd $(BUILD) && $(REQUIRE_ALL) ctest --output-on-failure -j $(JOBS)

conformance: build
	@$(REQUIRE_ALL) scripts/conformance $(BUILD)/finfeed "$(SHARED)"

asan: deps
	cmake -S . -B $(ASAN) -DFINFEED_WERROR=ON -DFINFEED_ASAN=ON -DFINFEED_UBSAN=ON -DCMAKE_BUILD_TYPE=Debug \
	      -DCMAKE_C_FLAGS=-O1 $(CMAKE_FLAGS)
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && $(REQUIRE_ALL) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	      ctest --output-on-failure -j $(JOBS)
	@$(REQUIRE_ALL) scripts/conformance $(ASAN)/finfeed "$(SHARED)"

check: unit conformance asan
	@echo "make check: all passed"

# The benchmarks of bench/ (scripts, not tests: they print figures against
# the peers sfeed, python3-feedparser, newsboat and nginx, run side by side).
bench: build
	@scripts/install-deps --bench
	bench/parse $(BUILD)/finfeed "$(SHARED)"
	bench/clean $(BUILD)
	bench/ingest $(BUILD)/finfeed "$(SHARED)"
	bench/dedup $(BUILD)/finfeed
	bench/daemon $(BUILD)/finfeed "$(SHARED)"

fuzz: deps
	CC=clang cmake -S . -B $(FUZZBUILD) -DFINFEED_FUZZ=ON -DFINFEED_ASAN=ON -DFINFEED_UBSAN=ON
	cmake --build $(FUZZBUILD) -j $(JOBS)
	@scripts/run-fuzz $(FUZZBUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZBUILD)
