#!/usr/bin/env python3
"""Integration tests: real guests under real KVM through the whole process
family. Each test is one function; meson runs `cellvm_test.py NAME`.

Environment (set by meson): CELLVM (the broker), GUESTS (built images),
GUEST_SRC (expected outputs), SOURCE_ROOT. A test that needs /dev/kvm and
finds none fails when CI=true and is skipped (exit 77) otherwise.
"""
import ctypes
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

CELLVM = os.environ.get("CELLVM", "cellvm")
GUESTS = os.environ.get("GUESTS", "")
GUEST_SRC = os.environ.get("GUEST_SRC", "")
SOURCE_ROOT = os.environ.get("SOURCE_ROOT", "")
SKIP = 77
PR_SET_CHILD_SUBREAPER = 36
LINE = "line %05d the quick brown fox jumps over the lazy dog"
# Heads of log lines (docs/architecture.md, "Logs"): the broker's once its
# VM has a name, "cellvm[NAME]: " (before, and for ctl, "cellvm: "); a
# child's "cellvm-dev-uart[NAME/PID]: ", CHILD_PID catching the pid.
BROKER = r"cellvm\[[A-Za-z0-9_.-]+\]: "
CHILD_PID = r"\[[A-Za-z0-9_.-]+/(\d+)\]"
DEVICES = ("uart", "testexit", "pic", "ioapic", "lapic", "pit", "rtc",
           "acpipm", "pci", "virtio-rng")


class Skip(Exception):
    pass


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def need_kvm():
    why = None
    if not os.path.exists("/dev/kvm"):
        why = "/dev/kvm does not exist"
    elif not os.access("/dev/kvm", os.R_OK | os.W_OK):
        why = "/dev/kvm is not accessible to this user"
    if why is None:
        return
    if os.environ.get("CI") == "true":
        raise Failure("this test needs KVM and CI=true: " + why)
    raise Skip(why)


def need_root(why):
    if os.geteuid() != 0:
        raise Skip("needs root: " + why)


def image(name):
    path = os.path.join(GUESTS, name)
    if not os.path.exists(path):
        raise Failure("guest image %s was not built" % path)
    return path


def expected(name):
    with open(os.path.join(GUEST_SRC, name, "expected.txt")) as f:
        return f.read()


def become_subreaper():
    """Orphans of the VM come to us, so we can see any left behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def leftover_children():
    me = str(os.getpid())
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            left.append(pid)
    return left


def run(args, timeout=60, stdin=subprocess.DEVNULL):
    """Run cellvm to completion: (exit status, stdout, stderr)."""
    p = subprocess.run([CELLVM] + args, stdin=stdin, capture_output=True,
                       timeout=timeout, text=True)
    # Reap whatever orphans the VM might have left, then look.
    time.sleep(0.05)
    left = leftover_children()
    check(not left, "processes left behind: %s" % left)
    return p.returncode, p.stdout, p.stderr


def start(args, stdin=subprocess.DEVNULL):
    return subprocess.Popen([CELLVM] + args, stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def children(broker_pid, timeout=10.0):
    """{binary name: pid} of the broker's children, once all are up."""
    end = time.time() + timeout
    while time.time() < end:
        found = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    name = f.read().split(b"\0")[0].decode()
            except OSError:
                continue
            if ppid == str(broker_pid):
                found[name] = int(pid)
        # Forked children show the broker's command line until they exec.
        if ({"cellvm-vcpu", "cellvm-mmu", "cellvm-dev-uart"} <= set(found)
                and all(n.startswith("cellvm-") for n in found)):
            return found
        time.sleep(0.02)
    raise Failure("the broker's children did not all appear: %s" % found)


def running(p):
    """Wait for the guest's first line: the VM is set up and running.

    Read byte by byte from the descriptor: communicate() later reads the
    descriptor itself, and would never see what a buffered readline() had
    taken beyond the first line."""
    fd = p.stdout.fileno()
    line = b""
    while not line.endswith(b"\n"):
        c = os.read(fd, 1)
        check(c, "the guest printed nothing")
        line += c
    return line.decode()


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f
                    if ":\t" in line)


def fd_targets(pid):
    d = "/proc/%d/fd" % pid
    out = {}
    for fd in os.listdir(d):
        try:
            out[int(fd)] = os.readlink(os.path.join(d, fd))
        except OSError:
            pass
    return out


def check_long_output(out, lines):
    want = "".join(LINE % i + "\n" for i in range(1, lines + 1))
    want += "long-printer done\n"
    if out == want:
        return
    got = out.split("\n")
    for i, (a, b) in enumerate(zip(got, want.split("\n"))):
        if a != b:
            raise Failure("output differs at line %d: %r, expected %r"
                          % (i + 1, a, b))
    raise Failure("output has %d lines, expected %d"
                  % (len(got), len(want.split("\n"))))


def kill_uart_while_printing(kills, lines, gap):
    need_kvm()
    p = start(["run", "--kernel", image("long-printer"),
               "--cmdline", "lines=%d" % lines])
    try:
        first = running(p)
        kids = children(p.pid)
        killed = 0
        for _ in range(kills):
            uart = children(p.pid)["cellvm-dev-uart"]
            os.kill(uart, signal.SIGKILL)
            killed += 1
            # Wait for the replacement before the next kill.
            end = time.time() + 5
            while children(p.pid).get("cellvm-dev-uart") == uart:
                check(time.time() < end, "the UART was not restarted")
                time.sleep(0.005)
            time.sleep(gap)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    check(p.returncode == 0, "cellvm exited %d: %s" % (p.returncode, err))
    check_long_output(first + out, lines)
    # A kill can land while the new instance is still starting (it shows
    # as cellvm-dev-uart from its exec on); the broker then says it died
    # starting and starts another: every kill is seen, and every instance
    # that died is replaced.
    starting = len(re.findall(r"^" + BROKER + r"cellvm-dev-uart was killed "
                              r"by signal 9", err, re.M))
    check(err.count("was killed by signal 9") == killed and
          err.count("restarted as pid") == killed - starting,
          "expected %d kills and %d restarts, stderr: %s" %
          (killed, killed - starting, err))
    return kids


# --- the tests ------------------------------------------------------------

def test_hello_prints_greeting_and_exits_0():
    need_kvm()
    rc, out, err = run(["run", "--kernel", image("hello")])
    check(rc == 0, "exit status %d, stderr: %s" % (rc, err))
    check(out == expected("hello"), "output %r" % out)
    check(err == "", "unexpected stderr: %r" % err)


def test_guest_exit_status_becomes_cellvm_exit_status():
    need_kvm()
    for status in (0, 1, 7, 42, 255):
        rc, out, err = run(["run", "--kernel", image("exit-status"),
                            "--cmdline", "status=%d" % status])
        check(rc == status, "status %d gave exit %d (%s)" % (status, rc, err))
        check(out == "exiting with %d\n" % status, "output %r" % out)


def test_uart_registers_behave_like_a_16550a():
    need_kvm()
    rc, out, err = run(["run", "--kernel", image("uart-regs")])
    check(rc == 0, "exit %d: %s%s" % (rc, out, err))
    check(out == expected("uart-regs"), "output %r" % out)


def test_unclaimed_ports_read_all_ones_and_are_counted():
    need_kvm()
    rc, out, err = run(["run", "--kernel", image("ports"), "--stats"])
    check(rc == 0, "exit %d: %s%s" % (rc, out, err))
    check(out == expected("ports"), "output %r" % out)
    m = re.search(r"vcpu0: exits (\d+) io_exits (\d+) .*unclaimed_io (\d+)",
                  err)
    check(m, "no counters in %r" % err)
    check(int(m.group(3)) >= 27, "unclaimed ports counted: %s" % m.group(3))
    check(int(m.group(2)) > 0 and int(m.group(1)) >= int(m.group(2)),
          "exit counters %s" % m.group(0))


def test_processes_are_sandboxed_and_only_the_runner_has_kvm():
    need_kvm()
    p = start(["run", "--kernel", image("long-printer"),
               "--cmdline", "lines=2000"])
    try:
        running(p)
        kids = children(p.pid)
        check(set(kids) == {"cellvm-vcpu", "cellvm-mmu"} |
              {"cellvm-dev-" + d for d in DEVICES},
              "children: %s" % sorted(kids))
        for name, pid in kids.items():
            st = proc_status(pid)
            check(st["Seccomp"] == "2", "%s Seccomp %s" % (name, st["Seccomp"]))
            check(st["NoNewPrivs"] == "1", "%s NoNewPrivs" % name)
            check(st["CapEff"] == "0000000000000000", "%s CapEff" % name)
            check(st["CapPrm"] == "0000000000000000", "%s CapPrm" % name)
            fds = fd_targets(pid)
            has_kvm = any(t == "/dev/kvm" or t.startswith("anon_inode:kvm")
                          for t in fds.values())
            check(has_kvm == (name == "cellvm-vcpu"),
                  "%s kvm descriptors: %s" % (name, fds))
            with open("/proc/%d/maps" % pid) as f:
                maps = f.read()
            # Only the runner, the MMU service and the DMA-capable
            # (virtio) devices map guest RAM.
            check(("cellvm-ram" in maps) ==
                  (name in ("cellvm-vcpu", "cellvm-mmu") or
                   name.startswith("cellvm-dev-virtio-")),
                  "%s guest RAM mapping is wrong" % name)
            check(" rwxp " not in maps and " rwxs " not in maps,
                  "%s has a writable executable mapping" % name)
        broker = fd_targets(p.pid)
        check(not any("kvm" in t for t in broker.values()),
              "the broker still holds %s" % broker)
        # CAP_NET_ADMIN (bit 12) was only for making taps.
        st = proc_status(p.pid)
        for caps in ("CapEff", "CapPrm", "CapBnd"):
            check(not int(st[caps], 16) & (1 << 12),
                  "the broker kept CAP_NET_ADMIN in %s" % caps)
        with open("/proc/%d/maps" % p.pid) as f:
            check("cellvm-ram" not in f.read(), "the broker maps guest RAM")
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
    finally:
        if p.poll() is None:
            p.kill()


def test_device_holds_only_the_descriptors_it_was_handed():
    need_kvm()
    p = start(["run", "--kernel", image("long-printer"),
               "--cmdline", "lines=2000"])
    try:
        running(p)
        kids = children(p.pid)
        for name, pid in kids.items():
            fds = fd_targets(pid)
            check(fds.get(0) == "/dev/null" and fds.get(1) == "/dev/null",
                  "%s stdin/stdout: %s" % (name, fds))
            check(fds.get(3, "").startswith("socket:"),
                  "%s control socket: %s" % (name, fds))
            extra = {fd: t for fd, t in fds.items() if fd > 3}
            if name == "cellvm-dev-uart":
                check(list(extra.values()) == [v for v in extra.values()
                                               if v.startswith("pipe:")]
                      and len(extra) == 1,
                      "uart holds %s" % extra)
            elif name == "cellvm-vcpu":
                check(all(t.startswith("anon_inode:kvm") for t in
                          extra.values()), "runner holds %s" % extra)
            else:
                check(not extra, "%s holds %s" % (name, extra))
        p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()


