#!/usr/bin/env python3
"""Turn every process's policy file into one C table for the broker's
policy audit: `const struct policy_file policy_files[]` (broker/audit.h),
{process name, policy text}, and `policy_files_len`."""
import os
import sys


def c_string(text):
    out = []
    for line in text.splitlines(keepends=True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"')
        esc = esc.replace('\n', '\\n').replace('\t', '\\t')
        out.append('\t\t"%s"' % esc)
    return '\n'.join(out) or '\t\t""'


def main():
    dst, srcs = sys.argv[1], sys.argv[2:]
    lines = ['/* Generated from the policy files; do not edit. */',
             '#include "broker/audit.h"', '',
             'const struct policy_file policy_files[] = {']
    for src in srcs:
        name = os.path.basename(src)[:-len('.policy')]
        with open(src, encoding='utf-8') as f:
            lines.append('\t{ "%s",\n%s },' % (name, c_string(f.read())))
    lines += ['};', '',
              'const unsigned policy_files_len = %d;' % len(srcs)]
    with open(dst, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
