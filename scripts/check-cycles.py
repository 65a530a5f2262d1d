#!/usr/bin/env python3
"""No circular imports among the files of a crate: finds them, and fails if there are any.

    scripts/check-cycles.py relay/src client/src     # exit 1 and a report if any crate has a cycle
    scripts/check-cycles.py --edges relay/src        # also list every edge found
    scripts/check-cycles.py --with-comments relay/src   # count paths in comments and doc links too

Why: a circle of files that import each other cannot be understood (or changed, or tested)
one file at a time; every file in it depends on all the others. The rule (issue 16):

- A file A has an edge to a file B when A names B's module through a `crate::` or `super::`
  (or `self::`) path, in a `use` line or inline in the code (`crate::store::blocking(..)`),
  or when a parent module uses its own child (`mod reader;` ... `reader::Reader`, or
  `pub use reader::Reader`). A path names the deepest module it reaches that is a file:
  `crate::cluster::entry::Kind` names `cluster/entry.rs`, `super::broadcast` in
  `room/apply.rs` names `room/mod.rs` (its parent).
- A child using its parent's (or any ancestor's) items is not an edge: a child module is part
  of its parent, and `impl Room` in `room/apply.rs` is how a parent is split into files.
- Declaring a module (`mod reader;`) is not an edge by itself.
- Test files aside: modules declared under `#[cfg(test)]` (or `#[cfg(all(test, ...))]`),
  and items gated that way inside a file, are not read.

A cycle is reported as a strongly connected component (every file in it reaches every other),
with one shortest circle through it and the line that makes each of its edges.

The reading is textual (comments, strings and char literals are skipped first; `use` trees
are expanded, `as` aliases and `use crate::x;` module imports followed), which is enough for
plain Rust; it does not follow macros or `#[path]` attributes.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def blank(segment: str) -> str:
    return "".join("\n" if c == "\n" else " " for c in segment)


def strip(text: str) -> tuple[str, str]:
    """The code without comments, string and char literals, and the comments alone (each
    with everything else replaced by blanks, so offsets and line numbers stay the same)."""
    out, comments = [], []
    i, n = 0, len(text)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(blank(text[i:end]))
            comments.append((i, end))
            i = end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            comments.append((i, j))
            i = j
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            close = '"' + m.group(1)
            end = text.find(close, i + m.end())
            end = n if end < 0 else end + len(close)
            out.append(blank(text[i:end]))
            i = end
        elif c == '"' or (c == "b" and text.startswith('b"', i) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_"))):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i : j + 1]))
            i = j + 1
        elif c == "'":
            # A char literal ('x', '\n', '\u{1F600}', b'x') or a lifetime ('a).
            m = re.match(r"'(\\(u\{[0-9A-Fa-f]+\}|x[0-9A-Fa-f]{2}|.)|[^\\'])'", text[i:], re.S)
            if m:
                out.append(blank(m.group(0)))
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out), blank_except(text, comments)


def blank_except(text: str, spans: list[tuple[int, int]]) -> str:
    kept = list(blank(text))
    for a, b in spans:
        kept[a:b] = text[a:b]
    return "".join(kept)


TEST_CFG = re.compile(r"#\s*\[\s*cfg\s*\(\s*(test\s*\)|all\s*\(\s*test\b)")


def item_end(code: str, start: int) -> int:
    """Where the item starting at `start` ends: after its `;` or its closing brace."""
    depth = 0
    is_use = re.match(r"\s*(pub(\s*\([^)]*\))?\s+)?use\b", code[start:]) is not None
    i = start
    while i < len(code):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0 and c == "}" and not is_use:
                return i + 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return len(code)


def without_test_items(code: str) -> tuple[str, list[str], list[tuple[int, int]]]:
    """The code with `#[cfg(test)]` items blanked, the names of test modules declared as
    files (`#[cfg(test)] mod tests;`) and the spans blanked."""
    test_modules, spans = [], []
    while True:
        m = TEST_CFG.search(code)
        if not m:
            return code, test_modules, spans
        # Skip this attribute and any that follow it.
        i = code.index("]", m.end()) + 1
        while (a := re.match(r"\s*#\s*\[", code[i:])) is not None:
            depth, j = 0, i + a.end() - 1
            while j < len(code):
                if code[j] == "[":
                    depth += 1
                elif code[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            i = j + 1
        end = item_end(code, i)
        decl = re.match(r"\s*(pub(\s*\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", code[i:end])
        if decl:
            test_modules.append(decl.group(3))
        spans.append((m.start(), end))
        code = code[: m.start()] + "".join("\n" if ch == "\n" else " " for ch in code[m.start() : end]) + code[end:]


def expand_use(tree: str) -> list[tuple[list[str], str | None]]:
    """The paths of a `use` tree, each with the name it binds (`None` for globs)."""
    tokens = re.findall(IDENT + r"|::|[{},*]", tree)
    pos = 0

    def parse(prefix: list[str]) -> list[tuple[list[str], str | None]]:
        nonlocal pos
        results = []
        path = list(prefix)
        while pos < len(tokens):
            tok = tokens[pos]
            if tok == "{":
                pos += 1
                while pos < len(tokens) and tokens[pos] != "}":
                    results.extend(parse(path))
                    if pos < len(tokens) and tokens[pos] == ",":
                        pos += 1
                pos += 1
                return results
            if tok == "*":
                pos += 1
                return results + [(path, None)]
            if tok in (",", "}"):
                break
            if tok == "::":
                pos += 1
                continue
            if tok == "as":
                alias = tokens[pos + 1] if pos + 1 < len(tokens) else None
                pos += 2
                return results + [(path, alias)]
            path.append(tok)
            pos += 1
        if path != prefix:
            name = path[-1]
            if name == "self":
                path = path[:-1]
                name = path[-1] if path else None
            results.append((path, name))
        return results

    return parse([])


@dataclass
class Module:
    path: tuple[str, ...]
    file: Path
    children: dict[str, "Module"] = field(default_factory=dict)
    code: str = ""
    comments: str = ""


def child_file(parent: Module, name: str) -> Path | None:
    """Where `mod name;` in `parent` lives: beside a crate root or a `mod.rs`, else in the
    folder named after the parent's file."""
    owns_its_folder = not parent.path or parent.file.name == "mod.rs"
    base = parent.file.parent if owns_its_folder else parent.file.with_suffix("")
    for candidate in (base / f"{name}.rs", base / name / "mod.rs"):
        if candidate.exists():
            return candidate
    return None