def test_uart_killed_three_times_loses_and_doubles_nothing():
    kill_uart_while_printing(kills=3, lines=3000, gap=0.3)


def test_uart_killed_in_quick_succession_loses_and_doubles_nothing():
    kill_uart_while_printing(kills=10, lines=2000, gap=0.0)


def print_with_trigger(action):
    """Run the long printer while the UART misbehaves on purpose; the
    output must still be complete. Returns stderr."""
    need_kvm()
    rc, out, err = run(["run", "--help"])
    if "--test-trigger" not in out:
        raise Skip("this build has no test hooks (meson -Dtest_hooks=true)")
    rc, out, err = run(["run", "--kernel", image("long-printer"),
                        "--cmdline", "lines=1500",
                        "--test-trigger", "uart:%s@200" % action],
                       timeout=120)
    check(rc == 0, "exit %d: %s" % (rc, err))
    check("cellvm-dev-uart restarted as pid" in err, "not restarted: %s" % err)
    check_long_output(out, 1500)
    return err


def test_seccomp_violation_kills_device_and_broker_names_the_syscall():
    err = print_with_trigger("bad-syscall")
    check(re.search(BROKER + r"cellvm-dev-uart\[\d+\] was killed by its "
                    r"seccomp policy: system call socket \(41\)", err),
          "no seccomp report in %r" % err)


# --- logs (issue 5) ---

def need_test_hooks():
    rc, out, err = run(["run", "--help"])
    if "--test-trigger" not in out:
        raise Skip("this build has no test hooks (meson -Dtest_hooks=true)")


def check_heads(err, name):
    """Every line on stderr names VM name: the broker's and its children's
    (docs/architecture.md, "Logs")."""
    n = re.escape(name)
    for line in err.splitlines():
        check(re.match(r"^(cellvm\[%s\]|cellvm-[a-z-]+\[%s/\d+\]): " % (n, n),
                       line), "line without the VM's head: %r" % line)


def test_device_log_lines_name_the_vm_and_the_host_pid():
    """A device's lines say VM and pid: the pid the broker knows it by (a
    host pid: in its own pid namespace the device is 1), before and after
    a restart; every line of the VM names it."""
    need_kvm()
    need_test_hooks()
    name = vm_name("heads")
    n = re.escape(name)
    rc, out, err = run(["run", "--kernel", image("long-printer"),
                        "--cmdline", "lines=1500", "--name", name, "-v",
                        "--test-trigger", "uart:bad-syscall@200"],
                       timeout=120)
    check(rc == 0, "exit %d: %s" % (rc, err))
    check_long_output(out, 1500)
    check_heads(err, name)
    m = re.search(r"^cellvm-dev-uart\[%s/(\d+)\]: test trigger: making a "
                  r"system call outside the policy$" % n, err, re.M)
    check(m, "no trigger line: %s" % err)
    old = int(m.group(1))
    check(old > 1 and re.search(
        r"^cellvm-dev-uart\[%s/%d\]: seccomp: blocked system call 41$"
        % (n, old), err, re.M) and re.search(
        r"^cellvm\[%s\]: cellvm-dev-uart\[%d\] was killed by its seccomp "
        r"policy: system call socket \(41\); restarting it$" % (n, old),
        err, re.M), "the device's and the broker's pids differ: %s" % err)
    m = re.search(r"^cellvm\[%s\]: cellvm-dev-uart restarted as pid (\d+) "
                  % n, err, re.M)
    check(m and int(m.group(1)) != old and re.search(
        r"^cellvm-dev-uart\[%s/%s\]: resuming at request \d+$"
        % (n, m.group(1)), err, re.M), "restarted instance: %s" % err)


def test_log_relay_passes_lines_on_cuts_long_ones_and_drops_a_flood():
    """--log stderr-relay (test builds): the children's lines go through
    the broker as for the journal. A device floods its stderr (a 3 KiB
    line, then 2000 lines at once, more than its pipe holds): the long line
    is cut, 200 a second pass, the rest is dropped and counted, and the
    guest's output is whole: the broker went on serving meanwhile."""
    need_kvm()
    need_test_hooks()
    name = vm_name("relay")
    n = re.escape(name)
    rc, out, err = run(["run", "--kernel", image("long-printer"),
                        "--cmdline", "lines=3000", "--name", name,
                        "--log", "stderr-relay",
                        "--test-trigger", "uart:log-flood@200",
                        "--test-trigger", "uart:bad-syscall@1700"],
                       timeout=120)
    check(rc == 0, "exit %d: %s" % (rc, err[:2000]))
    check_long_output(out, 3000)
    check_heads(err, name)
    lines = err.splitlines()
    cut = [l for l in lines if l.endswith(" (cut)")]
    check(len(cut) == 1 and len(cut[0]) == 1024 + len(" (cut)"),
          "cut lines: %r" % [l[:80] for l in cut])
    m = re.match(r"^cellvm-dev-uart\[%s/(\d+)\]: test trigger: x+ \(cut\)$"
                 % n, cut[0])
    check(m, "cut line %r" % cut[0][:80])
    pid = int(m.group(1))
    flood = [l for l in lines if re.match(
        r"^cellvm-dev-uart\[%s/%d\]: test trigger: log flood line \d+ of "
        r"2000$" % (n, pid), l)]
    dropped = [int(d) for d in re.findall(
        r"^cellvm\[%s\]: dropped (\d+) lines of cellvm-dev-uart\[%d\]'s log "
        r"\(more than 200 a second\)$" % (n, pid), err, re.M)]
    check(dropped and 0 < len(flood) <= 200 * len(dropped) and
          len(flood) + sum(dropped) == 2000,
          "%d flood lines passed, dropped %s" % (len(flood), dropped))
    # A second later the same pipe passes lines again, and the broker still
    # names the pid the lines came with.
    check(re.search(r"^cellvm-dev-uart\[%s/%d\]: seccomp: blocked system "
                    r"call 41$" % (n, pid), err, re.M) and
          re.search(r"^cellvm\[%s\]: cellvm-dev-uart\[%d\] was killed by its "
                    r"seccomp policy" % (n, pid), err, re.M),
          "after the flood: %s" % "\n".join(lines[-8:]))


JOURNALD = "/lib/systemd/systemd-journald"
JOURNAL_SOCKET = "/run/systemd/journal/socket"

# Without a running journald (a container, this test's own machine), one
# of our own in a private mount namespace: tmpfs over its directories, so
# nothing of it is seen outside, gone when the namespace goes.
PRIVATE_JOURNAL = r"""
set -e
for d in /run/systemd /run/log /var/log/journal; do
	if [ -d $d ]; then mount -t tmpfs tmpfs $d; fi
done
%(journald)s & j=$!
trap 'kill $j; wait $j' EXIT
i=0
while [ ! -S %(socket)s ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sh -c "$RUN"
"""

# Run the VM, then read what the journal has of it: it writes
# asynchronously, so until the last line of interest is in.
JOURNAL_RUN = r"""
rc=0
"$@" > /dev/null 2> "$DIR/err" || rc=$?
echo $rc > "$DIR/rc"
i=0
while [ $i -lt 100 ]; do
	journalctl --no-pager -o json "CELLVM_VM=$NAME" > "$DIR/journal"
	grep -q "restarted as pid" "$DIR/journal" && break
	sleep 0.05; i=$((i + 1))
done
"""


def journal_run(name, args):
    """Run cellvm with args, its log to the journal: (exit status, stderr,
    [the journal's entries of VM name])."""
    if not shutil.which("journalctl"):
        raise Skip("no journalctl")
    private = not os.path.exists(JOURNAL_SOCKET)
    if private:
        if os.geteuid() != 0 or not os.path.exists(JOURNALD) or \
                not os.path.isdir("/run/systemd") or \
                not shutil.which("unshare"):
            raise Skip("no journald running (%s) and none of our own: that "
                       "needs root, %s, /run/systemd and unshare"
                       % (JOURNAL_SOCKET, JOURNALD))
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, DIR=d, NAME=name)
        cmd = ["sh", "-c", JOURNAL_RUN, "sh", CELLVM] + args
        if private:
            env["RUN"] = " ".join("'%s'" % a for a in cmd)
            cmd = ["unshare", "--mount", "--propagation", "private", "sh",
                   "-c", PRIVATE_JOURNAL % {"journald": JOURNALD,
                                            "socket": JOURNAL_SOCKET}]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        check(os.path.exists(os.path.join(d, "rc")),
              "did not run: %s %s" % (p.stdout, p.stderr))
        with open(os.path.join(d, "rc")) as f:
            rc = int(f.read())
        with open(os.path.join(d, "err")) as f:
            err = f.read()
        with open(os.path.join(d, "journal")) as f:
            entries = [json.loads(l) for l in f if l.strip()]
    time.sleep(0.05)
    check(not leftover_children(), "processes left behind")
    return rc, err, entries


def test_journald_gets_each_line_with_vm_process_and_pid_fields():
    """--log journald: the broker's lines and, relayed by it, a device's go
    to the journal with CELLVM_VM, CELLVM_PROCESS, CELLVM_PID, PRIORITY and
    SYSLOG_IDENTIFIER=cellvm; nothing is left for stderr."""
    need_kvm()
    need_test_hooks()
    rc, out, err = run(["run", "--log", "journald", "--help"])
    if "built without libsystemd" in err:
        raise Skip("this cellvm was built without libsystemd")
    name = vm_name("journal")
    n = re.escape(name)
    rc, err, entries = journal_run(name, [
        "run", "--kernel", image("long-printer"), "--cmdline", "lines=1500",
        "--name", name, "--log", "journald", "-v",
        "--test-trigger", "uart:bad-syscall@200"])
    check(rc == 0 and err == "", "exit %d, stderr %r" % (rc, err))
    msgs = [e.get("MESSAGE") for e in entries]
    check(all(e.get("SYSLOG_IDENTIFIER") == "cellvm" and
              e.get("CELLVM_VM") == name for e in entries) and entries,
          "entries: %s" % entries)

    def entry(pattern):
        found = [e for e in entries
                 if re.match(pattern, e.get("MESSAGE", ""))]
        check(len(found) == 1, "%r in the journal: %s" % (pattern, msgs))
        return found[0]

    t = entry(r"^cellvm-dev-uart\[%s/(\d+)\]: test trigger: making a system "
              r"call outside the policy$" % n)
    pid = re.match(r"^cellvm-dev-uart\[%s/(\d+)\]" % n, t["MESSAGE"]).group(1)
    s = entry(r"^cellvm-dev-uart\[%s/%s\]: seccomp: blocked system call "
              r"41$" % (n, pid))
    k = entry(r"^cellvm\[%s\]: cellvm-dev-uart\[%s\] was killed by its "
              r"seccomp policy: system call socket \(41\)" % (n, pid))
    r = entry(r"^cellvm\[%s\]: cellvm-dev-uart restarted as pid \d+ " % n)
    broker = k["_PID"]
    check(t["CELLVM_PROCESS"] == s["CELLVM_PROCESS"] == "cellvm-dev-uart" and
          t["CELLVM_PID"] == s["CELLVM_PID"] == pid and
          t["PRIORITY"] == "4" and s["PRIORITY"] == "3",
          "the device's entries: %s %s" % (t, s))
    check(k["CELLVM_PROCESS"] == r["CELLVM_PROCESS"] == "cellvm" and
          k["CELLVM_PID"] == r["CELLVM_PID"] == broker and
          k["PRIORITY"] == r["PRIORITY"] == "4" and t["_PID"] == broker,
          "the broker's entries: %s %s" % (k, r))


