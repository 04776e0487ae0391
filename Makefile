# Lifeboat: the two commands of the quick start are `make demo` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
CMAKE_ARGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
LIFEBOAT    = $(BUILD)/apps/cli/lifeboat

.PHONY: all deps configure build test unit asan demo bench bench-postgres format clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# The whole suite: unit, integration, crash and end-to-end tests.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -L unit

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: deps
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_ARGS) -DLIFEBOAT_SANITIZE=ON -DLIFEBOAT_BUILD_BENCH=OFF >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS) --target unit_tests
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) -L unit

demo: build
	$(LIFEBOAT) demo

bench: build
	bench/run

bench-postgres: build
	bench/run-postgres

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
