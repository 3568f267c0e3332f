#!/usr/bin/env python3
"""The nested test environment (ARCHITECTURE.md, Testing, level 2).

cellvm needs a hardware-style KVM to boot stock Linux; the development
machines only have a software KVM that cannot. So: QEMU from Debian in
pure software mode (TCG) with AMD SVM exposed runs Debian's generic kernel
("L1"), which loads the real kvm_amd; cellvm runs inside L1 and boots
Debian's cloud kernel ("L2") and the guest kit's images.

  nested.py build BUILD_DIR   fetch the packages (apt-get download), build
                              the L2 and L1 initramfs images
  nested.py test BUILD_DIR    build, boot L1, run the scenarios; prints TAP
  nested.py shell BUILD_DIR   build, boot L1 and then the default guest
                              under cellvm on the console (interactive)

Everything goes to BUILD_DIR/nested; the packages are cached there.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = ("linux-image-amd64", "linux-image-cloud-amd64", "busybox-static")
L1_MODULES = ("virt/lib/irqbypass.ko", "arch/x86/kvm/kvm.ko",
              "drivers/crypto/ccp/ccp.ko", "arch/x86/kvm/kvm-amd.ko")
GUESTS = ("hello", "smp", "lapic", "ioapic", "pic", "pit", "rtc",
          "acpi-poweroff", "timer-count")
QEMU = ["qemu-system-x86_64", "-accel", "tcg,thread=multi",
        "-cpu", "EPYC,+svm", "-smp", "2", "-m", "4G", "-nographic",
        "-no-reboot"]


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def fetch(work):
    """Debian's generic and cloud kernels and busybox-static, unpacked."""
    debs = os.path.join(work, "debs")
    root = os.path.join(work, "root")
    stamp = os.path.join(root, ".done")
    if os.path.exists(stamp):
        return root
    os.makedirs(debs, exist_ok=True)
    # The meta packages name the current kernel ABI: download that.
    names = []
    for pkg in PACKAGES:
        out = subprocess.run(["apt-cache", "depends", pkg], check=True,
                             capture_output=True, text=True).stdout
        deps = [l.split(":", 1)[1].strip() for l in out.splitlines()
                if l.strip().startswith("Depends: linux-image-")]
        names.append(deps[0] if deps else pkg)
    sh(["apt-get", "download"] + names, cwd=debs,
       stdout=subprocess.DEVNULL)
    shutil.rmtree(root, ignore_errors=True)
    for deb in glob.glob(os.path.join(debs, "*.deb")):
        sh(["dpkg-deb", "-x", deb, root])
    open(stamp, "w").close()
    return root


def kernel(root, flavour):
    """(version, vmlinuz path) of the generic or cloud kernel."""
    for path in sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*"))):
        ver = os.path.basename(path)[len("vmlinuz-"):]
        if ver.endswith("-cloud-amd64") == (flavour == "cloud"):
            return ver, path
    sys.exit("no %s kernel in %s" % (flavour, root))


def cpio(tree, out):
    """A gzip'd newc archive of tree (an initramfs)."""
    with open(out, "wb") as f:
        find = subprocess.Popen(["find", "."], cwd=tree,
                                stdout=subprocess.PIPE)
        arc = subprocess.Popen(["cpio", "-o", "-H", "newc", "--quiet"],
                               cwd=tree, stdin=find.stdout,
                               stdout=subprocess.PIPE)
        sh(["gzip", "-1"], stdin=arc.stdout, stdout=f)
        arc.wait()
        find.wait()


def busybox_tree(tree, root):
    shutil.rmtree(tree, ignore_errors=True)
    for d in ("bin", "proc", "sys", "dev", "tmp", "mods"):
        os.makedirs(os.path.join(tree, d))
    shutil.copy(os.path.join(root, "bin", "busybox"),
                os.path.join(tree, "bin", "busybox"))


def install(path, dest, mode=0o755):
    shutil.copy(path, dest)
    os.chmod(dest, mode)


def build_l2(work, root):
    """The L2 initramfs: busybox and the scenario init (l2-init)."""
    tree = os.path.join(work, "l2")
    busybox_tree(tree, root)
    install(os.path.join(HERE, "l2-init"), os.path.join(tree, "init"))
    out = os.path.join(work, "l2.cpio.gz")
    cpio(tree, out)
    return out


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


def build_l1(work, root, build):
    """The L1 initramfs: busybox, kvm_amd, cellvm, L2 and the kit."""
    tree = os.path.join(work, "l1")
    busybox_tree(tree, root)
    ver, _ = kernel(root, "generic")
    for mod in L1_MODULES:
        shutil.copy(os.path.join(root, "lib", "modules", ver, "kernel", mod),
                    os.path.join(tree, "mods"))
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
    _, vmlinuz = kernel(root, "cloud")
    shutil.copy(vmlinuz, os.path.join(guests, "vmlinuz"))
    shutil.copy(os.path.join(work, "l2.cpio.gz"), guests)
    install(os.path.join(HERE, "l1-init"), os.path.join(tree, "init"))
    out = os.path.join(work, "l1.cpio.gz")
    cpio(tree, out)
    return out


def build_all(build):
    work = os.path.join(build, "nested")
    os.makedirs(work, exist_ok=True)
    root = fetch(work)
    build_l2(work, root)
    return work, root, build_l1(work, root, build)


def boot_l1(root, l1, mode, interactive=False):
    _, vmlinuz = kernel(root, "generic")
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
