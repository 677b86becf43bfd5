"""Fail if any two modules of loregate's packages import each other, directly or through others.

import-linter checks the layers between packages; this checks cycles between modules inside
them. The graph is grimp's (the library import-linter runs on): every import statement counts,
those inside functions too; imports under ``if TYPE_CHECKING:`` do not (they never run).
Each cycle is printed as the modules it goes through and one import chain that closes it.
"""

from __future__ import annotations

import sys

import grimp

PACKAGES = (
    "kernel",
    "gateway",
    "governance",
    "retrieval",
    "ingest",
    "evals",
    "testkit",
    "loregate",
)


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def main() -> int:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    cycles = strongly_connected(graph)
    if not cycles:
        print(f"no import cycle between the {len(graph.modules)} modules of {', '.join(PACKAGES)}")
        return 0
    for group in cycles:
        a, b = group[0], group[1]
        there = graph.find_shortest_chain(importer=a, imported=b) or ()
        back = graph.find_shortest_chain(importer=b, imported=a) or ()
        print(f"import cycle between {len(group)} modules: {', '.join(group)}")
        print(f"  {' -> '.join(there)}")
        print(f"  {' -> '.join(back)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
