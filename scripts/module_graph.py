#!/usr/bin/env python3
"""The module graph of each crate, from its `use` lines and paths: fails on a cycle.

Two levels are checked, because a cycle can hide at either:
- the top-level modules of a crate (`bundle` → `engine` → `bundle`), and
- the files of one folder (`embedder::training` → `embedder::evaluate` → `embedder::training`).

A path into the folder's own `mod.rs` (a re-export such as `crate::bundle::Manifest`) counts
as an edge to the module that defines it when that can be read off the `pub use` lines, and
is otherwise ignored: a parent re-exporting its children is not a cycle.

Usage: scripts/module-graph [--dot] [CRATE_SRC ...]   (default: every crate in the workspace)
Also fails when a crate named in CONTRACT_CRATES depends on another workspace crate.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = ["device/contract/src", "device/src", "host/src"]
# The contract crate's Cargo.toml may name no other workspace crate.
CONTRACT_CRATES = ["device/contract"]
WORKSPACE_CRATES = ["capsule-device", "capsule-host", "capsule-e2e", "capsule-contract"]

USE_RE = re.compile(r"\buse\s+(crate|super)::([^;]+);", re.S)
PATH_RE = re.compile(r"\b(crate|super)::((?:[a-z_][a-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*)")


def module_of(src: Path, file: Path) -> list[str]:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def expand_use(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` → [`a::b`, `a::c::d`, `a::c::e`]."""
    tree = re.sub(r"\s+", "", tree)
    depth, start, out = 0, None, []
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix = tree[:start]
                inner, rest = tree[start + 1 : i], tree[i + 1 :]
                items, d, last = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        d += 1
                    elif c == "}":
                        d -= 1
                    elif c == "," and d == 0:
                        items.append(inner[last:j])
                        last = j + 1
                items.append(inner[last:])
                for item in items:
                    if item:
                        out.extend(expand_use(prefix + item + rest))
                return out
    return [re.sub(r"\bas\b.*$", "", tree)]


def strip_comments(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def strip_tests(text: str) -> str:
    """Drop `#[cfg(test)] mod ... { ... }` blocks: tests may reach anywhere."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def crate_graph(src: Path):
    files = sorted(src.rglob("*.rs"))
    modules = {tuple(module_of(src, f)): f for f in files}
    edges = set()
    for mod, file in modules.items():
        text = strip_tests(strip_comments(file.read_text()))
        paths = []
        for kind, tree in USE_RE.findall(text):
            paths += [(kind, p) for p in expand_use(tree)]
        paths += PATH_RE.findall(text)
        for kind, path in paths:
            segs = [s for s in path.split("::") if s and s != "self"]
            if kind == "super":
                base = list(mod[:-1])
                while segs and segs[0] == "super":
                    base, segs = base[:-1], segs[1:]
                segs = base + segs
            # the longest prefix that is a module
            target = ()
            for k in range(len(segs), 0, -1):
                if tuple(segs[:k]) in modules:
                    target = tuple(segs[:k])
                    break
            if target and target != mod:
                edges.add((mod, target))
    return modules, edges


def cycles(nodes, edges):
    """Strongly connected components of more than one node (Tarjan)."""
    graph = {n: sorted({b for a, b in edges if a == n and b != n}) for n in nodes}
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return out


def check_crate(src: Path, dot: bool) -> list[str]:
    modules, edges = crate_graph(src)
    problems = []
    name = str(src.relative_to(ROOT))
    # 1. top-level modules
    tops = {m[0] for m in modules if m}
    top_edges = {(a[0], b[0]) for a, b in edges if a and b and a[0] != b[0]}
    for comp in cycles(tops, top_edges):
        why = [f"{a}→{b}" for a, b in sorted(top_edges) if a in comp and b in comp]
        problems.append(f"{name}: cycle between modules {comp} ({', '.join(why)})")
    # 2. the files of each folder
    folders = {m[:-1] for m in modules if len(m) >= 2}
    for folder in sorted(folders):
        n = len(folder)
        kids = {m[n] for m in modules if len(m) > n and m[:n] == folder}
        kid_edges = set()
        for a, b in edges:
            if len(a) > n and len(b) > n and a[:n] == folder and b[:n] == folder:
                if a[n] != b[n]:
                    kid_edges.add((a[n], b[n]))
        for comp in cycles(kids, kid_edges):
            where = "::".join(folder) or "crate root"
            why = [f"{a}→{b}" for a, b in sorted(kid_edges) if a in comp and b in comp]
            problems.append(f"{name}: cycle in {where}: {comp} ({', '.join(why)})")
    if dot:
        print(f"digraph \"{name}\" {{")
        for a, b in sorted(top_edges):
            print(f'  "{a}" -> "{b}";')
        print("}")
    return problems


def check_contract_manifest(crate: str) -> list[str]:
    manifest = ROOT / crate / "Cargo.toml"
    if not manifest.exists():
        return [f"{crate}: no Cargo.toml"]
    text = manifest.read_text()
    deps = text.split("[dependencies]", 1)[-1].split("\n[", 1)[0]
    return [
        f"{crate}/Cargo.toml depends on {other}: the contract layer imports nothing above it"
        for other in WORKSPACE_CRATES
        if re.search(rf"^\s*{re.escape(other)}\s*[=.]", deps, re.M)
    ]


def main(argv):
    dot = "--dot" in argv
    srcs = [a for a in argv if not a.startswith("--")] or CRATES
    problems = []
    for s in srcs:
        problems += check_crate(ROOT / s, dot)
    if not [a for a in argv if not a.startswith("--")]:
        for c in CONTRACT_CRATES:
            problems += check_contract_manifest(c)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"module graph: no cycles in {', '.join(srcs)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
