# CMake toolchain file: Cortex-M4F (Thumb-2, single-precision FPU, hard float ABI)
# with Debian's gcc-arm-none-eabi and newlib (libnewlib-arm-none-eabi).
#
#   cmake -S . -B build-cm4 -G Ninja --toolchain cmake/toolchain-cortex-m4.cmake \
#         -DZSOCK_PORT=none -DZSOCK_DRIVERS_HOSTED=OFF \
#         -DZSOCK_BUILD_TESTS=OFF -DZSOCK_BUILD_APPS=OFF -DZSOCK_BUILD_BENCH=OFF
#
# or use one of the cortex-m4-* presets (CMakePresets.json), which set all of
# that. Only the static library is built for this target: the tests, the
# benchmarks and the apps need a hosted operating system. See docs/embedded.md.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(ZSOCK_CROSS_PREFIX arm-none-eabi- CACHE STRING "Prefix of the cross tools")
set(CMAKE_C_COMPILER ${ZSOCK_CROSS_PREFIX}gcc)
set(CMAKE_ASM_COMPILER ${ZSOCK_CROSS_PREFIX}gcc)
set(CMAKE_AR ${ZSOCK_CROSS_PREFIX}ar CACHE FILEPATH "Archiver")
set(CMAKE_RANLIB ${ZSOCK_CROSS_PREFIX}ranlib CACHE FILEPATH "Ranlib")
set(CMAKE_SIZE ${ZSOCK_CROSS_PREFIX}size CACHE FILEPATH "size(1) for the target")

# There is no operating system to run a test executable on: let CMake's
# compiler checks build a static library instead of linking a program.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(ZSOCK_CM4_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
set(CMAKE_C_FLAGS_INIT "${ZSOCK_CM4_FLAGS} -ffunction-sections -fdata-sections")
# The cortex-m4-* presets build MinSizeRel: -Os -DNDEBUG.
# Programs linked for this target (apps/embedded/size_probe.c) use newlib-nano
# (the small printf and malloc most firmware uses), newlib's nosys stubs for
# the system calls, and drop unreferenced sections.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "${ZSOCK_CM4_FLAGS} -specs=nano.specs -specs=nosys.specs -Wl,--gc-sections")

# Headers and libraries come from the cross sysroot only, never from the host.
set(CMAKE_FIND_ROOT_PATH /usr/lib/arm-none-eabi)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
