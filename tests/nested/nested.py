#!/usr/bin/env python3
"""The nested test environment (ARCHITECTURE.md, Testing, level 2).

cellvm needs a hardware-style KVM to boot stock Linux; the development
machines only have a software KVM that cannot. So: QEMU from Debian in
pure software mode (TCG) with AMD SVM exposed runs Debian's generic kernel
("L1"), which loads the real kvm_amd; cellvm runs inside L1 and boots
Debian's cloud kernel ("L2") and the guest kit's images.

  nested.py build BUILD_DIR   fetch the packages (apt-get download), build
                              the default guest (L2) and L1's initramfs
  nested.py test BUILD_DIR    build, boot L1, run the scenarios; prints TAP
  nested.py shell BUILD_DIR   build, boot L1 and then the default guest
                              under cellvm on the console (interactive)

The packages are cached in BUILD_DIR/debian (tools/debian.py), L1's image
goes to BUILD_DIR/nested.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "tools")
sys.path.insert(0, TOOLS)
import debian  # noqa: E402

L1_MODULES = ("irqbypass", "kvm", "ccp", "kvm-amd", "tun")
GUESTS = ("hello", "smp", "lapic", "ioapic", "pic", "pit", "rtc",
          "acpi-poweroff", "timer-count")
QEMU = ["qemu-system-x86_64", "-accel", "tcg,thread=multi",
        "-cpu", "EPYC,+svm", "-smp", "2", "-m", "4G", "-nographic",
        "-no-reboot"]


def install(path, dest, mode=0o755):
    shutil.copy(path, dest)
    os.chmod(dest, mode)


def libraries(binaries):
    """Every shared library the binaries load (ldd), with the loader."""
    libs = set()
    for b in binaries:
        out = subprocess.run(["ldd", b], capture_output=True,
                             text=True).stdout
        for word in out.split():
            if word.startswith("/"):
                libs.add(word)
    return sorted(libs)


def build_l1(work, root, build, l2):
    """The L1 initramfs: busybox, kvm_amd, cellvm, L2 and the kit."""
    tree = os.path.join(work, "l1")
    debian.busybox_tree(tree, root)
    ver, _ = debian.kernel(root, "generic")
    moddir = os.path.join(root, "lib", "modules", ver)
    order = debian.module_order(root, ver, L1_MODULES)
    for mod in order:
        shutil.copy(os.path.join(moddir, mod), os.path.join(tree, "mods"))
    with open(os.path.join(tree, "mods", "order"), "w") as f:
        f.write("".join(os.path.basename(m) + "\n" for m in order))
    bindir = os.path.join(tree, "opt", "cellvm")
    os.makedirs(bindir)
    binaries = [p for p in glob.glob(os.path.join(build, "cellvm*"))
                if os.path.isfile(p) and os.access(p, os.X_OK)]
    for b in binaries:
        install(b, os.path.join(bindir, os.path.basename(b)))
    for lib in libraries(binaries):
        dest = os.path.join(tree, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(os.path.realpath(lib), dest)
    guests = os.path.join(tree, "guests")
    os.makedirs(guests)
    for g in GUESTS:
        shutil.copy(os.path.join(build, "tests", "guests", g), guests)
    # Where cellvm looks for its default guest: next to it.
    shutil.copytree(l2, os.path.join(bindir, "default-guest"))
    install(os.path.join(HERE, "l1-init"), os.path.join(tree, "init"))
    out = os.path.join(work, "l1.cpio.gz")
    debian.cpio(tree, out)
    return out


def build_all(build):
    """L2 is the default guest (tools/default-guest), L1 carries it."""
    l2 = debian.default_guest(build, os.path.join(TOOLS, "guest-init"))
    work = os.path.join(build, "nested")
    os.makedirs(work, exist_ok=True)
    root = debian.fetch(os.path.join(build, "debian"))
    return work, root, build_l1(work, root, build, l2)


def boot_l1(root, l1, mode, interactive=False):
    _, vmlinuz = debian.kernel(root, "generic")
    cmd = QEMU + ["-kernel", vmlinuz, "-initrd", l1, "-append",
                  "console=ttyS0 panic=-1 quiet cellvm.mode=" + mode]
    if interactive:
        return subprocess.run(cmd).returncode
    return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=3000)


def test(build):
    t = time.time()
    _, root, l1 = build_all(build)
    print("# nested: L1 image built in %.0f s" % (time.time() - t))
    t = time.time()
    p = boot_l1(root, l1, "test")
    # Terminal control sequences (SeaBIOS clears the screen) off first.
    out = re.sub(r"\x1b(\[[0-9;?]*[a-zA-Z]|c)", "",
                 p.stdout.decode(errors="replace"))
    # The TAP lines come from l1-init; everything else is commentary.
    tap = [l for l in out.splitlines()
           if l.startswith(("ok ", "not ok ", "1..", "# "))]
    print("\n".join(tap))
    print("# nested: L1 ran %.0f s" % (time.time() - t))
    if not any(l.startswith("1..") for l in tap):
        print("Bail out! L1 did not finish; its console said:")
        print("\n".join("# " + l for l in out.splitlines()[-60:]))
        return 1
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("build", "test", "shell"):
        print(__doc__)
        return 2
    cmd, build = sys.argv[1], os.path.abspath(sys.argv[2])
    if cmd == "build":
        build_all(build)
        return 0
    if cmd == "test":
        return test(build)
    _, root, l1 = build_all(build)
    return boot_l1(root, l1, "shell", interactive=True)


if __name__ == "__main__":
    sys.exit(main())