def test_uart_drives_its_interrupt_line_gated_by_out2():
    need_kvm()
    rc, out, err = run(["run", "--kernel", image("uart-irq"), "--stats"])
    check(rc == 0 and out == expected("uart-irq"), "exit %d: %r" % (rc, out))
    check("irq: high lines: 4\n" in err, "GSI 4 not high: %s" % err)
    rc, out, err = run(["run", "--kernel", image("uart-irq"), "--stats",
                        "--cmdline", "out2=0"])
    check(rc == 0, "exit %d: %s" % (rc, err))
    check("irq: high lines:\n" in err, "a line is high: %s" % err)


def test_runner_death_stops_the_vm_cleanly():
    need_kvm()
    p = start(["run", "--kernel", image("long-printer"),
               "--cmdline", "lines=3000"])
    try:
        running(p)
        os.kill(children(p.pid)["cellvm-vcpu"], signal.SIGKILL)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    check(p.returncode == 1, "exit %d" % p.returncode)
    check(re.search(r"^" + BROKER + r"cellvm-vcpu was killed by signal 9 "
                    r"\(Killed\); stopping the VM$", err, re.M),
          "stderr %r" % err)
    time.sleep(0.05)
    check(not leftover_children(), "processes left behind")


def test_mmu_service_is_restarted_and_the_guest_goes_on():
    need_kvm()
    p = start(["run", "--kernel", image("long-printer"),
               "--cmdline", "lines=1500"])
    try:
        first = running(p)
        os.kill(children(p.pid)["cellvm-mmu"], signal.SIGKILL)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
    check("cellvm-mmu restarted as pid" in err, "stderr %r" % err)
    check_long_output(first + out, 1500)


def test_corrupt_state_page_resets_the_device_and_loses_no_output():
    err = print_with_trigger("corrupt-state")
    check("state page is corrupt; resetting the device" in err,
          "no reset reported: %s" % err)


def test_serial_output_can_go_to_a_file():
    need_kvm()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "serial.log")
        rc, out, err = run(["run", "--kernel", image("hello"),
                            "--serial", "file:" + path])
        check(rc == 0 and out == "", "exit %d, stdout %r" % (rc, out))
        with open(path) as f:
            check(f.read() == expected("hello"), "file contents")


def test_two_vcpus_are_created():
    need_kvm()
    p = start(["run", "--kernel", image("long-printer"), "--cpus", "2",
               "--cmdline", "lines=1500"])
    try:
        running(p)
        kids = children(p.pid)
        fds = fd_targets(kids["cellvm-vcpu"]).values()
        check(sum(t.startswith("anon_inode:kvm-vcpu") for t in fds) == 2,
              "vCPU descriptors: %s" % list(fds))
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
    finally:
        if p.poll() is None:
            p.kill()


def test_serial_input_reaches_the_guest():
    need_kvm()
    rc, out, err = run(["run", "--kernel", image("echo")],
                       stdin=open(os.path.join(GUEST_SRC, "echo",
                                               "input.txt")))
    check(rc == 0, "exit %d: %s" % (rc, err))
    check(out == expected("echo"), "output %r" % out)


def test_serial_input_survives_uart_kills():
    """Input taken by a UART that dies before committing is taken again."""
    need_kvm()
    lines = ["line %03d of the input" % i for i in range(150)]
    p = start(["run", "--kernel", image("echo")], stdin=subprocess.PIPE)
    try:
        children(p.pid)
        killed = 0
        for i, line in enumerate(lines):
            p.stdin.write(line + "\n")
            p.stdin.flush()
            if i % 30 == 15:
                os.kill(children(p.pid)["cellvm-dev-uart"], signal.SIGKILL)
                killed += 1
            time.sleep(0.01)
        p.stdin.write("quit\n")
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
    want = "echo: ready\n" + "".join("echo: %s\n" % l.upper()
                                     for l in lines) + "echo: bye\n"
    check(out == want, "echoed %r" % out[-400:])
    check(err.count("restarted as pid") == killed, "restarts: %s" % err)


def check_regex_lines(out, path):
    """Each output line against its regular expression (expected.re)."""
    with open(path) as f:
        pats = f.read().splitlines()
    lines = out.splitlines()
    check(len(lines) == len(pats), "%d lines of output, %d expected:\n%s"
          % (len(lines), len(pats), out))
    for n, (line, pat) in enumerate(zip(lines, pats), 1):
        check(re.fullmatch(pat, line), "line %d %r does not match %r"
              % (n, line, pat))


def kit_guest(name, args=(), exact=True):
    """A kit guest's checks all pass, and it says exactly what it should."""
    need_kvm()
    rc, out, err = run(["run", "--kernel", image(name)] + list(args),
                       timeout=120)
    check(rc == 0, "%s: exit %d\n%s%s" % (name, rc, out, err))
    if exact:
        check(out == expected(name), "%s printed:\n%s" % (name, out))
    return out


def test_pic_guest_passes():
    kit_guest("pic")


def test_ioapic_guest_passes():
    kit_guest("ioapic")


def test_lapic_guest_passes():
    kit_guest("lapic")


def test_pit_guest_passes():
    kit_guest("pit")


def test_rtc_guest_passes_and_keeps_host_time():
    start = time.time()
    out = kit_guest("rtc", exact=False)
    end = time.time()
    check_regex_lines(out, os.path.join(GUEST_SRC, "rtc", "expected.re"))
    m = re.search(r"^rtc-time: (\S+)$", out, re.M)
    got = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    got -= time.timezone  # the RTC shows UTC
    check(start - 2 <= got <= end + 1,
          "RTC time %s is off the host clock by more than a second"
          % m.group(1))


def test_acpi_poweroff_stops_the_vm_with_status_0():
    out = kit_guest("acpi-poweroff")
    check(out.endswith("acpi-poweroff: powering off\n"), "output %r" % out)


def smp(n, expected_file):
    out = kit_guest("smp", ["--cpus", str(n), "--cmdline", "cpus=%d" % n],
                    exact=False)
    with open(os.path.join(GUEST_SRC, "smp", expected_file)) as f:
        want = f.read()
    # APs report in any order.
    check(sorted(out.splitlines()) == sorted(want.splitlines()),
          "smp with %d vCPUs printed:\n%s" % (n, out))


def test_smp_two_vcpus_come_up_and_exchange_ipis():
    smp(2, "expected.txt")


def test_smp_four_vcpus_come_up_and_exchange_ipis():
    smp(4, "expected-4.txt")


def count_timer_while_killing(device, src):
    """Kill one interrupt device while the guest counts a timer's ticks:
    the count stays within 2% of the programmed rate (the guest checks),
    and the VM goes on to exit 0."""
    need_kvm()
    hz = 128 if src == "rtc" else 100
    p = start(["run", "--kernel", image("timer-count"), "--cmdline",
               "src=%s hz=%d secs=5" % (src, hz)])
    try:
        first = running(p)
        time.sleep(1.5)
        os.kill(children(p.pid)["cellvm-dev-" + device], signal.SIGKILL)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    out = first + out
    check("cellvm-dev-%s restarted as pid" % device in err,
          "%s was not restarted: %s" % (device, err))
    check(p.returncode == 0, "exit %d (count off by more than 2%%?):\n%s%s"
          % (p.returncode, out, err))
    check_regex_lines(out, os.path.join(GUEST_SRC, "timer-count",
                                        "expected.re"))


def test_killing_the_pit_loses_no_pit_tick():
    count_timer_while_killing("pit", "pit")


def test_killing_the_rtc_loses_no_rtc_tick():
    count_timer_while_killing("rtc", "rtc")


def test_killing_the_lapic_loses_no_lapic_timer_tick():
    count_timer_while_killing("lapic", "lapic")


def test_killing_the_ioapic_loses_no_pit_tick():
    count_timer_while_killing("ioapic", "pit")


def test_killing_the_pic_disturbs_no_timer():
    count_timer_while_killing("pic", "pit")


def bad_input(args, pattern, **kw):
    rc, out, err = run(args, **kw)
    lines = err.splitlines()
    check(rc != 0, "exit status 0 for %s" % args)
    check(len(lines) == 1, "expected one line on stderr, got %r" % err)
    check(re.search(pattern, lines[0]), "message %r does not match %r"
          % (lines[0], pattern))


def test_missing_kernel_file_is_one_clear_error():
    bad_input(["run", "--kernel", "/nonexistent/vmlinuz"],
              r"^" + BROKER + r"cannot open kernel '/nonexistent/vmlinuz': "
              r"No such file or directory$")


def test_garbage_kernel_is_refused_with_a_reason():
    need_kvm()
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(os.urandom(4096))
        f.flush()
        bad_input(["run", "--kernel", f.name],
                  r"^%s%s: .*(magic|not an ELF)" % (BROKER, re.escape(f.name)))


def test_truncated_kernel_is_refused_with_a_reason():
    need_kvm()
    with open(image("hello"), "rb") as src:
        data = src.read()
    with tempfile.NamedTemporaryFile(suffix=".elf") as f:
        f.write(data[:200])
        f.flush()
        bad_input(["run", "--kernel", f.name],
                  r"^%s%s: .*(truncated|beyond the end of the file)"
                  % (BROKER, re.escape(f.name)))


def test_zero_memory_is_refused():
    bad_input(["run", "--kernel", image("hello"), "--mem", "0"],
              r"^cellvm: invalid --mem '0'")


def test_bad_cpu_count_and_serial_are_refused():
    bad_input(["run", "--kernel", image("hello"), "--cpus", "0"],
              r"^cellvm: invalid --cpus '0'")
    bad_input(["run", "--kernel", image("hello"), "--serial", "tcp:1"],
              r"^cellvm: invalid --serial")


