#!/usr/bin/env python3
"""Fails on an #include that crosses the declared direction between libraries.

Usage: scripts/check_layering.py BUILD_DIR

BUILD_DIR/layers.txt (written by cmake/Layers.cmake) has one line per library:
"name folder dep dep ...". A quoted include "a/b/c.h" in a library's folder is
allowed when the folder owning c.h is the library's own or belongs to one of
its transitive dependencies. The compiler refuses most violations already
(each library exposes only its own folder); this check names them in one line
each, covers headers that no .cc compiles, and needs no build.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def load_layers(path):
    layers = {}
    for line in open(path, encoding="utf-8"):
        parts = line.split()
        if len(parts) >= 2:
            layers[parts[0]] = (parts[1], parts[2:])
    return layers


def closure(layers, name, seen=None):
    seen = set() if seen is None else seen
    for dep in layers[name][1]:
        if dep not in seen and dep in layers:
            seen.add(dep)
            closure(layers, dep, seen)
    return seen


def owner(folders, rel_path):
    """The library whose folder holds rel_path (longest folder match)."""
    best = None
    for folder, name in folders.items():
        if rel_path.startswith(folder + "/") and "/" not in rel_path[len(folder) + 1:]:
            if best is None or len(folder) > len(best[0]):
                best = (folder, name)
    return best[1] if best else None


def main():
    if len(sys.argv) != 2:
        print("usage: check_layering.py BUILD_DIR", file=sys.stderr)
        return 2
    source_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    layers_path = os.path.join(sys.argv[1], "layers.txt")
    if not os.path.exists(layers_path):
        print(f"check_layering: {layers_path} missing (configure the build first)", file=sys.stderr)
        return 2
    layers = load_layers(layers_path)
    folders = {folder: name for name, (folder, _) in layers.items()}
    violations = 0
    checked = 0
    for name, (folder, _) in sorted(layers.items()):
        allowed = closure(layers, name) | {name}
        directory = os.path.join(source_dir, folder)
        for entry in sorted(os.listdir(directory)):
            if not entry.endswith((".h", ".cc")):
                continue
            path = os.path.join(folder, entry)
            for lineno, line in enumerate(open(os.path.join(source_dir, path), encoding="utf-8"), 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                checked += 1
                target = match.group(1)
                if target.startswith("core/version_generated"):
                    continue  # generated into the build tree for resmeter_core
                target_lib = owner(folders, target)
                if target_lib is None:
                    print(f"{path}:{lineno}: includes \"{target}\", which belongs to no library")
                    violations += 1
                elif target_lib not in allowed:
                    print(f"{path}:{lineno}: {name} includes \"{target}\" of {target_lib}, "
                          f"which is not among its dependencies ({' '.join(sorted(allowed - {name})) or 'none'})")
                    violations += 1
    if violations:
        print(f"check_layering: {violations} include(s) cross the declared direction (cmake/Layers.cmake, CMakeLists.txt)")
        return 1
    print(f"check_layering: {checked} includes in {len(layers)} libraries follow the declared direction")
    return 0


if __name__ == "__main__":
    sys.exit(main())
