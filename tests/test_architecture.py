"""The layers of conference/ and which may import which (docs/ARCHITECTURE.md).

Every module is parsed (not imported) and every ``conference.*`` import collected, those inside functions too.
From the bottom up:

- core (and documents, the Word and Excel kits): plumbing; imports nothing of conference but the base wiring;
- models: the tables; import the core;
- shared: services above the models (permissions, disclosure, notifications, kept pages, paging, form helpers);
- features: one package each; they import the layers below and, one way only, the features listed in
  ``FEATURE_EDGES``.

The base wiring (``extensions``, ``config``) imports nothing of conference and every layer may use it; the other
wiring (the factory, errors, cli, templating, navigation) sits on top and nothing but wiring imports it.
"""
import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "conference"

#: The only modules at the top of conference/: the application factory and its wiring.
WIRING = {"__init__", "cli", "config", "errors", "extensions", "navigation", "templating"}
#: Wiring the layers may import: the unbound extensions and the configuration defaults.
BASE = {"config", "extensions"}
CORE = {"core", "documents"}
MODELS = {"models"}
SHARED = {"shared"}
FEATURES = {"actions", "admin", "audit", "auth", "cases", "dashboard", "inputs", "main", "meetings", "minutes", "seed"}

#: The feature → feature imports there are, each one way. A new one fails ``test_feature_edges_are_the_listed_ones``
#: until it is listed here (and must not close a cycle); one that went away must be struck off.
FEATURE_EDGES = {
    # the access log's writer (audit.record, audit.record_access): every feature that changes or shows personal data
    ("actions", "audit"), ("admin", "audit"), ("auth", "audit"), ("cases", "audit"), ("dashboard", "audit"),
    ("inputs", "audit"), ("meetings", "audit"), ("minutes", "audit"), ("seed", "audit"),
    # the case register's services and queries: consent, disclosure levels checked, the case list's rows
    ("dashboard", "cases"), ("inputs", "cases"), ("meetings", "cases"), ("minutes", "cases"), ("seed", "cases"),
    # meetings' packets, forms, rules and queries: agency input and minutes are a meeting's; home lists meetings
    ("inputs", "meetings"), ("main", "meetings"), ("minutes", "meetings"), ("seed", "meetings"),
    # auth's password rules, two-factor and sessions for the admin's account pages
    ("admin", "auth"),
    # home and the notifications page count the actions due
    ("main", "actions"),
    # the chair's home lists the minutes waiting for their approval (결재), with the reviews in
    ("main", "minutes"),
    # the demo and generated data are made through the features' services
    ("seed", "actions"), ("seed", "admin"), ("seed", "inputs"), ("seed", "minutes"),
}
#: A feature uses another's services, queries and forms, not its views. The one exception: the case page,
#: /cases/<id>, is added to the case register's blueprint by meetings, since for a partner agency it is a packet.
VIEW_IMPORTS = {("conference.meetings.case_page", "conference.cases.views")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """The conference modules ``path`` imports, anywhere in it; ``from a import b`` counts a.b when b is a module."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base)
    return {target for target in found if target == "conference" or target.startswith("conference.")}


def _part(name: str) -> str:
    """The package (or top-level module) of conference a module belongs to: conference.cases.views → cases."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


@cache
def _graph() -> dict[str, set[str]]:
    """Module → the conference modules it imports, for every module under conference/."""
    return {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _outside(parts: set[str], allowed: set[str]) -> list[str]:
    """'module → import' for every import of a module in ``parts`` that reaches outside ``allowed``."""
    return sorted(f"{module} → {target}" for module, targets in _graph().items() if _part(module) in parts
                  for target in targets if _part(target) not in allowed | {_part(module)})


def test_only_the_wiring_sits_at_the_top():
    top = {path.stem for path in PACKAGE.glob("*.py")}
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert top == WIRING, "a module at conference/'s top that is not wiring: put it in core, shared or a feature"
    assert packages == CORE | MODELS | SHARED | FEATURES, "a package in no layer: add it to one here"
    assert not any(path.is_file() for path in PACKAGE.glob("*/*/*.py")), "packages are one level deep"


def test_the_base_wiring_imports_nothing_of_conference():
    wrong = _outside(BASE, set())
    assert not wrong, "\n".join(wrong)


def test_core_imports_nothing_above_it():
    wrong = _outside(CORE, CORE | BASE)
    assert not wrong, "\n".join(wrong)


def test_models_import_only_the_core():
    wrong = _outside(MODELS, CORE | BASE)
    assert not wrong, "\n".join(wrong)


def test_shared_services_import_no_feature():
    wrong = _outside(SHARED, CORE | MODELS | BASE)
    assert not wrong, "\n".join(wrong)


def test_features_import_only_downward():
    wrong = []
    for feature in FEATURES:
        allowed = CORE | MODELS | SHARED | BASE | {b for a, b in FEATURE_EDGES if a == feature}
        wrong += _outside({feature}, allowed)
    assert not wrong, "\n".join(wrong)


def test_feature_edges_are_the_listed_ones():
    found = {(_part(module), _part(target)) for module, targets in _graph().items() for target in targets
             if _part(module) in FEATURES and _part(target) in FEATURES and _part(module) != _part(target)}
    assert sorted(found - FEATURE_EDGES) == [], "a new feature → feature import: list it in FEATURE_EDGES (one way)"
    assert sorted(FEATURE_EDGES - found) == [], "an edge that is gone: strike it off FEATURE_EDGES"


def test_no_feature_imports_another_features_views():
    found = {(module, target) for module, targets in _graph().items() for target in targets
             if _part(module) in FEATURES and target.endswith("views") and _part(target) != _part(module)}
    assert found == VIEW_IMPORTS


def test_no_cycle_between_packages():
    edges: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        if _part(module) in WIRING:
            continue
        edges.setdefault(_part(module), set()).update(_part(t) for t in targets if _part(t) != _part(module))
    cycles = []

    def visit(node, path):
        for following in sorted(edges.get(node, ())):
            if following in path:
                cycles.append(" → ".join(path[path.index(following):] + [following]))
            elif following not in done:
                visit(following, path + [following])
        done.add(node)

    done: set[str] = set()
    for start in sorted(edges):
        if start not in done:
            visit(start, [start])
    assert not cycles, "\n".join(cycles)


def test_every_form_is_the_apps_form():
    """Forms derive ``shared.webforms.Form`` (hidden fields without an id, so that two forms on a page repeat none),
    never FlaskForm directly: a FlaskForm anywhere else would bring the repeated ``csrf_token`` id back."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    (getattr(base, "id", None) or getattr(base, "attr", None)) == "FlaskForm" for base in node.bases):
                found.append(f"{_module_name(path)}.{node.name}")
    assert found == ["conference.shared.webforms.Form"], found
