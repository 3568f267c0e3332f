#!/usr/bin/env python3
"""Run one guest kit image under QEMU and check its output and exit status.

A cross-check of the guests themselves, independent of cellvm: the same
image, the same two devices (16550A at 0x3f8, test-exit port at 0xf4).
QEMU's isa-debug-exit makes QEMU exit with (status << 1) | 1, so the
status a guest asks for must be below 128 to be checked here.

  run-qemu.py --image build/tests/guests/hello \\
      --expected tests/guests/hello/expected.txt --status 0

With --input FILE, QEMU's stdin is that file, and the stdio chardev feeds
its bytes to the UART's receiver (the echo guest); otherwise stdin is
/dev/null.

The interrupt-fabric guests need more of the machine:
  --machine M      -M value (default "microvm"), e.g.
                   "microvm,pic=on,pit=on,rtc=on,acpi=on" or "q35"
  --bios FILE      firmware (q35 with qboot.rom: no SeaBIOS banner on the
                   serial port, and a fraction of SeaBIOS's start-up time)
  --smp N          vCPUs
  --irqchip MODE   KVM's kernel-irqchip: on (PIC, IOAPIC, LAPIC, PIT in the
                   kernel), split (LAPIC only), off (all in QEMU, as in
                   cellvm); ignored by TCG
  --exit-code N    QEMU's own exit status to expect instead of the
                   isa-debug-exit one (0: the guest powered off via ACPI)

Devices for the virtio guests (each option may be repeated):
  --device SPEC    -device SPEC, e.g. "virtio-rng-pci"
  --netdev SPEC    -netdev SPEC, e.g. "user,id=n0"
  --disk ID:SIZE   a zero-filled raw image of SIZE bytes (K and M
                   suffixes) in a temporary directory, removed after the
                   run, as "-drive if=none,id=ID": for "-device
                   virtio-blk-pci,drive=ID"

Output checks besides the exact comparison:
  --sort           compare the lines sorted (several CPUs print)
  --expected-re F  F holds one Python regular expression per output line,
                   each matched against the whole line (measured values)
  --rtc-time       a line "rtc-time: YYYY-MM-DDTHH:MM:SS" must be within
                   2 s of the host's UTC clock while QEMU ran; QEMU's RTC
                   starts at the host's UTC time (-rtc base=utc)

Accelerators are tried in order (-accel kvm -accel tcg): KVM where
/dev/kvm is usable, TCG elsewhere. The default CPU model is kept on
purpose: -cpu host and -cpu max abort in QEMU 7.2 on the software KVM of
the development machines (it refuses MSR 0x10a, IA32_ARCH_CAPABILITIES).
"""
import argparse
import datetime
import re
import os
import subprocess
import sys
import tempfile
import time


def check_rtc_time(out, start, end):
    """The rtc-time line against the host UTC clock; '' if it is fine."""
    m = re.search(rb'^rtc-time: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)$', out,
                  re.M)
    if not m:
        return 'no "rtc-time: YYYY-MM-DDTHH:MM:SS" line'
    got = datetime.datetime.strptime(m.group(1).decode(),
                                     '%Y-%m-%dT%H:%M:%S')
    got = got.replace(tzinfo=datetime.timezone.utc).timestamp()
    # The RTC shows whole seconds: [start - 1, end] plus 1 s of slack.
    if not start - 2 <= got <= end + 1:
        return ('rtc-time %s is %.1f s from the host clock during the run'
                % (m.group(1).decode(),
                   got - start if got < start else got - end))
    return ''


def check_regex(out, path):
    """Each output line against its regular expression; '' if all match."""
    with open(path) as f:
        pats = f.read().splitlines()
    lines = out.decode(errors='replace').splitlines()
    if len(lines) != len(pats):
        return '%d lines of output, %d expected' % (len(lines), len(pats))
    for n, (line, pat) in enumerate(zip(lines, pats), 1):
        if not re.fullmatch(pat, line):
            return 'line %d %r does not match %r' % (n, line, pat)
    return ''


