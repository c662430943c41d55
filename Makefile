# A thin layer over Meson. `make run` and `make check` are the two set-up commands of the README.
BUILD      ?= build/release
CHECKBUILD ?= build/check
MESON      ?= meson

.PHONY: all deps build run check check-tsan check-valgrind bench load soak fuzz format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)

# The main job on the embedded default: SQLite + the built-in PMS sandbox.
run: build
	@scripts/demo.sh $(BUILD)

$(CHECKBUILD)/build.ninja:
	$(MESON) setup $(CHECKBUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

# Every test (scripts/check.sh): the suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# ThreadSanitizer over the threaded tests, valgrind over integration tests, the fuzzers for a
# bounded time.
check: deps $(CHECKBUILD)/build.ninja
	@CHECKBUILD=$(CHECKBUILD) scripts/check.sh

# The thread-heavy tests under ThreadSanitizer (build/tsan): any data race or deadlock fails.
check-tsan: deps
	@scripts/check_tsan.sh

# Integration tests, with every pmsd, pmsctl and pms-sandbox they start, under valgrind's
# memcheck (build/valgrind): any memory error or definite/indirect leak fails.
check-valgrind: deps
	@scripts/check_valgrind.sh

bench: build
	@scripts/bench.sh $(BUILD)

# pmsd under sustained API load (wrk) while it syncs: req/s, p99, errors (none), peak RSS.
LOAD_SECONDS ?= 30
load: build
	@scripts/load.sh $(BUILD) $(LOAD_SECONDS)

# The fault soak on the sanitizer build (`meson test soak` is its bounded 90 s run).
SOAK_SECONDS ?= 1800
soak: deps $(CHECKBUILD)/build.ninja
	@BUILD=$(CHECKBUILD) scripts/soak.sh $(SOAK_SECONDS) $(SOAK_SEED)

# libFuzzer targets under ASan + UBSan (clang, build/fuzz): FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
