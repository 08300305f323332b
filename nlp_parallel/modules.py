"""Resolve the module a job runs remotely into the source execnet ships."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
from dataclasses import dataclass
from types import ModuleType

from .errors import ConfigError


@dataclass(frozen=True)
class RemoteModule:
    """A pure module to run in workers.

    ``batched`` modules define ``process(item)`` and/or ``setup(options)`` (which may
    return the per-item function) and optionally ``format(index, item, result)``;
    the worker loop runs them a batch per message.  Other modules are seed-style: they loop over ``channel`` themselves,
    receiving ``(i, arg)`` and sending ``(i, result)``.
    """

    name: str
    source: str
    filename: str
    batched: bool
    needs_nltk: bool

    @property
    def builtin(self) -> bool:
        """Whether this is one of the toolkit's own task modules (``remote_tasks``),
        whose ``setup`` builds objects in memory only and may run in a fork server."""
        import remote_tasks

        here = os.path.dirname(os.path.abspath(remote_tasks.__file__))
        return os.path.dirname(os.path.abspath(self.filename)) == here

    @classmethod
    def resolve(cls, module: ModuleType | str | RemoteModule) -> RemoteModule:
        """Load a module object or a dotted module name without running it here.

        Raises :class:`ConfigError` when the module cannot be found or has no source.
        """
        if isinstance(module, RemoteModule):
            return module
        if isinstance(module, ModuleType):
            name = module.__name__
            try:
                source = inspect.getsource(module)
            except (OSError, TypeError) as exc:
                raise ConfigError(f"module {name}: its source is not available ({exc})") from None
            filename = getattr(module, "__file__", None) or f"<{name}>"
        elif isinstance(module, str):
            name, source, filename = _find_source(module)
        else:
            raise ConfigError(f"expected a module or a dotted module name, not {module!r}")
        return cls.from_source(name, source, filename)

    @classmethod
    def from_source(cls, name: str, source: str, filename: str | None = None) -> RemoteModule:
        """Build from source text; raises :class:`ConfigError` for a syntax error."""
        filename = filename or f"<{name}>"
        try:
            tree = ast.parse(source, filename)
        except SyntaxError as exc:
            raise ConfigError(f"module {name}: {exc}") from None
        return cls(name, source, filename, bool({"process", "setup"} & _top_level_names(tree)), _imports_nltk(tree))


def _find_source(dotted: str) -> tuple[str, str, str]:
    try:
        spec = importlib.util.find_spec(dotted)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"module {dotted!r} cannot be found: {exc}") from None
    if spec is None or spec.origin is None or not spec.has_location:
        raise ConfigError(f"module {dotted!r} cannot be found on this Python's path")
    if not spec.origin.endswith(".py"):
        raise ConfigError(f"module {dotted!r} is not a Python source file ({spec.origin})")
    with open(spec.origin, encoding="utf-8") as f:
        return dotted, f.read(), spec.origin


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _imports_nltk(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(a.name.split(".")[0] == "nltk" for a in node.names):
                return True
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "nltk":
                return True
    return False
