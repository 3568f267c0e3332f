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

Accelerators are tried in order (-accel kvm -accel tcg): KVM where
/dev/kvm is usable, TCG elsewhere. The default CPU model is kept on
purpose: -cpu host and -cpu max abort in QEMU 7.2 on the software KVM of
the development machines (it refuses MSR 0x10a, IA32_ARCH_CAPABILITIES).
"""
import argparse
import subprocess
import sys
import time


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
    args = ap.parse_args()

    cmd = [args.qemu]
    for accel in args.accel.split(','):
        cmd += ['-accel', accel]
    cmd += ['-M', 'microvm', '-nodefaults', '-no-user-config', '-nographic',
            '-no-reboot', '-serial', 'stdio',
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
            '-kernel', args.image]
    if args.append is not None:
        cmd += ['-append', args.append]

    stdin = subprocess.DEVNULL
    if args.input:
        stdin = open(args.input, 'rb')
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
    elapsed = time.monotonic() - start

    want = None
    if args.expected:
        with open(args.expected, 'rb') as f:
            want = f.read()
    elif args.expect_text is not None:
        want = args.expect_text.encode().decode('unicode_escape').encode()
    want_rc = (args.status << 1) | 1

    ok = True
    if proc.returncode != want_rc:
        print('exit status %d, want %d (guest status %d)'
              % (proc.returncode, want_rc, args.status))
        ok = False
    if want is not None and proc.stdout != want:
        print('output differs from the expected %d bytes; got %d bytes:'
              % (len(want), len(proc.stdout)))
        sys.stdout.write(proc.stdout.decode(errors='replace')[-2000:])
        ok = False
    if proc.stderr:
        sys.stdout.write(proc.stderr.decode(errors='replace'))
    print('%s%s: %.3f s, %d bytes of output, exit status %d'
          % (' '.join(cmd), ' < ' + args.input if args.input else '',
             elapsed, len(proc.stdout), proc.returncode))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
