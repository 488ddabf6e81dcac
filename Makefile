# otakit: `make demo` and `make test` install what is missing, build, and run.
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Debug -DOTAKIT_SANITIZE=ON

.PHONY: all deps build test demo bench sweep install clean

all: build

deps:
	@./tools/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

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

clean:
	rm -rf $(BUILD) $(BENCH_BUILD) $(INSTALL_BUILD)
