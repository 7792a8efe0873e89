"""Operations read analytics only through the published refresh (ARCHITECTURE: operations
never reach into the warehouse): the web application imports no analytics engine."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import neighbourhood.care

# What the web application may take from the analytics side: names and rules, no data.
ALLOWED = {
    "neighbourhood.phm.vocabulary",
    "neighbourhood.phm.versions",  # reading which version is current, as every reader does
    "neighbourhood.standards.disclosure",
    "neighbourhood.standards.nhs_number",  # the Modulus 11 check of a number typed in
    "neighbourhood.standards.snomed",  # the check digit of a SNOMED CT code a partner sends
    "neighbourhood.config",
    "neighbourhood.errors",
}
ANALYTICS = ("synth", "ingest", "warehouse", "linkage", "phm", "standards", "cli")


def test_the_web_application_imports_no_analytics_module() -> None:
    root = Path(neighbourhood.care.__file__).parent
    found: dict[str, str] = {}
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "neighbourhood" and len(parts) > 1 and parts[1] in ANALYTICS:
                    found[f"{path.relative_to(root)}: {name}"] = name
    assert sorted(k for k, v in found.items() if v not in ALLOWED) == []
    assert {v for v in found.values()} <= ALLOWED


def test_role_checks_go_through_the_role_matrix() -> None:
    """A page or view that compares a role by hand would drift from the matrix the
    middleware enforces; every check asks ``allows(role, permission)``."""
    root = Path(neighbourhood.care.__file__).parent
    by_hand = []
    for path in [*root.rglob("*.py"), *root.rglob("*.html")]:
        if path.name == "roles.py" or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0] if path.suffix == ".py" else line
            if re.search(r"\brole\s*(==|!=|(not\s+)?in\s*[(\[{])|Role\.\w+\s*(==|!=)", code):
                by_hand.append(f"{path.relative_to(root)}:{number}")
    assert by_hand == []