def disk_args(specs, tmpdir):
    """-drive options for the --disk ID:SIZE images, created in tmpdir."""
    args = []
    for spec in specs:
        disk_id, _, size = spec.partition(':')
        mult = {'K': 1 << 10, 'M': 1 << 20}.get(size[-1:].upper(), 1)
        nbytes = int(size.rstrip('KkMm')) * mult
        path = os.path.join(tmpdir, disk_id + '.img')
        with open(path, 'wb') as f:
            f.truncate(nbytes)
        args += ['-drive', 'file=%s,if=none,id=%s,format=raw'
                 % (path, disk_id)]
    return args


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--qemu', default='qemu-system-x86_64')
    ap.add_argument('--image', required=True)
    ap.add_argument('--append', default=None, help='kernel command line')
    ap.add_argument('--input', help='file fed to the serial port (stdin)')
    ap.add_argument('--expected', help='file with the exact expected output')
    ap.add_argument('--expect-text', help='exact expected output, inline')
    ap.add_argument('--status', type=int, default=0,
                    help='exit status the guest should ask for (< 128)')
    ap.add_argument('--accel', default='kvm,tcg',
                    help='accelerators to try, in order')
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--machine', default='microvm', help='-M value')
    ap.add_argument('--bios', help='firmware image (-bios)')
    ap.add_argument('--smp', type=int, help='number of vCPUs')
    ap.add_argument('--irqchip', choices=['on', 'split', 'off'],
                    help="KVM's kernel-irqchip")
    ap.add_argument('--device', action='append', default=[],
                    help='-device SPEC (repeatable)')
    ap.add_argument('--netdev', action='append', default=[],
                    help='-netdev SPEC (repeatable)')
    ap.add_argument('--disk', action='append', default=[],
                    help='ID:SIZE, a temporary raw image (repeatable)')
    ap.add_argument('--exit-code', type=int,
                    help="QEMU's exit status to expect, overrides --status")
    ap.add_argument('--sort', action='store_true',
                    help='compare sorted lines')
    ap.add_argument('--expected-re',
                    help='file with one regular expression per line')
    ap.add_argument('--rtc-time', action='store_true',
                    help='check the rtc-time line against the host clock')
    args = ap.parse_args()

    cmd = [args.qemu]
    for accel in args.accel.split(','):
        if accel == 'kvm' and args.irqchip:
            accel += ',kernel-irqchip=' + args.irqchip
        cmd += ['-accel', accel]
    cmd += ['-M', args.machine, '-nodefaults', '-no-user-config',
            '-nographic', '-no-reboot', '-serial', 'stdio',
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
            '-kernel', args.image]
    if args.bios:
        cmd += ['-bios', args.bios]
    if args.smp:
        cmd += ['-smp', str(args.smp)]
    if args.append is not None:
        cmd += ['-append', args.append]
    for netdev in args.netdev:
        cmd += ['-netdev', netdev]
    tmpdir = tempfile.TemporaryDirectory(prefix='run-qemu-')
    cmd += disk_args(args.disk, tmpdir.name)
    for device in args.device:
        cmd += ['-device', device]

    stdin = subprocess.DEVNULL
    if args.input:
        stdin = open(args.input, 'rb')
    wall_start = time.time()
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdin=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print('timed out after %.0f s: %s' % (args.timeout, ' '.join(cmd)))
        return 1
    finally:
        if args.input:
            stdin.close()
        tmpdir.cleanup()
    elapsed = time.monotonic() - start
    wall_end = time.time()

    want = None
    if args.expected:
        with open(args.expected, 'rb') as f:
            want = f.read()
    elif args.expect_text is not None:
        want = args.expect_text.encode().decode('unicode_escape').encode()
    want_rc = (args.status << 1) | 1
    if args.exit_code is not None:
        want_rc = args.exit_code
    got = proc.stdout
    if args.sort and want is not None:
        want = b''.join(sorted(want.splitlines(keepends=True)))
        got = b''.join(sorted(got.splitlines(keepends=True)))

    problems = []
    if proc.returncode != want_rc:
        problems.append('exit status %d, want %d (guest status %d)'
                        % (proc.returncode, want_rc, args.status))
    if want is not None and got != want:
        problems.append('output differs from the expected %d bytes; '
                        'got %d bytes' % (len(want), len(proc.stdout)))
    if args.expected_re:
        problems.append(check_regex(proc.stdout, args.expected_re))
    if args.rtc_time:
        problems.append(check_rtc_time(proc.stdout, wall_start, wall_end))
    problems = [p for p in problems if p]
    for problem in problems:
        print(problem)
    ok = not problems
    if not ok:
        print('output (last 2000 bytes):')
        sys.stdout.write(proc.stdout.decode(errors='replace')[-2000:])
    if proc.stderr:
        sys.stdout.write(proc.stderr.decode(errors='replace'))
    print('%s%s: %.3f s, %d bytes of output, exit status %d'
          % (' '.join(cmd), ' < ' + args.input if args.input else '',
             elapsed, len(proc.stdout), proc.returncode))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
