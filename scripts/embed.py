#!/usr/bin/env python3
"""Embeds a text file into C as `const char NAME[]` (used for the dashboard's page).
usage: embed.py INPUT OUTPUT NAME"""
import sys

src, out, name = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* Generated from %s by scripts/embed.py; do not edit. */\n' % src.split('/')[-1])
    f.write('const char %s[] =\n' % name)
    for i in range(0, len(data), 64):
        chunk = data[i:i + 64]
        f.write('\t"%s"\n' % ''.join('\\x%02x' % b for b in chunk))
    f.write('\t"";\n')
