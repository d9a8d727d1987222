# Convenience targets; the build itself is CMake (see README.md).
.PHONY: demo test bench clean

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

clean:
	rm -rf build build-asan build-tsan build-embedded build-fuzz
