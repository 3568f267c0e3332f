# Sourced by tools/setup and tools/test: install the Debian packages that
# are missing. Usage: install_missing PKG...
install_missing() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	if [ "$(id -u)" = 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null; then
		sudo="sudo"
	else
		echo "missing packages:$missing (run as root or install sudo)" >&2
		exit 1
	fi
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends $missing
}

# libsystemd-dev: the journal for cellvm run --log journald (the broker
# only; a build without it refuses that option).
BUILD_DEPS="gcc libc6-dev pkg-config meson ninja-build python3 \
libseccomp-dev libcap-ng-dev libprotobuf-c-dev protobuf-c-compiler \
libcmocka-dev libsystemd-dev"

# The default guest comes from Debian's packages (tools/default-guest).
GUEST_DEPS="cpio gzip"

# Hosts whose KVM is not VMX/SVM boot it in the nested environment.
NESTED_DEPS="qemu-system-x86"

# The tests also boot the guest kit under QEMU and check formatting.
TEST_DEPS="qemu-system-x86 clang-format clang-tidy cppcheck util-linux cpio"

# A development build: test hooks on (release builds leave them out).
configure() {
	if [ ! -f build/build.ninja ]; then
		meson setup build -Dtest_hooks=true
	fi
	ninja -C build
}
