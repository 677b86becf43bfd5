"""Fail if modules of loregate's packages import each other, directly or through others.

import-linter checks the layers between packages; this checks cycles between the modules
inside them. The graph is grimp's (the library import-linter runs on): every import statement
counts, those inside functions too; imports under ``if TYPE_CHECKING:`` do not (they never
run). Package ``__init__`` modules count as Python runs them: importing ``a.b.c`` first runs
``a/__init__`` and ``a/b/__init__``, so a cycle that closes through a package's ``__init__``
is found although no statement names that package.

Each cycle is printed as the modules it goes through and the two import chains that close it.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Sequence

import grimp

PACKAGES = (
    "kernel",
    "gateway",
    "governance",
    "retrieval",
    "ingest",
    "evals",
    "console",
    "testkit",
    "loregate",
)

# Cycles tolerated for now: each entry is the set of modules of one cycle, with a comment
# saying who removes it. An entry whose cycle is gone fails the check too, so the list only
# shrinks. Keep it empty.
ALLOWED_CYCLES: tuple[frozenset[str], ...] = ()


def parent_packages(module: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b"]``: the packages whose ``__init__`` runs before it."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def add_package_imports(graph: grimp.ImportGraph) -> set[tuple[str, str]]:
    """Add an import of each package whose ``__init__`` an import runs; return those edges.

    A module's own parent packages are left out: they are already being imported when it runs,
    so a package that imports its own submodules (re-exports) makes no cycle.
    """
    added: set[tuple[str, str]] = set()
    for importer in sorted(graph.modules):
        own = {importer, *parent_packages(importer)}
        for imported in graph.find_modules_directly_imported_by(importer):
            for package in parent_packages(imported):
                if package not in own and not graph.direct_import_exists(
                    importer=importer, imported=package
                ):
                    added.add((importer, package))
    for importer, package in sorted(added):
        graph.add_import(importer=importer, imported=package)
    return added


def import_graph(packages: Sequence[str]) -> tuple[grimp.ImportGraph, set[tuple[str, str]]]:
    """The import graph of ``packages`` with the package imports Python makes implicitly."""
    first, *rest = packages
    graph = grimp.build_graph(first, *rest, exclude_type_checking_imports=True, cache_dir=None)
    return graph, add_package_imports(graph)


def find_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other (each sorted), in module order."""
    seen: set[str] = set()
    groups: list[list[str]] = []
    for module in sorted(graph.modules):
        if module in seen:
            continue
        reaching = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        if reaching:
            group = sorted({module, *reaching})
            seen.update(group)
            groups.append(group)
    return groups


def closing_chains(
    graph: grimp.ImportGraph, group: Sequence[str], implicit: set[tuple[str, str]]
) -> list[str]:
    """Two import chains, there and back, that close the cycle of ``group``."""
    a, b = group[0], group[1]
    lines = []
    for importer, imported in ((a, b), (b, a)):
        chain = graph.find_shortest_chain(importer=importer, imported=imported) or ()
        links = [chain[0]] if chain else []
        for before, after in itertools.pairwise(chain):
            runs_init = (before, after) in implicit
            links.append(f"{after} (its __init__)" if runs_init else after)
        lines.append(" -> ".join(links))
    return lines


def check(
    packages: Sequence[str] = PACKAGES, allowed: Iterable[frozenset[str]] = ALLOWED_CYCLES
) -> tuple[bool, str]:
    """Whether the packages pass, and the report to print."""
    graph, implicit = import_graph(packages)
    cycles = find_cycles(graph)
    allowed = set(allowed)
    found = {frozenset(group) for group in cycles}
    lines: list[str] = []
    for group in cycles:
        tolerated = frozenset(group) in allowed
        label = "allowed import cycle" if tolerated else "import cycle"
        lines.append(f"{label} between {len(group)} modules: {', '.join(group)}")
        lines.extend(f"  {chain}" for chain in closing_chains(graph, group, implicit))
    stale = sorted(sorted(cycle) for cycle in allowed - found)
    for cycle in stale:
        lines.append(f"ALLOWED_CYCLES lists a cycle that is gone (remove it): {', '.join(cycle)}")
    failed = any(frozenset(group) not in allowed for group in cycles) or bool(stale)
    if not failed:
        outside = " outside ALLOWED_CYCLES" if cycles else ""
        where = f"the {len(graph.modules)} modules of {', '.join(packages)}"
        lines.append(f"no import cycle{outside} between {where}")
    return not failed, "\n".join(lines)


def main() -> int:
    passed, report = check()
    print(report)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
