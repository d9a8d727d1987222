# Convenience targets; the build itself is CMake (see README.md).
.PHONY: demo test bench clean fuzz-long

demo:
	bash scripts/install-deps.sh
	cmake --preset host >/dev/null
	cmake --build build
	./build/apps/demo/zsock_demo

test:
	bash scripts/install-deps.sh
	bash scripts/test.sh

bench:
	bash scripts/install-deps.sh
	cmake --preset host >/dev/null
	cmake --build build
	./build/bench/bench_socketpair

# A fuzzing campaign: every target MINUTES (default 10) each on one core,
# then coverage (tests/fuzz/campaign.sh; summary in build-fuzz-long/).
fuzz-long:
	bash scripts/install-deps.sh
	bash tests/fuzz/campaign.sh build-fuzz-long

clean:
	rm -rf build build-asan build-tsan build-embedded build-fuzz build-fuzz-long
