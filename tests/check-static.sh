#!/bin/sh
# cppcheck and clang-tidy find nothing in the process sources (STYLE.md,
# rule 11).
# variableScope is off: our style declares variables at the top of a
# function (style(9)), which that check objects to.
set -eu
src=$1
build=$2
command -v cppcheck >/dev/null || { echo "SKIP: cppcheck is not installed"; exit 77; }
cd "$src"
cppcheck --quiet --error-exitcode=1 --inline-suppr \
	--enable=warning,style,performance,portability \
	--suppress=missingIncludeSystem --suppress=variableScope \
	-DPROTOBUF_C_VERSION_NUMBER=1004001 \
	-DPROTOBUF_C_MIN_COMPILER_VERSION=1000000 \
	-D_GNU_SOURCE --std=c11 \
	-I lib -I "$build" -I device-procs/uart -I mmu-service \
	lib broker vcpu-runner mmu-service device-procs
echo "ok: cppcheck clean"
if ! command -v clang-tidy >/dev/null; then
	echo "SKIP: clang-tidy is not installed"
	exit 77
fi
git ls-files 'lib/*.c' 'broker/*.c' 'vcpu-runner/*.c' 'mmu-service/*.c' \
	'device-procs/*.c' | xargs -P2 -n1 clang-tidy -p "$build" --quiet
echo "ok: clang-tidy clean"
