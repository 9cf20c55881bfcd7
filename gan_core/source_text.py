"""The source text of a module's functions, read from its file without importing the module.

Why: the architectures page shows the loss functions the trainers call, and its first tab needs
nothing else of torch; inspect.getsource would import gan_core.losses (and torch with it, 2.3 s on a
2-core laptop) before a fresh server could draw the app's first page.
"""
import ast
import importlib.util
from pathlib import Path


def function_sources(module: str, names) -> list[str]:
    """Each named top-level function of `module` (dotted name) as written, decorators included."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise ModuleNotFoundError(module)
    text = Path(spec.origin).read_text(encoding="utf-8")
    found = {node.name: node for node in ast.parse(text).body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    lines = text.splitlines()
    out = []
    for name in names:
        node = found[name]
        first = min([d.lineno for d in node.decorator_list] + [node.lineno])
        out.append("\n".join(lines[first - 1:node.end_lineno]))
    return out
