"""The mutation run's three lists agree: bench/mutation_score.py's SCOPE (what is scored), pyproject's
`only_mutate` (what mutmut mutates) and its test selection, the listed equivalents, and docs/testing.md.
A module in one list and not the other is scored on no mutants or mutated for nothing; a renamed function
leaves a name that matches no mutant, so its code silently drops out of the score."""
import importlib
import json
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import mutation_score  # noqa: E402
from mutation_score import EQUIVALENTS, SCOPE, in_scope  # noqa: E402

MUTMUT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
TESTING_DOC = (ROOT / "docs" / "testing.md").read_text()


def is_code(module: str, mangled: str) -> bool:
    """Whether mutmut's mangled name, x_name (a function) or xǁClassǁmethod (a method or property), names code
    of the module as it is now."""
    mod = importlib.import_module(f"gan_core.{module}")
    if mangled.startswith("xǁ"):
        cls, method = mangled[2:].split("ǁ")
        found = vars(getattr(mod, cls, object)).get(method)
    else:
        found = getattr(mod, mangled[2:], None) if mangled.startswith("x_") else None
    return callable(found) or isinstance(found, (property, staticmethod, classmethod))


def test_scope_and_only_mutate_name_the_same_modules():
    assert sorted(SCOPE) == sorted(Path(p).stem for p in MUTMUT["only_mutate"])
    assert all(p == f"gan_core/{Path(p).name}" for p in MUTMUT["only_mutate"])


@pytest.mark.parametrize("module", [m for m, funcs in SCOPE.items() if funcs is not None])
def test_every_function_named_in_scope_exists(module):
    for mangled in SCOPE[module]:
        assert is_code(module, mangled), f"{module}: {mangled}"


def test_every_equivalent_names_a_scored_function_and_says_why():
    entries = json.loads(EQUIVALENTS.read_text())
    assert len({e["mutant"] for e in entries}) == len(entries), "an equivalent listed twice"
    for e in entries:
        package, module, rest = e["mutant"].split(".", 2)
        mangled, number = rest.split("__mutmut_")
        assert package == "gan_core" and module in SCOPE and int(number) > 0, e["mutant"]
        assert in_scope(module, e["mutant"]), e["mutant"]
        assert is_code(module, mangled), e["mutant"]
        assert e["change"].strip() and e["reason"].strip(), e["mutant"]


def test_selected_tests_exist_and_deselected_ones_are_in_the_selection():
    args = MUTMUT["pytest_add_cli_args_test_selection"]
    deselected = [args[i + 1] for i, a in enumerate(args) if a == "--deselect"]
    selected = [a for i, a in enumerate(args) if a != "--deselect" and (i == 0 or args[i - 1] != "--deselect")]
    for path in selected:
        assert (ROOT / path).is_file(), path
    for test in deselected:
        path, name = test.split("::")
        assert path in selected and f"def {name}(" in (ROOT / path).read_text(), test


def test_testing_doc_lists_every_module_in_its_scope_and_its_score():
    for module in SCOPE:
        assert f"\n| `{module}.py` | " in TESTING_DOC, f"docs/testing.md's scope table lacks {module}.py"
        assert f"\n| {module} | " in TESTING_DOC, f"docs/testing.md's latest score lacks {module}"


def test_score_counts_listed_equivalents_only_where_they_still_survive_with_the_listed_change(tmp_path, monkeypatch):
    name = "gan_core.halves.x_split__mutmut_{}".format
    codes = {name(1): 1, name(2): 0, name(3): 0, name(4): 0, name(5): 1, name(6): 36}  # killed, survived, timeout
    meta = tmp_path / "mutants" / "gan_core" / "halves.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    listed = {name(i): {"mutant": name(i), "change": f"line {i}", "reason": "r"} for i in (2, 3, 5)}
    monkeypatch.setattr(mutation_score, "ROOT", tmp_path)
    monkeypatch.setattr(mutation_score, "load_equivalents", lambda: listed)
    # 2 still makes its listed change; 3 is now another change (renumbered); 5 is killed now
    monkeypatch.setattr(mutation_score, "changed_line", lambda n: "line 2" if n == name(2) else "something else")
    out = mutation_score.score(["halves"])
    row = out["modules"]["halves"]
    assert (row["killed"], row["timeout"], row["survived"], row["equivalent"]) == (2, 1, 2, 1)
    assert row["survivors"] == [name(3), name(4)] and row["total"] == 6
    assert row["score"] == 0.6  # (2 killed + 1 timeout) of the 5 not equivalent
    assert out["stale_equivalents"] == [name(3), name(5)]