def load_crate(src: Path) -> tuple[dict[tuple[str, ...], Module], list[str]]:
    """Every non-test module reachable from the crate roots in `src`, by module path."""
    modules: dict[tuple[str, ...], Module] = {}
    problems = []
    for root_name in ("lib.rs", "main.rs"):
        root = src / root_name
        if not root.exists():
            continue
        if () in modules:
            # A binary beside a library uses the library by its crate name, not `crate::`.
            continue
        todo = [Module((), root)]
        while todo:
            module = todo.pop()
            modules[module.path] = module
            code, comments = strip(module.file.read_text())
            code, test_modules, test_spans = without_test_items(code)
            for a, b in test_spans:
                comments = comments[:a] + blank(comments[a:b]) + comments[b:]
            module.code, module.comments = code, comments
            for m in re.finditer(r"(?:^|[;{}\s])(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*([;{])", code):
                name, kind = m.group(1), m.group(2)
                if kind == "{":
                    problems.append(f"{module.file}: inline module `{name}` is read as part of its file")
                    continue
                if name in test_modules:
                    continue
                file = child_file(module, name)
                if file is None:
                    problems.append(f"{module.file}: no file for `mod {name};`")
                    continue
                child = Module(module.path + (name,), file)
                module.children[name] = child
                todo.append(child)
    return modules, problems


@dataclass
class Edge:
    target: Path
    line: int
    text: str


def deepest(modules, path: list[str]) -> Module | None:
    """The deepest module file an absolute path reaches."""
    found = modules.get(())
    for i in range(1, len(path) + 1):
        module = modules.get(tuple(path[:i]))
        if module is None:
            break
        found = module
    return found


