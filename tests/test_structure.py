"""The package's structure, read from its import statements: no cycles, no upward imports, one
name per file, and the layering picture of docs/design.md drawn from the code.

    python tests/test_structure.py      # prints the picture that docs/design.md holds
"""

import ast
import re
import textwrap
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "stimgen"
#: The layers, lowest first: a module may import from its own layer and the ones below.
LAYERS = [
    ("core", ["stimgen", "stimgen.errors", "stimgen.options", "stimgen.cache", "stimgen.outputs"]),
    ("signal", ["stimgen.signal", "stimgen.preview"]),
    ("data", ["stimgen.data"]),
    ("representations", ["stimgen.representations"]),
    ("models", ["stimgen.models"]),
    ("morph", ["stimgen.morph", "stimgen.stimulus_folder"]),
    ("work", ["stimgen.export", "stimgen.pilot", "stimgen.psychometric", "stimgen.respace", "stimgen.train",
              "stimgen.demo", "stimgen.metrics2d", "stimgen.in_song", "stimgen.on_demand",
              "stimgen.tasks", "stimgen.discrimination_data", "stimgen.trial_table", "stimgen.adaptive_data"]),
    ("command", ["stimgen.cli", "stimgen.__main__"]),
]
#: The imports that go up, each made when first used: ``stimgen.load_model``, which imports the model
#: bundle when called, and ``stimgen.Continuum`` (:mod:`stimgen.on_demand`).
LAZY = {("stimgen", "stimgen.models.bundle"), ("stimgen", "stimgen.on_demand")}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "assets" in path.relative_to(PACKAGE).parts:
            continue  # templates of programs stimgen writes, not its modules
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports() -> dict[str, set[str]]:
    """Every module's stimgen imports, at module level and inside functions alike."""
    mods = modules()
    graph = defaultdict(set)
    for name, path in mods.items():
        graph[name]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module
                           for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in mods and t != name and (name, t) not in LAZY}
    return graph


def layer(module: str) -> int:
    best = max(((i, len(prefix)) for i, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
                if module == prefix or module.startswith(prefix + ".")), key=lambda x: x[1])
    return best[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

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
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def picture() -> str:
    """The layers, top down: their modules and the layers each imports from."""
    graph = imports()
    members, uses = defaultdict(list), defaultdict(set)
    for module, targets in sorted(graph.items()):
        members[layer(module)].append(module.removeprefix("stimgen.") if module != "stimgen" else "stimgen")
        uses[layer(module)] |= {layer(t) for t in targets} - {layer(module)}
    lines = []
    for i in reversed(range(len(LAYERS))):
        below = ", ".join(LAYERS[j][0] for j in sorted(uses[i], reverse=True)) or "-"
        lines.append(f"{LAYERS[i][0]:<16} imports {below}")
        names = _grouped(members[i])
        lines += [f"    {line}" for line in names]
    return "\n".join(lines)


def _grouped(names: list[str]) -> list[str]:
    """Module names: the top-level ones on one line, each subpackage's on a line of its own
    (``pkg/: a, b``), wrapped at 100 columns."""
    groups = defaultdict(list)
    for name in names:
        head, _, tail = name.partition(".")
        groups[head if tail else ""].append(tail or head)
    groups[""] = [name for name in groups[""] if name not in groups]  # a package's __init__: its folder stands for it
    lines = []
    for head, members in sorted(groups.items()):
        if not members:
            continue
        label = f"{head}/: " if head else ""
        lines += textwrap.wrap(", ".join(members), 96, initial_indent=label, subsequent_indent=" " * len(label),
                               break_on_hyphens=False)
    return lines


def test_every_module_has_a_layer_and_imports_only_from_its_own_and_lower_ones():
    graph = imports()
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets if layer(t) > layer(m))
    assert upward == []


def test_there_is_no_import_cycle_even_through_imports_inside_functions():
    assert cycles(imports()) == []


def test_the_lazy_load_model_and_continuum_are_the_only_imports_that_go_up():
    source = (PACKAGE / "__init__.py").read_text()
    assert re.findall(r"^\s+from (stimgen[\w.]*) import", source, flags=re.M) == ["stimgen.models.bundle",
                                                                                   "stimgen.on_demand"]


def test_no_two_files_share_a_name():
    names = defaultdict(list)
    for module, path in modules().items():
        if path.name not in ("__init__.py", "__main__.py"):
            names[path.name].append(module)
    assert {name: found for name, found in names.items() if len(found) > 1} == {}


def test_the_layering_picture_in_docs_is_the_codes():
    design = (ROOT / "docs" / "design.md").read_text()
    drawn = re.search(r"<!-- layers: python tests/test_structure.py -->\n```text\n(.*?)\n```", design, re.S)
    assert drawn is not None, "docs/design.md has no layering picture"
    assert drawn.group(1) == picture(), "redraw it: python tests/test_structure.py"


if __name__ == "__main__":
    print(picture())
