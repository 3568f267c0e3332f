#!/usr/bin/env python3
"""Check that a guest kit image is a PVH-bootable ELF.

What a PVH loader (cellvm's, QEMU's) relies on: an ELF64 x86-64 executable;
a PT_LOAD at physical 1 MiB; a PT_NOTE, 4-byte aligned, holding a "Xen" note
of type XEN_ELFNOTE_PHYS32_ENTRY (18) whose descriptor is a 32-bit physical
address inside a loaded, executable segment. No PT_LOAD may touch what
cellvm keeps for itself: [0, 0x30000) (boot structures) and
[0x9fc00, 1 MiB) (EBDA, BIOS area, MP and ACPI tables). Exit status 0 if
all hold.
"""
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4
PF_X = 1
XEN_ELFNOTE_PHYS32_ENTRY = 18
LOAD_ADDR = 0x100000
RESERVED = [(0, 0x30000), (0x9fc00, 0x100000)]


def notes(data, off, size):
    """Yield (name, type, desc) of the notes in data[off:off + size]."""
    end = off + size
    while off + 12 <= end:
        namesz, descsz, ntype = struct.unpack_from('<III', data, off)
        off += 12
        name = data[off:off + namesz].rstrip(b'\0')
        off += (namesz + 3) & ~3
        desc = data[off:off + descsz]
        off += (descsz + 3) & ~3
        if off > end:
            raise ValueError('truncated note')
        yield name, ntype, desc


def check(path):
    data = open(path, 'rb').read()
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        return ['not a little-endian ELF64 file']
    e_type, e_machine = struct.unpack_from('<HH', data, 16)
    e_phoff, = struct.unpack_from('<Q', data, 32)
    e_phentsize, e_phnum = struct.unpack_from('<HH', data, 54)
    errors = []
    if e_type != 2 or e_machine != 62:
        errors.append('not an x86-64 executable (ET_EXEC, EM_X86_64)')
    phdrs = [struct.unpack_from('<IIQQQQQQ', data, e_phoff + i * e_phentsize)
             for i in range(e_phnum)]
    loads = [p for p in phdrs if p[0] == PT_LOAD]
    if not any(p[3] == LOAD_ADDR and p[4] == LOAD_ADDR for p in loads):
        errors.append('no PT_LOAD at vaddr = paddr = %#x' % LOAD_ADDR)
    for p in loads:
        start, end = p[4], p[4] + p[6]
        for lo, hi in RESERVED:
            if p[6] and start < hi and end > lo:
                errors.append('PT_LOAD [%#x, %#x) overlaps [%#x, %#x)'
                              % (start, end, lo, hi))
    entries = []
    for p in phdrs:
        if p[0] != PT_NOTE:
            continue
        if p[7] != 4:
            errors.append('PT_NOTE p_align is %d, QEMU needs 4' % p[7])
        for name, ntype, desc in notes(data, p[2], p[5]):
            if name == b'Xen' and ntype == XEN_ELFNOTE_PHYS32_ENTRY:
                if len(desc) not in (4, 8):
                    errors.append('PHYS32_ENTRY descsz %d' % len(desc))
                    continue
                entries.append(int.from_bytes(desc, 'little'))
    if len(entries) != 1:
        errors.append('%d XEN_ELFNOTE_PHYS32_ENTRY notes in PT_NOTE, want 1'
                      % len(entries))
        return errors
    entry = entries[0]
    if entry >= 1 << 32:
        errors.append('PVH entry %#x is not a 32-bit address' % entry)
    if not any(p[1] & PF_X and p[4] <= entry < p[4] + p[5] for p in loads):
        errors.append('PVH entry %#x is not in an executable PT_LOAD' % entry)
    print('%s: PVH entry %#x, %d PT_LOAD' % (path, entry, len(loads)))
    return errors


def main():
    status = 0
    for path in sys.argv[1:]:
        for error in check(path):
            print('%s: %s' % (path, error))
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