def edges_of(module: Module, modules, with_comments: bool) -> list[Edge]:
    code = module.code
    lines = module.file.read_text().splitlines()
    aliases: dict[str, tuple[str, ...]] = {}
    found: list[Edge] = []

    def absolute(path: list[str]) -> list[str] | None:
        if not path:
            return None
        head, rest = path[0], path[1:]
        if head == "crate":
            return rest
        if head in ("super", "self"):
            base = list(module.path)
            while path and path[0] in ("super", "self"):
                if path[0] == "super":
                    if not base:
                        return None
                    base.pop()
                path = path[1:]
            return base + path
        if head in module.children:
            return list(module.path) + path
        if head in aliases:
            return list(aliases[head]) + rest
        return None

    def add(path: list[str], offset: int) -> None:
        target_path = absolute(path)
        if target_path is None:
            return
        target = deepest(modules, target_path)
        if target is None or target is module:
            return
        # A child (or any descendant) using an ancestor's items is not an edge.
        if module.path[: len(target.path)] == target.path:
            return
        line = code.count("\n", 0, offset) + 1
        found.append(Edge(target.file, line, lines[line - 1].strip() if line <= len(lines) else ""))

    use_spans = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        use_spans.append((m.start(), m.end()))
        for path, name in expand_use(m.group(1)):
            add(path, m.start())
            target_path = absolute(path)
            if name and target_path is not None and tuple(target_path) in modules:
                aliases[name] = tuple(target_path)
    in_use = lambda offset: any(a <= offset < b for a, b in use_spans)  # noqa: E731
    inline = r"(?<![A-Za-z0-9_:.])(" + IDENT + r"(?:\s*::\s*" + IDENT + r")+)"
    for m in re.finditer(inline, code):
        if in_use(m.start()):
            continue
        add([p.strip() for p in m.group(1).split("::")], m.start())
    if with_comments:
        for m in re.finditer(inline, module.comments):
            add([p.strip() for p in m.group(1).split("::")], m.start())
    return found


def strongly_connected(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    index, low, on_stack, stack, result, counter = {}, {}, set(), [], [], [0]

    def visit(v: Path) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            result.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [c for c in result if len(c) > 1]


def shortest_cycle(graph: dict[Path, set[Path]], start: Path, within: set[Path]) -> list[Path]:
    """The shortest circle from `start` back to it inside one component."""
    previous = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph.get(v, ())):
                if w not in within:
                    continue
                if w == start:
                    path = [v]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return list(reversed(path)) + [start]
                if w not in previous:
                    previous[w] = v
                    following.append(w)
        frontier = following
    return [start]


def check(src: Path, show_edges: bool, with_comments: bool, base: Path) -> bool:
    modules, problems = load_crate(src)
    for problem in problems:
        print(f"  note: {problem}")
    graph: dict[Path, set[Path]] = {m.file: set() for m in modules.values()}
    evidence: dict[tuple[Path, Path], Edge] = {}
    for module in modules.values():
        for edge in edges_of(module, modules, with_comments):
            graph[module.file].add(edge.target)
            evidence.setdefault((module.file, edge.target), edge)
    rel = lambda p: str(p.relative_to(base)) if p.is_relative_to(base) else str(p)  # noqa: E731
    edge_count = sum(len(t) for t in graph.values())
    if show_edges:
        for (a, b), e in sorted(evidence.items()):
            print(f"  {rel(a)} -> {rel(b)}    ({rel(a)}:{e.line}: {e.text})")
    cycles = strongly_connected(graph)
    if not cycles:
        print(f"{rel(src)}: no cycles ({len(graph)} files, {edge_count} edges)")
        return True
    print(f"{rel(src)}: {len(cycles)} cycle(s) ({len(graph)} files, {edge_count} edges)")
    for component in cycles:
        members = set(component)
        print(f"\n  {len(component)} files import each other, in a circle:")
        for file in component:
            print(f"    {rel(file)}")
        print("  one circle through them:")
        circle = shortest_cycle(graph, component[0], members)
        for a, b in zip(circle, circle[1:]):
            e = evidence[(a, b)]
            print(f"    {rel(a)} -> {rel(b)}    ({rel(a)}:{e.line}: {e.text})")
    print()
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", nargs="+", type=Path, help="a crate's source folder (holding lib.rs or main.rs)")
    parser.add_argument("--edges", action="store_true", help="list every edge and the line that makes it")
    parser.add_argument(
        "--with-comments",
        action="store_true",
        help="also count paths named in comments and doc links (`[`crate::x`]`), as issue 16 counted them",
    )
    args = parser.parse_args()
    base = Path.cwd().resolve()
    ok = True
    for src in args.src:
        src = src.resolve()
        if not (src / "lib.rs").exists() and not (src / "main.rs").exists():
            print(f"{src}: no lib.rs or main.rs", file=sys.stderr)
            return 2
        ok = check(src, args.edges, args.with_comments, base) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
