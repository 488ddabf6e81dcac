# otakit: `make demo` and `make test` install what is missing, build, and run.
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Debug -DOTAKIT_SANITIZE=ON

.PHONY: all deps build test demo bench sweep install clean fuzz tsan

all: build

deps:
	@./tools/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# ESP-IDF's own tests run at a chip's pace and mostly wait: two test slots more than the cores
# keep the cores busy meanwhile.
TEST_JOBS ?= $(shell echo $$(($(JOBS) + 2)))

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)

demo: build
	./tools/demo.sh $(BUILD)

sweep: build
	cmake --build $(BUILD) --target sweep-full

# `make install PREFIX=DIR`: the otakit command, the app libraries with their CMake package and
# pkg-config file, the headers and the ESP-IDF build files, from an optimized build.
PREFIX ?= /usr/local
INSTALL_BUILD ?= build-release

install: deps
	cmake -S . -B $(INSTALL_BUILD) -DCMAKE_BUILD_TYPE=Release -DOTAKIT_SANITIZE=OFF -DOTAKIT_TESTS=OFF
	cmake --build $(INSTALL_BUILD) -j $(JOBS)
	cmake --install $(INSTALL_BUILD) --prefix $(PREFIX)

# Benchmarks run on an optimized build without sanitizers.
BENCH_BUILD ?= build-bench

bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DOTAKIT_SANITIZE=OFF -DOTAKIT_TESTS=OFF
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	./bench/bench.sh $(BENCH_BUILD)

# Coverage-guided fuzzing (libFuzzer, Debian's clang): every target for FUZZ_SECONDS, FUZZ_JOBS at
# a time (tests/fuzz/run.sh). `make test` replays the seed corpora in the test build.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_JOBS    ?= 1

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DOTAKIT_FUZZ=ON -DOTAKIT_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz-targets
	./tests/fuzz/run.sh fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS)

# ThreadSanitizer (no ASan): the tests of what runs threads - the firmware server, esp_http_client
# on libcurl's multi interface, esp_https_ota, FreeRTOS tasks, esp_http_server and the board (its
# serial port, the board run by the e2e scripts). Any report, from any process, fails the target.
TSAN_BUILD ?= build-tsan
TSAN_TESTS ?= unit_test_(server|server_robust|http_server|http_client|https_ota|freertos|esp_platform|serial_port|rom_serial)$$|e2e_(board|board_io|rtos|serve)$$|fuzz_(srv_request|http_client)$$

tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DOTAKIT_TSAN=ON
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	rm -rf $(TSAN_BUILD)/tsan-reports && mkdir -p $(TSAN_BUILD)/tsan-reports
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 \
		log_path=$(abspath $(TSAN_BUILD))/tsan-reports/report" \
		ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'
	@if ls $(TSAN_BUILD)/tsan-reports/report.* >/dev/null 2>&1; then \
		cat $(TSAN_BUILD)/tsan-reports/report.*; echo "ThreadSanitizer: reports above"; exit 1; fi

clean:
	rm -rf $(BUILD) $(BENCH_BUILD) $(INSTALL_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD)
