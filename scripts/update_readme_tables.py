#!/usr/bin/env python3
"""Replaces the README's generated sections with `resmeter claims` output.

usage: scripts/update_readme_tables.py BUILD/resmeter [README.md]
The sections sit between `<!-- BEGIN generated: NAME -->` and
`<!-- END generated: NAME -->`; tests/unit/declared_claims_test.cc fails
when they differ from the declarations.
"""
import re
import subprocess
import sys

binary = sys.argv[1]
readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
out = subprocess.run([binary, "claims"], check=True, capture_output=True, text=True).stdout
sections = {}
for part in re.split(r"^## ", out, flags=re.M)[1:]:
    title, _, body = part.partition("\n")
    sections[title.strip().lower()] = body.strip("\n") + "\n"
text = open(readme).read()
for name, body in sections.items():
    pattern = re.compile(r"(<!-- BEGIN generated: %s -->\n).*?(<!-- END generated: %s -->)" % (name, name), re.S)
    if not pattern.search(text):
        sys.exit("%s: no generated section '%s'" % (readme, name))
    text = pattern.sub(lambda m: m.group(1) + body + m.group(2), text)
open(readme, "w").write(text)