def test_run_without_kernel_and_no_default_guest_is_one_clear_error():
    """cellvm run boots the default guest next to it or in datadir; a
    copy of cellvm in a directory without one says what to do."""
    with tempfile.TemporaryDirectory() as d:
        lone = os.path.join(d, "cellvm")
        shutil.copy(CELLVM, lone)
        p = subprocess.run([lone, "run"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=30)
    lines = p.stderr.splitlines()
    check(p.returncode == 1, "exit %d: %r" % (p.returncode, p.stderr))
    check(len(lines) == 1 and re.match(
        r"^cellvm: no --kernel given and no default guest .*"
        r"tools/default-guest", lines[0]), "stderr %r" % p.stderr)
    bad_input(["run", "--initrd", "/dev/null"],
              r"^cellvm: --initrd needs --kernel$")


def test_missing_dev_kvm_is_one_clear_error():
    need_root("hides /dev/kvm in a private mount namespace")
    script = ("mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && "
              "exec %s run --kernel %s" % (CELLVM, image("hello")))
    p = subprocess.run(["unshare", "--mount", "--propagation", "private",
                        "sh", "-c", script], capture_output=True, text=True,
                       timeout=30)
    time.sleep(0.05)
    check(not leftover_children(), "processes left behind")
    lines = p.stderr.splitlines()
    check(p.returncode == 1, "exit %d: %r" % (p.returncode, p.stderr))
    check(len(lines) == 1 and re.match(
        r"^" + BROKER + r"cannot open /dev/kvm: No such file or directory",
        lines[0]),
        "stderr %r" % p.stderr)


def test_release_build_has_no_test_triggers():
    """The misbehaving-device triggers exist only in -Dtest_hooks builds."""
    with tempfile.TemporaryDirectory() as d:
        build = os.path.join(d, "release")
        for cmd in (["meson", "setup", "--buildtype=release",
                     "-Dguests=disabled", build, SOURCE_ROOT],
                    ["ninja", "-C", build, "cellvm", "cellvm-dev-uart"]):
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=600)
            check(p.returncode == 0, "%s failed: %s%s" % (cmd, p.stdout,
                                                          p.stderr))
        cellvm = os.path.join(build, "cellvm")
        p = subprocess.run([cellvm, "run", "--help"], capture_output=True,
                           text=True)
        check("--test-trigger" not in p.stdout, "release --help offers it")
        p = subprocess.run([cellvm, "run", "--kernel", "/dev/null",
                            "--test-trigger", "uart:bad-syscall"],
                           capture_output=True, text=True)
        check(p.returncode == 1 and "unrecognized option" in p.stderr,
              "release cellvm accepted --test-trigger: %r" % p.stderr)
        with open(os.path.join(build, "cellvm-dev-uart"), "rb") as f:
            data = f.read()
        check(b"outside the policy" not in data,
              "release UART contains the trigger")
        check(b"escape attempt" not in data,
              "release UART contains the escape attempts")


# --- PCI and virtio ---

def tap_name():
    """A tap name no other test run uses at the same time."""
    return "cvt%d" % (os.getpid() % 100000)


def need_tap():
    need_root("making a tap for virtio-net")
    if not os.path.exists("/dev/net/tun"):
        raise Skip("/dev/net/tun does not exist")


def test_virtio_rng_is_there_by_default():
    need_kvm()
    rc, out, err = run(["run", "--kernel", image("virtio-smoke")])
    check(rc == 0, "exit %d: %s%s" % (rc, out, err))
    check(out == expected("virtio-smoke"), "output %r" % out)


def tree_state(d):
    """Name, size and contents hash of every file under d."""
    state = {}
    for root, _, files in os.walk(d):
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                state[p] = hash(f.read())
    return state


def test_virtio_blk_net_console_work_for_a_guest():
    need_kvm()
    need_tap()
    with tempfile.TemporaryDirectory() as d:
        disk = os.path.join(d, "disk.img")
        con = os.path.join(d, "hvc0.log")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        rc, out, err = run(["run", "--kernel", image("virtio-smoke"),
                            "--disk", disk, "--vconsole", con,
                            "--net", "tap=" + tap_name()])
        check(rc == 0, "exit %d: %s%s" % (rc, out, err))
        with open(os.path.join(GUEST_SRC, "virtio-smoke",
                               "expected-all.txt")) as f:
            check(out == f.read(), "output %r" % out)
        with open(con) as f:
            check(f.read() == "virtio-smoke: hello on the console\n",
                  "the console file")
        # The pattern went to the disk's last sector.
        with open(disk, "rb") as f:
            f.seek((1 << 20) - 512)
            check(f.read(512) != bytes(512), "nothing written to the image")


def test_hostile_guest_breaks_no_virtio_device_and_nothing_else():
    """Malformed chains to every virtio device: each answers with an error
    status or NEEDS_RESET and works again after a reset; the VM, its other
    processes and the host's files are unharmed."""
    need_kvm()
    need_tap()
    with tempfile.TemporaryDirectory() as d:
        disk = os.path.join(d, "disk.img")
        con = os.path.join(d, "hvc0.log")
        other = os.path.join(d, "other")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        with open(other, "wb") as f:
            f.write(os.urandom(1 << 16))
        before = tree_state(d)
        rc, out, err = run(["run", "--kernel", image("virtio-hostile"),
                            "--disk", disk, "--vconsole", con,
                            "--net", "tap=" + tap_name(), "--stats"],
                           timeout=300)
        check(rc == 0, "exit %d: %s%s" % (rc, out, err))
        check_regex_lines(out, os.path.join(GUEST_SRC, "virtio-hostile",
                                            "expected-all.re"))
        check("needs a reset" in err, "no device said it was broken")
        check("restarted" not in err and "killed" not in err,
              "a process died: %s" % err)
        after = tree_state(d)
        del before[disk], after[disk], after[con]
        check(after == before, "files changed: %s" %
              sorted(set(after.items()) ^ set(before.items())))


def test_read_only_disk_refuses_writes_and_stays_unchanged():
    need_kvm()
    with tempfile.TemporaryDirectory() as d:
        disk = os.path.join(d, "disk.img")
        data = os.urandom(1 << 20)
        with open(disk, "wb") as f:
            f.write(data)
        os.chmod(disk, 0o444)
        rc, out, err = run(["run", "--kernel", image("virtio-smoke"),
                            "--disk", disk + ",readonly"])
        check(rc == 0, "exit %d: %s%s" % (rc, out, err))
        check("ok   blk: a write to the read-only disk fails with IOERR\n"
              in out and "ok   blk: read the last sector\n" in out,
              "output %r" % out)
        with open(disk, "rb") as f:
            check(f.read() == data, "the read-only image changed")


