#!/usr/bin/env python3
"""Keeps docs/architecture.md and CONTRIBUTING.md true.

Every source path they name (in backticks or as a link) exists, and every
function they name, written `name()`, is defined in the tree.  A rename
that forgets the guide fails here.  Usage: check_guide.py SOURCE_DIR
"""
import os
import re
import sys

DOCS = ["docs/architecture.md", "CONTRIBUTING.md"]
ROOTS = ("core/", "cli/", "inputs/", "filters/", "outputs/", "tests/", "scripts/",
         "bench/", "docs/", "deploy/", "conf.d/", "CONTRIBUTING.md",
         "README.md", "CMakeLists.txt")
PLACEHOLDER = re.compile(r"[<*]|NNN")


def paths_in(text):
    spans = re.findall(r"`([^`\n]+)`", text)
    spans += re.findall(r"\]\(([^)#\s]+)", text)
    spans += re.findall(r"(?<![\w/.-])((?:core|cli|inputs|filters|outputs|tests|"
                        r"scripts|bench|docs|deploy)/[\w./\[\]<>*-]*[\w\]])",
                        text)
    for span in spans:
        for word in re.split(r"[\s,;()]+", span):
            word = word.rstrip(".:")
            if word.endswith("]") and not word.endswith(".[ch]"):
                word = word[:-1]  # a Markdown link's text
            if word.startswith(ROOTS) and not PLACEHOLDER.search(word):
                yield word


def expand(path):
    if path.endswith(".[ch]"):
        return [path[:-5] + ".c", path[:-5] + ".h"]
    return [path]


def defined_functions(src):
    names = set()
    pat = re.compile(r"^[a-z][^;=]*?\b([a-z_][a-z0-9_]*)\(", re.M)
    for top in ("core", "inputs", "filters", "outputs", "tests"):
        for d, _, files in os.walk(os.path.join(src, top)):
            for f in files:
                if f.endswith((".c", ".h", ".in")):
                    with open(os.path.join(d, f), errors="replace") as fh:
                        names.update(pat.findall(fh.read()))
    return names


def main():
    src = sys.argv[1]
    funcs = defined_functions(src)
    bad = 0
    for doc in DOCS:
        with open(os.path.join(src, doc)) as fh:
            text = fh.read()
        base = os.path.dirname(doc)
        for p in sorted(set(paths_in(text))):
            for f in expand(p):
                here = os.path.join(src, f)
                rel = os.path.join(src, base, f)
                if not os.path.exists(here) and not os.path.exists(rel):
                    print(f"FAIL {doc}: names '{f}', which does not exist")
                    bad += 1
        for fn in sorted(set(re.findall(r"\b([a-z_][a-z0-9_]*)\(\)", text))):
            if fn.startswith(("lsh_", "in_", "flt_", "out_")) and fn not in funcs:
                print(f"FAIL {doc}: names function '{fn}()', which is not defined")
                bad += 1
    if bad:
        sys.exit(1)
    print("PASS: the guide names only what exists")


main()
