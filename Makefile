# finfeed: the README's two commands, plus the developer's extras.
#   make run    install what is missing, build, run the daemon on the offline demo
#   make check  install what is missing, build, run every test (also under ASan+UBSan,
#               and the threaded ones under TSan)
BUILD     ?= build
ASAN      ?= build-asan
TSAN      ?= build-tsan
FUZZBUILD ?= build-fuzz
SHARED    ?= $(CURDIR)/../shared
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build run check unit conformance asan tsan bench fuzz clean

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

# ThreadSanitizer (it cannot be combined with ASan): the tests that run the
# daemon's threads (loop + worker) — the end-to-end scripts and test_ctl. A
# race fails the test (halt_on_error, exit 66), and any report a process left
# in $(TSAN)/tsan.* (a client, a daemon whose exit code no test reads) fails
# the target.
TSAN_TESTS ?= ^(t_daemon|t_threads|t_config_reload|t_crash|t_websub|t_websub_hub|test_ctl|test_fetch|test_http)$$
tsan: deps
	cmake -S . -B $(TSAN) -DFINFEED_WERROR=ON -DFINFEED_TSAN=ON -DCMAKE_BUILD_TYPE=Debug \
	      -DCMAKE_C_FLAGS=-O1 $(CMAKE_FLAGS)
	cmake --build $(TSAN) -j $(JOBS)
	rm -f $(TSAN)/tsan.*
	cd $(TSAN) && TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$(abspath $(TSAN))/tsan" \
	      ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)' || { cat tsan.* 2>/dev/null; exit 1; }
	@if ls $(TSAN)/tsan.* >/dev/null 2>&1; then cat $(TSAN)/tsan.*; echo "tsan: reports above"; exit 1; fi

check: unit conformance asan tsan
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
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(FUZZBUILD)

# bench/cluster (issue 11 §3): one round of the 1,000 bench feeds with the
# SQLite daemon and with 1, 2 and 3 nodes on one PostgreSQL; the PostgreSQL
# schedule alone (claims/s, completions/s) through the store library.
.PHONY: bench-cluster
bench-cluster: build
	@scripts/install-deps --bench
	bench/cluster $(BUILD)/finfeed "$(SHARED)"

# bench/soak (issue 12 §2): the daemon for SOAK_MINUTES (30) against changing,
# failing and redirecting loopback feeds every 2 s, with readers; fails when
# RSS, fds, the WAL or the database's bytes per article grow without bound;
# the plot goes to SOAK_PNG (docs/soak.png, the README's).
SOAK_MINUTES ?= 30
SOAK_PNG     ?= docs/soak.png
.PHONY: bench-soak
bench-soak: build
	@scripts/install-deps --bench
	bench/soak $(BUILD)/finfeed $(SOAK_MINUTES) --png $(SOAK_PNG)
