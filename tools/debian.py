"""Debian packages for the default guest and the nested test environment:
download with apt-get (cached), unpack, find kernels and modules, build
initramfs archives. Used by tools/default-guest and tests/nested."""
import glob
import os
import shutil
import subprocess
import sys

# The cloud kernel is the default guest's; the generic one is L1's (it has
# kvm_amd, which the cloud flavour lacks).
PACKAGES = ("linux-image-amd64", "linux-image-cloud-amd64", "busybox-static")

# Drivers the default guest loads, with what they need (modules.dep).
GUEST_MODULES = ("virtio_pci", "virtio_blk", "virtio_net", "virtio_console",
                 "virtio-rng")


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def fetch(work):
    """The packages, unpacked under work/root (downloaded once)."""
    debs = os.path.join(work, "debs")
    root = os.path.join(work, "root")
    stamp = os.path.join(root, ".done")
    if os.path.exists(stamp):
        return root
    os.makedirs(debs, exist_ok=True)
    names = []
    for pkg in PACKAGES:
        # A meta package names the current kernel ABI: take that one.
        out = subprocess.run(["apt-cache", "depends", pkg], check=True,
                             capture_output=True, text=True).stdout
        deps = [l.split(":", 1)[1].strip() for l in out.splitlines()
                if l.strip().startswith("Depends: linux-image-")]
        names.append(deps[0] if deps else pkg)
    sh(["apt-get", "download"] + names, cwd=debs, stdout=subprocess.DEVNULL)
    shutil.rmtree(root, ignore_errors=True)
    for deb in glob.glob(os.path.join(debs, "*.deb")):
        sh(["dpkg-deb", "-x", deb, root])
    open(stamp, "w").close()
    return root


def kernel(root, flavour):
    """(version, vmlinuz) of the "generic" or "cloud" kernel."""
    for path in sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*"))):
        ver = os.path.basename(path)[len("vmlinuz-"):]
        if ver.endswith("-cloud-amd64") == (flavour == "cloud"):
            return ver, path
    sys.exit("no %s kernel in %s" % (flavour, root))


def modinfo_depends(path):
    """The depends= entry of a module's .modinfo section (the package has
    no modules.dep: depmod makes that at install time)."""
    with open(path, "rb") as f:
        data = f.read()
    for field in data.split(b"\0"):
        if field.startswith(b"depends="):
            return [d for d in field[8:].decode().split(",") if d]
    return []


def module_order(root, ver, wanted):
    """Module files (relative to the kernel's module dir) in load order."""
    moddir = os.path.join(root, "lib", "modules", ver)
    by_name = {}
    for path in glob.glob(os.path.join(moddir, "kernel", "**", "*.ko"),
                          recursive=True):
        name = os.path.basename(path)[:-3].replace("-", "_")
        by_name[name] = os.path.relpath(path, moddir)
    order = []

    def visit(mod):
        for d in modinfo_depends(os.path.join(moddir, mod)):
            visit(by_name[d.replace("-", "_")])
        if mod not in order:
            order.append(mod)

    for name in wanted:
        visit(by_name[name.replace("-", "_")])
    return order


def busybox_tree(tree, root):
    shutil.rmtree(tree, ignore_errors=True)
    for d in ("bin", "proc", "sys", "dev", "tmp", "mods"):
        os.makedirs(os.path.join(tree, d))
    shutil.copy(os.path.join(root, "bin", "busybox"),
                os.path.join(tree, "bin", "busybox"))


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


def default_guest(build, init):
    """Build BUILD/default-guest/{vmlinuz,initrd.img}: Debian's cloud
    kernel and an initramfs with busybox, the kernel's virtio modules (in
    load order, listed in /mods/order) and init. Returns the directory."""
    work = os.path.join(build, "debian")
    root = fetch(work)
    ver, vmlinuz = kernel(root, "cloud")
    out = os.path.join(build, "default-guest")
    os.makedirs(out, exist_ok=True)
    tree = os.path.join(work, "guest-tree")
    busybox_tree(tree, root)
    names = []
    for m in module_order(root, ver, GUEST_MODULES):
        shutil.copy(os.path.join(root, "lib", "modules", ver, m),
                    os.path.join(tree, "mods"))
        names.append(os.path.basename(m))
    with open(os.path.join(tree, "mods", "order"), "w") as f:
        f.write("\n".join(names) + "\n")
    shutil.copy(init, os.path.join(tree, "init"))
    os.chmod(os.path.join(tree, "init"), 0o755)
    cpio(tree, os.path.join(out, "initrd.img"))
    shutil.copy(vmlinuz, os.path.join(out, "vmlinuz"))
    return out
