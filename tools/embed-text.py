#!/usr/bin/env python3
"""Turn a text file into a C file defining `const char NAME[]` with its text."""
import sys


def main():
    name, src, dst = sys.argv[1:4]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    lines = ['/* Generated from %s; do not edit. */' % src.split('/')[-1],
             'extern const char %s[];' % name,
             'const char %s[] =' % name]
    for line in text.splitlines(keepends=True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"')
        esc = esc.replace('\n', '\\n').replace('\t', '\\t')
        lines.append('\t"%s"' % esc)
    lines.append('\t"";')
    with open(dst, "w", encoding="utf-8") as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == "__main__":
    main()