def test_bad_disk_and_net_options_are_one_clear_error():
    kernel = image("hello")
    with tempfile.TemporaryDirectory() as d:
        disk = os.path.join(d, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        bad_input(["run", "--kernel", kernel, "--disk", d + "/none.img"],
                  r"^" + BROKER + r"cannot open disk '.*none.img': No such file")
        bad_input(["run", "--kernel", kernel, "--disk", d],
                  r"^%s(cannot open disk|disk) '%s'" % (BROKER, re.escape(d)))
        bad_input(["run", "--kernel", kernel, "--disk", disk + ",rw"],
                  r"^cellvm: invalid --disk")
        bad_input(["run", "--kernel", kernel, "--net", "tap"],
                  r"^cellvm: invalid --net 'tap'")
        bad_input(["run", "--kernel", kernel, "--net",
                   "tap=t0,mac=01:00:00:00:00:01"],
                  r"^cellvm: invalid --net")
        bad_input(["run", "--kernel", kernel, "--net", "tap=" + "x" * 20],
                  r"^" + BROKER + r"tap name '.*' is too long")
        # A disk another VM (here: this test) holds is refused.
        with open(disk, "rb+") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            bad_input(["run", "--kernel", kernel, "--disk", disk],
                      r"^" + BROKER + r"disk '.*' is in use by another "
                      r"process")


# --- escape attempts (issue 5) ---

# What a compromised device tries (lib/trigger.c), and what must stop it:
# the system call its seccomp filter traps, or None where the call is in
# every device's policy and the kernel refuses it (mmap of fds it does not
# hold).
ESCAPES = {
    "bad-syscall": "socket",
    "open-file": "openat",
    "create-file": "openat",
    "stat-file": "newfstatat",
    "open-kvm": "openat",
    "connect": "connect",
    "socketpair": "socketpair",
    "execve": "execve",
    "ptrace": "ptrace",
    "kill": "kill",
    "steal-fd": "pidfd_open",
    "read-memory": "process_vm_readv",
    "mmap-fds": None,
    "memfd": "memfd_create",
    "setuid": "setuid",
    "capset": "capset",
    "unshare": "unshare",
}
# A serial port, an interrupt controller, the PCI host and a virtio device.
ESCAPE_DEVICES = ("uart", "lapic", "pci", "virtio-rng")


def state_fds(broker, kids):
    """{device: path of the broker's descriptor of its state page}, found
    through the inode each device maps; None when /proc does not let us
    look (device processes are not dumpable: that needs root)."""
    inode, fds = {}, {}
    try:
        for name, pid in kids.items():
            with open("/proc/%d/maps" % pid) as f:
                for line in f:
                    if "/memfd:cellvm-state" in line:
                        inode[int(line.split()[4])] = name[len("cellvm-dev-"):]
        d = "/proc/%d/fd" % broker
        for fd in os.listdir(d):
            path = os.path.join(d, fd)
            try:
                ino = os.stat(path).st_ino
                if ino in inode and os.readlink(path).startswith(
                        "/memfd:cellvm-state"):
                    fds[inode[ino]] = path
            except FileNotFoundError:
                pass
    except PermissionError:
        return None
    return fds


def state_pages(fds):
    """{device: contents of its state page}"""
    if fds is None:
        return None
    pages = {}
    for name, path in fds.items():
        with open(path, "rb") as f:
            pages[name] = f.read()
    return pages


def escape_log(err):
    """From the VM's stderr: [(device, pid, action)] in order, {pid: system
    call the filter trapped}, {pid: [refusals]}, and lines that say an
    attempt succeeded."""
    tried, trapped, refused = [], {}, {}
    for line in err.splitlines():
        m = re.match(r"^cellvm-dev-(\S+?)" + CHILD_PID + r": test trigger: "
                     r"(?:escape attempt (\S+)|(making a system call))", line)
        if m:
            tried.append((m.group(1), int(m.group(2)),
                          m.group(3) or "bad-syscall"))
        m = re.match(r"^" + BROKER + r"cellvm-dev-\S+\[(\d+)\] was killed by "
                     r"its seccomp policy: system call (\w+) \(\d+\); "
                     r"restarting it$", line)
        if m:
            trapped[int(m.group(1))] = m.group(2)
        m = re.match(r"^cellvm-dev-\S+?" + CHILD_PID + r": escape attempt "
                     r"\S+ refused: (.*)$", line)
        if m:
            refused.setdefault(int(m.group(1)), []).append(m.group(2))
    return tried, trapped, refused, [l for l in err.splitlines()
                                     if "SUCCEEDED" in l]


def test_escape_attempts_are_trapped_or_refused_and_the_guest_goes_on():
    """Each escape attempt on each of four kinds of device, while a guest
    echoes a stream of input: each is trapped by the device's filter (named
    by the broker) or refused by the kernel (logged by the device), nothing
    is left behind, no other process dies or changes, the guest's output is
    whole and in order."""
    need_kvm()
    rc, out, err = run(["run", "--help"])
    if "--test-trigger" not in out:
        raise Skip("this build has no test hooks (meson -Dtest_hooks=true)")
    before = set(os.listdir("/tmp"))
    args = ["run", "--kernel", image("echo")]
    # All due at once: the broker sends a device its triggers one at a
    # time, each once the device is back from the one before.
    for dev in ESCAPE_DEVICES:
        for action in ESCAPES:
            args += ["--test-trigger", "%s:%s@300" % (dev, action)]
    ntried = len(ESCAPE_DEVICES) * len(ESCAPES)
    ntrapped = len(ESCAPE_DEVICES) * sum(1 for s in ESCAPES.values() if s)
    got = {"out": b"", "err": b""}

    def drain(name, f):
        for chunk in iter(lambda: os.read(f.fileno(), 65536), b""):
            got[name] += chunk

    def attacks_done():
        return (got["err"].count(b": test trigger: ") >= ntried and
                got["err"].count(b" restarted as pid ") >= ntrapped)

    p = start(args, stdin=subprocess.PIPE)
    readers = [threading.Thread(target=drain, args=(n, f), daemon=True)
               for n, f in (("out", p.stdout), ("err", p.stderr))]
    # The echo guest goes on for as long as it is given input: feed it
    # until every attempt has been made and answered, and a little more.
    lines = []
    try:
        first = running(p).encode()
        for t in readers:
            t.start()
        kids = {n: pid for n, pid in children(p.pid).items()
                if n.startswith("cellvm-dev-")}
        fds = state_fds(p.pid, kids)
        pages0 = state_pages(fds)
        end = time.time() + 90
        while not attacks_done() and p.poll() is None and time.time() < end:
            lines.append("input %05d during the attacks" % len(lines))
            p.stdin.write(lines[-1] + "\n")
            p.stdin.flush()
            time.sleep(0.01)
        check(attacks_done(), "not every attempt was made: %s"
              % got["err"].decode())
        pages1 = state_pages(fds)
        kids1 = children(p.pid)
        for i in range(20):
            lines.append("input %05d after the attacks" % len(lines))
            p.stdin.write(lines[-1] + "\n")
        p.stdin.write("quit\n")
        p.stdin.close()
        p.wait(timeout=60)
        for t in readers:
            t.join(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    out = (first + got["out"]).decode()
    err = got["err"].decode()
    time.sleep(0.05)
    check(not leftover_children(), "processes left behind")
    left = sorted(n for n in set(os.listdir("/tmp")) - before
                  if n.startswith("cellvm-escape"))
    for n in left:
        os.unlink(os.path.join("/tmp", n))
    check(not left, "an escape attempt left /tmp/%s" % left)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
    want = "echo: ready\n" + "".join("echo: %s\n" % l.upper()
                                     for l in lines) + "echo: bye\n"
    check(out == want, "%d lines in, echoed %d: ...%r"
          % (len(lines), out.count("\n") - 2, out[-300:]))
    print("%d lines echoed while under attack" % len(lines))

    tried, trapped, refused, succeeded = escape_log(err)
    check(not succeeded, "escape attempts succeeded: %s" % succeeded)
    for dev in ESCAPE_DEVICES:
        mine = [(pid, a) for d, pid, a in tried if d == dev]
        check([a for _, a in mine] == list(ESCAPES),
              "%s tried %s, expected %s" % (dev, [a for _, a in mine],
                                            list(ESCAPES)))
        for i, (pid, action) in enumerate(mine):
            want = ESCAPES[action]
            # A refused attempt leaves the process to make the next one.
            last = i + 1 == len(mine) or mine[i + 1][0] != pid
            if want:
                check(last and trapped.get(pid) == want,
                      "%s %s: killed for %r, expected %s"
                      % (dev, action, trapped.get(pid), want))
            else:
                check(not (last and pid in trapped) and refused.get(pid),
                      "%s %s: not refused, or killed for %s"
                      % (dev, action, trapped.get(pid)))
            print("%-10s %-12s %s" % (dev, action,
                                       "filter: " + want if want else
                                       "kernel: " + "; ".join(refused[pid])))
        n = len(re.findall(r"^%scellvm-dev-%s restarted as pid "
                           % (BROKER, re.escape(dev)), err, re.M))
        check(n == sum(1 for s in ESCAPES.values() if s),
              "%s restarted %d times" % (dev, n))
    # Nothing but the devices under attack died, and those by their filter.
    deaths = re.findall(r"^" + BROKER + r"(\S+?)(?:\[\d+\])? "
                        r"(?:was|exited|is).*$", err, re.M)
    check(len(deaths) == len(trapped) == ntrapped and all(
        d.split("[")[0][len("cellvm-dev-"):] in ESCAPE_DEVICES
        for d in deaths), "deaths: %s" % deaths)
    for name, pid in kids.items():
        if name[len("cellvm-dev-"):] not in ESCAPE_DEVICES:
            check(kids1.get(name) == pid, "%s was replaced" % name)
    check(kids1.get("cellvm-vcpu") and kids1.get("cellvm-mmu"), "%s" % kids1)
    # No device's state changed but the UART's, which the guest is using:
    # the devices under attack came back on theirs untouched.
    if pages0 is None or pages1 is None:
        print("state pages not compared: /proc does not let us read them")
        return
    check(set(pages0) == set(pages1) == {n[len("cellvm-dev-"):]
                                         for n in kids},
          "state pages found: %s" % sorted(pages0))
    changed = sorted(n for n in pages0 if pages0[n] != pages1[n])
    check(changed in ([], ["uart"]), "state pages changed: %s" % changed)

# --- the jail (issue 5) ---

NAMESPACES = ("user", "mnt", "pid", "ipc", "uts", "net")
JAIL_ID_BASE = 0x10000000  # broker/jail.c: where allocated VM ids start
PTRACE_ATTACH, PTRACE_DETACH = 16, 17


def host_ids(pid):
    """(uid, gid) of pid, after checking real, effective, saved and
    filesystem ids are one."""
    st = proc_status(pid)
    uids, gids = set(st["Uid"].split()), set(st["Gid"].split())
    check(len(uids) == 1 and len(gids) == 1, "pid %d has ids %s %s" %
          (pid, st["Uid"], st["Gid"]))
    return int(uids.pop()), int(gids.pop())


def hard_limits(pid):
    """{'Max open files': '64', ...}: the hard limits of pid."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        for line in list(f)[1:]:
            m = re.match(r"(.+?)\s{2,}(\S+)\s+(\S+)", line)
            out[m.group(1)] = m.group(3)
    return out


def check_jailed(broker, kids):
    """Every child of broker runs as the broker's ids, in namespaces of its
    own, with an empty read-only root and bounded resources. Returns the
    VM's (uid, gid)."""
    vm = host_ids(broker)
    mine = {ns: os.readlink("/proc/%d/ns/%s" % (broker, ns))
            for ns in NAMESPACES}
    seen = {ns: set() for ns in NAMESPACES}
    for name, pid in kids.items():
        check(host_ids(pid) == vm, "%s runs as %s, the broker as %s" %
              (name, host_ids(pid), vm))
        for ns in NAMESPACES:
            link = os.readlink("/proc/%d/ns/%s" % (pid, ns))
            check(link != mine[ns] and link not in seen[ns],
                  "%s shares the %s namespace %s" % (name, ns, link))
            seen[ns].add(link)
        check(proc_status(pid)["NSpid"].split()[1:] == ["1"],
              "%s is not alone in its pid namespace" % name)
        check(os.listdir("/proc/%d/root" % pid) == [],
              "%s sees %s in its root" % (name,
                                         os.listdir("/proc/%d/root" % pid)))
        with open("/proc/%d/mountinfo" % pid) as f:
            mounts = f.read().splitlines()
        check(len(mounts) == 1 and mounts[0].split()[4] == "/" and
              mounts[0].split()[5].startswith("ro,"),
              "%s mounts %s" % (name, mounts))
        lim = hard_limits(pid)
        check(lim["Max core file size"] == "0", "%s may dump core" % name)
        check(lim["Max open files"].isdigit() and
              int(lim["Max open files"]) <= 64 + 255,
              "%s open files %s" % (name, lim["Max open files"]))
        check(lim["Max address space"].isdigit(),
              "%s address space unbounded" % name)
        check(lim["Max processes"] == "1" or name == "cellvm-vcpu",
              "%s may make %s tasks" % (name, lim["Max processes"]))
    return vm


def test_children_are_jailed_with_an_empty_root_as_the_vm_uid():
    need_kvm()
    need_root("the default VM uid is allocated for a root broker")
    p = start(["run", "--kernel", image("long-printer"),
               "--cmdline", "lines=2000", "--cpus", "2"])
    try:
        running(p)
        kids = children(p.pid)
        uid, gid = check_jailed(p.pid, kids)
        check(uid >= JAIL_ID_BASE and gid == uid,
              "a root broker runs the VM as %d:%d" % (uid, gid))
        st = proc_status(p.pid)
        check(st["CapEff"] == "0000000000000000" and st["NoNewPrivs"] == "1",
              "the broker kept privileges: %s %s" % (st["CapEff"],
                                                     st["NoNewPrivs"]))
        # The runner's tasks: main, two vCPUs, the kicker, KVM's worker.
        lim = hard_limits(kids["cellvm-vcpu"])
        check(lim["Max processes"] == "6", "runner %s" % lim)
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
    finally:
        if p.poll() is None:
            p.kill()
    bad_input(["run", "--kernel", image("hello"), "--uid", "0"],
              r"^cellvm: invalid --uid '0'")


def reach(ids, pids, paths):
    """What a process running as ids (uid, gid) on the host can do to pids
    and open of paths: a list of what worked, empty when nothing did."""
    paths = list(paths)
    rd, wr = os.pipe()
    helper = os.fork()
    if helper == 0:
        got = []
        try:
            os.close(rd)
            os.setgroups([])
            os.setresgid(ids[1], ids[1], ids[1])
            os.setresuid(ids[0], ids[0], ids[0])
            libc = ctypes.CDLL(None, use_errno=True)
            for pid in pids:
                try:
                    os.kill(pid, 0)
                    got.append("signal %d" % pid)
                except PermissionError:
                    pass
                if libc.ptrace(PTRACE_ATTACH, pid, 0, 0) == 0:
                    got.append("ptrace %d" % pid)
                    libc.ptrace(PTRACE_DETACH, pid, 0, 0)
                for what in ("mem", "maps", "environ", "auxv", "syscall"):
                    paths.append("/proc/%d/%s" % (pid, what))
                for what in ("fd", "map_files", "root", "cwd"):
                    try:
                        os.listdir("/proc/%d/%s" % (pid, what))
                        got.append("list /proc/%d/%s" % (pid, what))
                    except PermissionError:
                        pass
            for path in paths:
                try:
                    with open(path, "rb") as f:
                        f.read(1)
                    got.append("read " + path)
                except PermissionError:
                    pass
        except Exception as e:  # anything else is a failure too
            got.append("helper: %r" % e)
        os.write(wr, "\n".join(got).encode())
        os._exit(0)
    os.close(wr)
    with os.fdopen(rd) as f:
        out = f.read()
    os.waitpid(helper, 0)
    return [line for line in out.split("\n") if line]


def guest_ram_paths(pid):
    """Where pid's guest RAM could be opened: its descriptor and its
    mapping, as root sees them."""
    paths = ["/proc/%d/fd/%s" % (pid, fd) for fd, t in fd_targets(pid).items()
             if "cellvm-ram" in t]
    with open("/proc/%d/maps" % pid) as f:
        paths += ["/proc/%d/map_files/%s" % (pid, line.split()[0])
                  for line in f if "cellvm-ram" in line]
    return paths


def test_two_vms_cannot_signal_trace_or_read_each_other():
    """VM A (an allocated uid), VM B (--uid/--gid) and VM C (allocated)
    at once: A and C get different ids, and what runs as A's uid can
    neither signal, ptrace nor read /proc or the guest RAM of B's
    processes, nor B's of A's."""
    need_kvm()
    need_root("runs VMs as other uids and a helper as each")
    base = ["run", "--kernel", image("long-printer"), "--cmdline",
            "lines=2500"]
    b_ids = (3000000 + os.getpid() % 100000, 3200000 + os.getpid() % 100000)
    vms = [start(base), start(base + ["--uid", str(b_ids[0]),
                                      "--gid", str(b_ids[1])]),
           start(base)]
    try:
        for p in vms:
            running(p)
        kids = [children(p.pid) for p in vms]
        ids = [check_jailed(p.pid, k) for p, k in zip(vms, kids)]
        check(ids[1] == b_ids, "VM B runs as %s, not %s" % (ids[1], b_ids))
        check(len(set(ids)) == 3, "the VMs' ids %s are not distinct" % ids)
        for me, other in ((0, 1), (1, 0)):
            pids = [vms[other].pid] + list(kids[other].values())
            ram = guest_ram_paths(kids[other]["cellvm-vcpu"])
            check(ram, "found no guest RAM in the runner")
            got = reach(ids[me], pids, ram)
            check(not got, "VM %s's uid can reach VM %s: %s" %
                  ("AB"[me], "AB"[other], got))
        # The same helper as the VM's own uid does reach its broker: the
        # refusals above are the uids', not the helper's.
        check(reach(ids[0], [vms[0].pid], []) != [],
              "the helper reaches nothing even in its own VM")
        for p in vms:
            out, err = p.communicate(timeout=120)
            check(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
    finally:
        for p in vms:
            if p.poll() is None:
                p.kill()


def test_unprivileged_broker_jails_children_as_its_own_uid():
    """A broker run by an ordinary user (here with a /dev/kvm it may
    open, in a private mount namespace) needs no privilege for the jail."""
    need_kvm()
    need_root("makes a /dev/kvm an ordinary uid may open")
    uid = 3400000 + os.getpid() % 100000
    script = ("mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && "
              "mknod -m 666 /dev/kvm c 10 232 && exec setpriv --reuid %d "
              "--regid %d --clear-groups \"$@\"" % (uid, uid))
    cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
           script, "sh", CELLVM]
    p = subprocess.Popen(cmd + ["run", "--kernel", image("long-printer"),
                                "--cmdline", "lines=2000"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        running(p)
        check(check_jailed(p.pid, children(p.pid)) == (uid, uid),
              "the VM does not run as the broker's uid %d" % uid)
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
    finally:
        if p.poll() is None:
            p.kill()
    p = subprocess.run(cmd + ["run", "--kernel", image("hello"),
                              "--uid", str(uid + 1)],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 1 and re.search(
        r"^" + BROKER + r"--uid and --gid other than your own need root$",
        p.stderr, re.M), "exit %d: %r" % (p.returncode, p.stderr))


# --- the control API: cellvm ctl, cellvm list, VM names --------------------

def runtime_base():
    if os.geteuid() == 0:
        return "/run/cellvm"
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if xdg.startswith("/"):
        return os.path.join(xdg, "cellvm")
    return "/tmp/cellvm-%d" % os.geteuid()


def vm_name(tag):
    return "test-%d-%s" % (os.getpid(), tag)


def ctl(*args, timeout=60):
    """cellvm ctl ARGS: (exit status, stdout, stderr)."""
    p = subprocess.run([CELLVM, "ctl"] + list(args), capture_output=True,
                       text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def ctl_json(*args):
    rc, out, err = ctl(*(args + ("--json",)))
    check(rc == 0, "ctl %s: exit %d: %s" % (" ".join(args), rc, err))
    try:
        return json.loads(out)
    except ValueError as e:
        raise Failure("ctl %s --json printed no JSON (%s): %r"
                      % (" ".join(args), e, out))


class Printer:
    """The long printer under cellvm with a name; its output is read as it
    comes (a full pipe would stall the broker's event loop)."""

    def __init__(self, name, lines):
        need_kvm()
        self.name = name
        self.lines = lines
        self.p = start(["run", "--kernel", image("long-printer"),
                        "--cmdline", "lines=%d" % lines, "--name", name])
        self.out = running(self.p)
        self.err = ""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.p.stdout.fileno()
        while True:
            data = os.read(fd, 65536)
            if not data:
                return
            with self.lock:
                self.out += data.decode()

    def lines_so_far(self):
        with self.lock:
            return self.out.count("\n")

    def finish(self, timeout=120):
        self.err = self.p.stderr.read()
        self.p.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return self.p.returncode

    def check_complete(self):
        rc = self.finish()
        check(rc == 0, "cellvm exited %d: %s" % (rc, self.err))
        check_long_output(self.out, self.lines)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def wait_gone(path, timeout=3.0):
    end = time.time() + timeout
    while os.path.exists(path):
        check(time.time() < end, "%s is still there" % path)
        time.sleep(0.02)


def test_ctl_stats_json_parses_and_exit_counters_grow():
    vm = Printer(vm_name("stats"), 3000)
    try:
        a = ctl_json(vm.name, "stats")
        time.sleep(0.5)
        b = ctl_json(vm.name, "stats")
        check(a["name"] == vm.name and len(a["vcpus"]) == 1,
              "stats: %s" % a)
        va, vb = a["vcpus"][0], b["vcpus"][0]
        for k in ("exits", "io_exits", "mmio_exits", "halt_exits",
                  "irq_window_exits", "irq_injections", "signal_exits",
                  "unclaimed_io"):
            check(isinstance(vb[k], int) and vb[k] >= va[k],
                  "%s went from %s to %s" % (k, va[k], vb[k]))
        check(vb["exits"] > va["exits"] and vb["io_exits"] > va["io_exits"],
              "exit counters did not grow: %s -> %s" % (va, vb))
        # Counted by KVM alone: absent, not 0.
        check("insn_emulation" in vb and vb["insn_emulation"] is None,
              "insn_emulation: %r" % vb.get("insn_emulation"))
        uart = [d for d in b["devices"] if d["name"] == "uart"]
        check(len(uart) == 1, "no uart in %s" % b["devices"])
        u = uart[0]
        check(u["requests"] > 0 and u["requests"] == u["reads"] + u["writes"],
              "uart counters %s" % u)
        check(0 < u["latency_p50_ns"] <= u["latency_p99_ns"],
              "uart latencies %s" % u)
        pit = [d for d in b["devices"] if d["name"] == "pit"][0]
        check(pit["latency_p50_ns"] is None, "an idle device has a p50")
        rc, out, err = ctl(vm.name, "stats")
        check(rc == 0 and re.search(r"^exits +\d+$", out, re.M)
              and re.search(r"^insn_emulation +-$", out, re.M)
              and re.search(r"^uart +\d+ +\d+ +\d+ +0 ", out, re.M),
              "stats table: %s%s" % (out, err))
        vm.check_complete()
    finally:
        vm.kill()


def test_pause_stops_guest_progress_and_resume_restarts_it():
    vm = Printer(vm_name("pause"), 3000)
    try:
        time.sleep(0.3)
        rc, out, err = ctl(vm.name, "pause")
        check(rc == 0 and out == "VM %s: paused\n" % vm.name,
              "pause: exit %d: %s%s" % (rc, out, err))
        check(ctl_json(vm.name, "status")["state"] == "paused",
              "status does not say paused")
        # What was posted before the pause may still be on its way out.
        time.sleep(0.3)
        lines = vm.lines_so_far()
        exits = ctl_json(vm.name, "stats")["vcpus"][0]["exits"]
        time.sleep(1.0)
        check(vm.lines_so_far() == lines,
              "output grew while paused: %d -> %d lines"
              % (lines, vm.lines_so_far()))
        check(ctl_json(vm.name, "stats")["vcpus"][0]["exits"] == exits,
              "the vCPU exited while paused")
        check(lines < 3000, "the guest finished before the pause")
        check(ctl_json(vm.name, "pause")["state"] == "paused",
              "a second pause is not answered with paused")
        rc, out, err = ctl(vm.name, "resume")
        check(rc == 0 and out == "VM %s: running\n" % vm.name,
              "resume: exit %d: %s%s" % (rc, out, err))
        end = time.time() + 10
        while vm.lines_so_far() <= lines:
            check(time.time() < end, "no output after resume")
            time.sleep(0.05)
        vm.check_complete()
    finally:
        vm.kill()


def test_restart_device_replaces_the_process_and_loses_no_output():
    vm = Printer(vm_name("restart"), 3000)
    try:
        seen = set()
        for i in range(2):
            old = children(vm.p.pid)["cellvm-dev-uart"]
            seen.add(old)
            r = ctl_json(vm.name, "restart", "uart")
            check(r["process"] == "cellvm-dev-uart" and r["old_pid"] == old
                  and r["new_pid"] not in seen,
                  "restart %d: %s (old pid %d)" % (i + 1, r, old))
            # Answered once the new process serves: it is there now.
            check(children(vm.p.pid)["cellvm-dev-uart"] == r["new_pid"],
                  "the broker's uart is not pid %d" % r["new_pid"])
            check(not os.path.exists("/proc/%d/status" % old) or
                  proc_status(old)["State"].startswith("Z"),
                  "pid %d still runs" % old)
            time.sleep(0.2)
        st = ctl_json(vm.name, "status")
        uart = [p for p in st["processes"] if p["name"] == "cellvm-dev-uart"]
        check(uart[0]["restarts"] == 2 and
              uart[0]["last_exit"] == "was killed by signal 9 (Killed)",
              "uart status %s" % uart)
        # The runner holds the VM: refused, and the VM goes on.
        rc, out, err = ctl(vm.name, "restart", "vcpu")
        check(rc == 1 and err.count("\n") == 1 and
              "cannot be restarted" in err, "restart vcpu: %d %r" % (rc, err))
        rc, out, err = ctl(vm.name, "kill", "nosuch")
        check(rc == 1 and err == "cellvm: %s: no process 'nosuch' in this "
              "VM\n" % vm.name, "kill nosuch: %d %r" % (rc, err))
        vm.check_complete()
        check(vm.err.count("restarted as pid") == 2, "stderr %s" % vm.err)
    finally:
        vm.kill()


def test_list_shows_the_running_vm():
    vm = Printer(vm_name("list"), 2000)
    try:
        p = subprocess.run([CELLVM, "list", "--json"], capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 0, "list: %d %s" % (p.returncode, p.stderr))
        vms = {v["name"]: v for v in json.loads(p.stdout)}
        check(vm.name in vms, "%s not in %s" % (vm.name, sorted(vms)))
        check(vms[vm.name]["pid"] == vm.p.pid and
              vms[vm.name]["state"] == "running", "row %s" % vms[vm.name])
        p = subprocess.run([CELLVM, "list"], capture_output=True, text=True,
                           timeout=30)
        check(re.search(r"^%s +%d +\S+ +running$" % (re.escape(vm.name),
                                                      vm.p.pid),
                        p.stdout, re.M), "list: %r" % p.stdout)
        procs = ctl_json(vm.name, "list")["processes"]
        kids = children(vm.p.pid)
        check({q["name"]: q["pid"] for q in procs} == kids,
              "ctl list %s, children %s" % (procs, kids))
        vm.check_complete()
        p = subprocess.run([CELLVM, "list", "--json"], capture_output=True,
                           text=True, timeout=30)
        check(vm.name not in {v["name"] for v in json.loads(p.stdout)},
              "a stopped VM is listed")
    finally:
        vm.kill()


def test_vm_name_clash_is_one_clear_error():
    vm = Printer(vm_name("clash"), 2000)
    try:
        # Not run(): the first VM and its reaper are our children.
        for name, pattern in (
                (vm.name, r"a VM named '%s' is already running \(.*/%s\)"
                 % (re.escape(vm.name), re.escape(vm.name))),
                (".hidden", r"invalid --name '\.hidden'"),
                ("a/b", r"invalid --name 'a/b'"),
                ("x" * 65, r"invalid --name 'x+': 1 to 64 ")):
            p = subprocess.run([CELLVM, "run", "--kernel", image("hello"),
                                "--name", name], capture_output=True,
                               text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            check(p.returncode == 1 and p.stdout == "" and
                  re.fullmatch(r"cellvm: %s.*\n" % pattern, p.stderr),
                  "--name %s: exit %d, %r" % (name, p.returncode, p.stderr))
        vm.check_complete()
    finally:
        vm.kill()


def test_runtime_dir_is_removed_when_the_vm_exits():
    need_kvm()
    base = runtime_base()
    # A normal exit.
    name = vm_name("exit")
    rc, out, err = run(["run", "--kernel", image("hello"), "--name", name])
    check(rc == 0, "exit %d: %s" % (rc, err))
    wait_gone(os.path.join(base, name))
    # cellvm ctl stop: cellvm exits 0, the ctl once it is gone.
    vm = Printer(vm_name("stop"), 100000)
    try:
        path = os.path.join(base, vm.name)
        st = os.stat(path)
        check(st.st_mode & 0o777 == 0o700, "mode %o" % st.st_mode)
        sock = os.stat(os.path.join(path, "ctl.sock"))
        check(sock.st_mode & 0o777 == 0o600, "socket mode %o" % sock.st_mode)
        rc, out, err = ctl(vm.name, "stop")
        check(rc == 0 and out == "VM %s: stopping\n" % vm.name,
              "stop: exit %d: %s%s" % (rc, out, err))
        # The stop returns once the VM is gone, its directory too.
        check(not os.path.exists(path), "%s outlives the stop" % path)
        check(vm.finish(timeout=10) == 0,
              "exit %d after stop" % vm.p.returncode)
        wait_gone(path)
    finally:
        vm.kill()
    # Signals: SIGTERM through the event loop; SIGKILL leaves it to the
    # reaper a root broker has.
    sigs = [signal.SIGTERM] + ([signal.SIGKILL] if os.geteuid() == 0 else [])
    for sig in sigs:
        vm = Printer(vm_name("sig%d" % sig), 100000)
        try:
            os.kill(vm.p.pid, sig)
            check(vm.finish() == (-9 if sig == signal.SIGKILL else 128 + sig),
                  "exit %d after signal %d" % (vm.p.returncode, sig))
            wait_gone(os.path.join(base, vm.name))
        finally:
            vm.kill()
    time.sleep(0.1)
    check(not leftover_children(), "processes left behind")


def test_ctl_of_a_vm_not_running_is_one_clear_error():
    name = vm_name("none")
    rc, out, err = ctl(name, "status")
    check(rc == 1 and out == "" and
          err == "cellvm: no VM named '%s' is running\n" % name,
          "exit %d: %r %r" % (rc, out, err))
    for args in ([name], [name, "frobnicate"], [name, "restart"],
                 [name, "status", "extra"], ["a/b", "status"],
                 [name, "status", "--bogus"]):
        rc, out, err = ctl(*args)
        check(rc == 2, "ctl %s: exit %d (%r)" % (args, rc, err))
    rc, out, err = ctl("--help")
    check(rc == 0 and "restart DEVICE" in out, "ctl --help: %d" % rc)


def test_malformed_control_message_gets_an_error_and_disturbs_nothing():
    vm = Printer(vm_name("garbage"), 2000)
    try:
        path = os.path.join(runtime_base(), vm.name, "ctl.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(10)
        s.connect(path)
        for junk in (b"\xff\xff\xff\xff", b"", b"\x0a\x05abc", b"x" * 9000):
            s.send(junk)
            reply = s.recv(65536)
            # Reply.error (field 1, a message) holding its text.
            check(reply[:1] == b"\x0a" and (b"malformed" in reply or
                                             b"at most" in reply),
                  "reply to %r: %r" % (junk[:8], reply))
        # The same connection still serves a good request (status: 0a 00).
        s.send(b"\x0a\x00")
        check(vm.name.encode() in s.recv(65536), "no status after junk")
        s.close()
        vm.check_complete()
    finally:
        vm.kill()


def audit(args):
    """cellvm policy audit ARGS: (exit status, stdout, stderr)."""
    p = subprocess.run([CELLVM, "policy", "audit"] + args, capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_policy_audit_of_a_running_vm_finds_every_process_held():
    """Every process of a running VM: its live seccomp filter is the one
    its policy file makes, no capabilities, only its own descriptors."""
    need_kvm()
    need_root("reading live seccomp filters (CAP_SYS_ADMIN)")
    name = "audit-%d" % os.getpid()
    p = start(["run", "--name", name, "--kernel", image("long-printer"),
               "--cmdline", "lines=3000"])
    try:
        running(p)
        kids = children(p.pid)
        rc, out, err = audit(["--vm", name, "--json"])
        check(rc == 0, "audit exit %d: %s%s" % (rc, out, err))
        doc = json.loads(out)
        check(doc["ok"] and doc["live"], "not ok: %s" % out)
        procs = {q["name"]: q for q in doc["processes"]}
        check(set(procs) == set(kids), "audited %s, running %s"
              % (sorted(procs), sorted(kids)))
        for q in doc["processes"]:
            check(q["filter_is_policy"] is True, "%s filter" % q["name"])
            check(q["pid"] == kids[q["name"]], "%s pid" % q["name"])
            check(q["policy"] and not q["differences"],
                  "%s: %s" % (q["name"], q["differences"]))
            check(all(v == "0000000000000000"
                      for v in q["capabilities"].values()),
                  "%s caps %s" % (q["name"], q["capabilities"]))
        check(any(r.startswith("ioctl arg1 == KVM_RUN")
                  for r in procs["cellvm-vcpu"]["policy"]),
              "the runner's policy as written")
        rc, out, err = audit(["--vm", name])
        check(rc == 0 and "cellvm-dev-uart" in out and "policy" in out,
              "the table: %s%s" % (out, err))
        p.communicate(timeout=60)
        check(p.returncode == 0, "exit %d" % p.returncode)
    finally:
        if p.poll() is None:
            p.kill()
    rc, out, err = audit(["--vm", name])
    check(rc == 1 and err.strip() == "cellvm: no VM named '%s' is running"
          % name, "after the VM: %d %r" % (rc, err))


def audit_tampered(variant, want, args=()):
    """A VM whose cellvm-dev-testexit is the test-only VARIANT binary (or
    the usual one, with ARGS for cellvm run): the audit must exit 1,
    naming that process and the difference."""
    need_kvm()
    need_root("reading live seccomp filters (CAP_SYS_ADMIN)")
    src = os.path.dirname(os.path.abspath(CELLVM))
    if not os.path.exists(os.path.join(src, variant)):
        raise Skip("%s is built only with -Dtest_hooks=true" % variant)
    name = "tamper-%d" % os.getpid()
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # the jailed children run as the VM's uid
        for f in os.listdir(src):
            if f == "cellvm" or f.startswith("cellvm-"):
                path = os.path.join(src, f)
                if os.path.isfile(path) and os.access(path, os.X_OK):
                    shutil.copy(path, d)
        shutil.copy(os.path.join(src, variant),
                    os.path.join(d, "cellvm-dev-testexit"))
        p = subprocess.Popen([os.path.join(d, "cellvm"), "run", "--name",
                              name, "--kernel", image("long-printer"),
                              "--cmdline", "lines=3000"] + list(args),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            running(p)
            children(p.pid)
            time.sleep(0.5)  # for a trigger (sent at 100 ms) to land
            rc, out, err = audit(["--vm", name])
            check(rc == 1, "audit exit %d: %s%s" % (rc, out, err))
            lines = [l for l in err.splitlines() if "cellvm-dev-testexit" in l]
            check(lines and re.search(want, lines[0]),
                  "stderr does not name the difference: %r" % err)
            check(all("cellvm-dev-testexit" in l for l in err.splitlines()
                      if l.startswith("cellvm: cellvm-")),
                  "another process differs: %r" % err)
            p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()


def test_policy_audit_names_a_process_with_a_wider_filter():
    audit_tampered("cellvm-test-testexit-wide",
                   r"seccomp filter .* is not the one "
                   r"policy/cellvm-dev-testexit.policy makes")


def test_policy_audit_names_a_process_with_an_extra_descriptor():
    """The broker (test build) hands cellvm-dev-testexit one descriptor
    more, which it keeps."""
    audit_tampered("cellvm-dev-testexit", r"fd \d+ \(/\) is not one it",
                   ["--test-trigger", "testexit:keep-fd@100"])


def test_policy_audit_dry_run_lists_what_run_would_start():
    rc, out, err = audit(["--json", "--dry-run", "--disk", "/nonexistent",
                          "--net", "tap=t0"])
    check(rc == 0, "exit %d: %s" % (rc, err))
    names = [q["name"] for q in json.loads(out)["processes"]]
    check(names[:2] == ["cellvm-vcpu", "cellvm-mmu"] and
          names[-3:] == ["cellvm-dev-virtio-rng", "cellvm-dev-virtio-blk",
                         "cellvm-dev-virtio-net"], "processes %s" % names)
    rc, out, err = audit(["--dry-run", "--mem", "0"])
    check(rc != 0 and "invalid --mem" in err, "bad run option: %r" % err)


def learn(args, timeout=120):
    """cellvm policy learn ARGS: (exit status, stdout, stderr)."""
    return run(["policy", "learn"] + args, timeout=timeout)


def policy_lines(name):
    """The rules of policy/NAME.policy as written, comments off."""
    with open(os.path.join(SOURCE_ROOT, "policy", name + ".policy")) as f:
        lines = (re.sub(r"\s+", " ", l.split("#")[0]).strip() for l in f)
        return {l for l in lines if l}


def check_learned_within_policy(name, rules):
    """Each learned rule is in the reviewed file: that very line, or its
    system call allowed there whatever the arguments."""
    allowed = policy_lines(name)
    for r in rules:
        check(r in allowed or r.split()[0] in allowed,
              "%s used '%s', which policy/%s.policy lacks" % (name, r, name))


def test_policy_learn_prints_what_each_process_needed_within_its_policy():
    """Text: the guest's output, then per process a policy in policy/
    syntax with counts, and nothing its reviewed policy lacks."""
    need_kvm()
    rc, out, err = learn(["--kernel", image("hello")])
    check(rc == 0, "exit %d: %s" % (rc, err))
    check(out.startswith(expected("hello")), "guest output: %r" % out[:200])
    sections = re.split(r"^# === (\S+) ===\n", out[len(expected("hello")):],
                        flags=re.M)
    names = sections[1::2]
    check(names == ["cellvm-vcpu", "cellvm-mmu"] +
          ["cellvm-dev-" + d for d in DEVICES], "sections %s" % names)
    for name, body in zip(names, sections[2::2]):
        rules = [l.split("#")[0].strip() for l in body.splitlines()
                 if l and not l.startswith("#")]
        check(rules == sorted(rules) and len(rules) >= 6,
              "%s: learned %s" % (name, rules))
        check_learned_within_policy(name, rules)
        check(re.search(r"^#   used, not allowed .*: none$", body, re.M),
              "%s: the broker found calls its policy lacks:\n%s"
              % (name, body))
        check(re.search(r"^fstat +# seen \d+ times?$", body, re.M),
              "%s: no counted fstat:\n%s" % (name, body))
    check(out.rstrip().endswith("all 12 processes stayed within their "
                                "policies"), "summary: %r" % out[-200:])
    runner = sections[2]
    check(re.search(r"^ioctl arg1 == KVM_RUN +# seen \d+ times$", runner,
                    re.M) and
          re.search(r"^ioctl arg1 == KVM_CREATE_VM ", runner, re.M),
          "the runner's KVM ioctls:\n%s" % runner)


def test_policy_learn_json_has_each_call_a_long_run_made():
    """JSON, a guest that prints 300 lines: every process's learned rules
    are within its reviewed policy, the runner entered the guest and the
    UART wrote each byte; the exit status is the guest's."""
    need_kvm()
    lines = 300
    with tempfile.TemporaryDirectory() as d:
        console = os.path.join(d, "console")
        rc, out, err = learn(["--json", "--serial", "file:" + console,
                              "--kernel", image("long-printer"),
                              "--cmdline", "lines=%d" % lines])
        check(rc == 0, "exit %d: %s" % (rc, err))
        with open(console) as f:
            check_long_output(f.read(), lines)
    doc = json.loads(out)
    check(doc["exit_status"] == 0, "exit_status %s" % doc["exit_status"])
    procs = {p["name"]: p for p in doc["processes"]}
    check(set(procs) == {"cellvm-vcpu", "cellvm-mmu"} |
          {"cellvm-dev-" + d for d in DEVICES}, "processes %s" % list(procs))
    for name, p in procs.items():
        check(p["instances"] == 1 and p["has_policy"], "%s: %s" % (name, p))
        check(not p["missing"], "%s lacks %s" % (name, p["missing"]))
        check_learned_within_policy(name, [r["rule"] for r in p["rules"]])
        check(all(r["allowed"] for r in p["rules"]), "%s: %s" % (name, p))
    seen = {(n, r["rule"]): r["seen"] for n, p in procs.items()
            for r in p["rules"]}
    check(seen.get(("cellvm-vcpu", "ioctl arg1 == KVM_RUN"), 0) > lines,
          "the runner's KVM_RUN: %s" % procs["cellvm-vcpu"]["rules"])
    uart = sum(v for (n, r), v in seen.items()
               if n == "cellvm-dev-uart" and r.startswith("write arg0 == ")
               and v)
    check(uart >= lines * len(LINE % 0),
          "the UART's writes: %s" % procs["cellvm-dev-uart"]["rules"])
    check(seen[("cellvm-vcpu", "sendmsg")] is None, "sendmsg was counted")
    # Another guest's status comes through as cellvm's.
    rc, out, err = learn(["--json", "--serial", "none", "--kernel",
                          image("exit-status"), "--cmdline", "status=42"])
    check(rc == 42 and json.loads(out)["exit_status"] == 42,
          "exit %d: %s" % (rc, err))


def test_policy_learn_names_a_call_the_policy_lacks():
    """The UART makes a call outside its policy (test trigger): learning
    lets it through, the UART lives on, and the report names the call as
    one its filter would have killed it for."""
    need_kvm()
    rc, out, err = run(["run", "--help"])
    if "--test-trigger" not in out:
        raise Skip("this build has no test hooks (meson -Dtest_hooks=true)")
    rc, out, err = learn(["--json", "--serial", "none", "--kernel",
                          image("long-printer"), "--cmdline", "lines=100",
                          "--test-trigger", "uart:bad-syscall@100"])
    check(rc == 0 and "restarted" not in err, "exit %d: %s" % (rc, err))
    procs = {p["name"]: p for p in json.loads(out)["processes"]}
    uart = procs.pop("cellvm-dev-uart")
    check(uart["missing"] == ["socket"] and uart["instances"] == 1,
          "the UART: %s" % uart)
    check(not any(p["missing"] for p in procs.values()),
          "others: %s" % [p for p in procs.values() if p["missing"]])


def delegated_cgroup():
    """The broker's cgroup v2 directory if it offers cpu and memory, else
    None with the reason."""
    mnt = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if " - cgroup2 " in line:
                mnt = line.split()[4]
    if not mnt:
        return None, "no cgroup2 hierarchy on this host"
    with open("/proc/self/cgroup") as f:
        path = [l[3:].strip() for l in f if l.startswith("0::")]
    d = mnt + (path[0] if path and path[0] != "/" else "")
    try:
        with open(os.path.join(d, "cgroup.controllers")) as f:
            ctls = f.read().split()
    except OSError as e:
        return None, "cannot read %s: %s" % (d, e)
    if "cpu" not in ctls or "memory" not in ctls:
        return None, "%s offers %s, not cpu and memory" % (d, ctls)
    return d, None


def test_vm_limits_without_a_delegated_cgroup_are_one_clear_error():
    need_kvm()
    d, why = delegated_cgroup()
    if d:
        raise Skip("this host has a delegated cgroup (%s)" % d)
    bad_input(["run", "--kernel", image("hello"), "--mem-limit", "1G"],
              r"the memory controller is not available|no cgroup2")
    bad_input(["run", "--kernel", image("hello"), "--cpu-quota", "50"],
              r"the cpu controller is not available|no cgroup2")
    bad_input(["run", "--kernel", image("hello"), "--mem-limit", "100M"],
              r"^cellvm: --mem-limit 100 MiB is too small for --mem 256 MiB")


def test_vm_limits_hold_every_process_of_the_vm():
    need_kvm()
    d, why = delegated_cgroup()
    if not d:
        raise Skip("no delegated cgroup v2 with cpu and memory: " + why)
    name = "cg-%d" % os.getpid()
    p = start(["run", "--name", name, "--kernel", image("long-printer"),
               "--cmdline", "lines=3000", "--mem-limit", "512M",
               "--cpu-quota", "50"])
    try:
        running(p)
        kids = children(p.pid)
        cg = os.path.join(d, "cellvm-" + name)
        with open(os.path.join(cg, "memory.max")) as f:
            check(f.read().strip() == str(512 << 20), "memory.max")
        with open(os.path.join(cg, "cpu.max")) as f:
            check(f.read().split() == ["50000", "100000"], "cpu.max")
        for pid in [p.pid] + list(kids.values()):
            with open("/proc/%d/cgroup" % pid) as f:
                check(("/cellvm-" + name) in f.read(),
                      "pid %d is not in the VM's cgroup" % pid)
        p.communicate(timeout=60)
        check(p.returncode == 0, "exit %d" % p.returncode)
    finally:
        if p.poll() is None:
            p.kill()


def main():
    if len(sys.argv) != 2 or "test_" + sys.argv[1] not in globals():
        names = sorted(n[5:] for n in globals() if n.startswith("test_"))
        print("usage: cellvm_test.py NAME\n  " + "\n  ".join(names))
        return 2
    become_subreaper()
    try:
        globals()["test_" + sys.argv[1]]()
    except Skip as e:
        print("SKIP: %s" % e)
        return SKIP
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

