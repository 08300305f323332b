"""Resolve the module a job runs remotely into the source execnet ships."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
from dataclasses import dataclass
from types import FunctionType, ModuleType

from .errors import ConfigError
from .functions import function_source


@dataclass(frozen=True)
class RemoteModule:
    """A pure module to run in workers.

    ``batched`` modules define ``process(item)`` and/or ``setup(options)`` (which may
    return the per-item function) and optionally ``format(index, item, result)``;
    the worker loop runs them a batch per message.  Other modules are seed-style:
    they loop over ``channel`` themselves, receiving ``(i, arg)`` and sending
    ``(i, result)``.  A module that does neither is refused when resolved.
    """

    name: str
    source: str
    filename: str
    batched: bool
    needs_nltk: bool

    @property
    def builtin(self) -> bool:
        """Whether this is one of the toolkit's own task modules (``nlp_parallel.remote_tasks``),
        whose ``setup`` builds objects in memory only and may run in a fork server."""
        return _in_toolkit(self.filename)

    @classmethod
    def resolve(cls, module: ModuleType | str | RemoteModule | FunctionType) -> RemoteModule:
        """Load a module object or a dotted module name without running it here, or
        make a module of a top-level function, run as its ``process(item)``
        (:mod:`nlp_parallel.functions`).

        Raises :class:`ConfigError` when the module cannot be found or has no source,
        and for a function whose source alone cannot run it (a lambda, a closure, a
        nested function, one that uses globals of its module).
        """
        if isinstance(module, RemoteModule):
            return module
        if isinstance(module, FunctionType):
            return cls.from_source(*function_source(module))
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
            raise ConfigError(f"expected a module, a dotted module name or a top-level "
                              f"function, not {module!r}")
        if _in_toolkit(filename):
            return cls.toolkit(name, source, filename)
        return cls.from_source(name, source, filename)

    @classmethod
    def toolkit(cls, name: str, source: str, filename: str) -> RemoteModule:
        """One of the toolkit's own task modules, read without parsing it.

        What :meth:`from_source` would find is known: each defines ``setup`` (the
        contract of ``nlp_parallel.remote_tasks``), so it is batched, and it imports NLTK when its
        text names it at all (a test checks both against the parse for every one).
        Parsing would cost a run more than the rest of its setup: ``ast.parse``
        allocates enough objects to set off a collection of everything the driver
        has imported, some 25 ms.
        """
        return cls(name, source, filename, batched=True, needs_nltk="nltk" in source)

    @classmethod
    def from_source(cls, name: str, source: str, filename: str | None = None) -> RemoteModule:
        """Build from source text, reading it without running it.

        Raises :class:`ConfigError` for a syntax error, and for a module that defines
        neither ``process`` nor ``setup`` and has no seed-style channel loop: its
        workers would return without a result, as if each item had killed them.
        """
        filename = filename or f"<{name}>"
        try:
            tree = ast.parse(source, filename)
        except SyntaxError as exc:
            raise ConfigError(f"module {name}: {exc}") from None
        batched = bool({"process", "setup"} & _top_level_names(tree.body))
        if not batched and not _uses_channel(tree):
            raise ConfigError(
                f"module {name}: defines neither process(item) nor setup(options), and has "
                f"no seed-style loop over execnet's channel (if __name__ == "
                f"\"__channelexec__\": for i, arg in channel: ...); workers would have "
                f"nothing to run")
        return cls(name, source, filename, batched, _imports_nltk(tree))


def _in_toolkit(filename: str) -> bool:
    """Whether ``filename`` is one of the toolkit's own task modules (``nlp_parallel.remote_tasks``,
    not the package itself)."""
    from . import remote_tasks

    here = os.path.dirname(os.path.abspath(remote_tasks.__file__))
    path = os.path.abspath(filename)
    return os.path.dirname(path) == here and os.path.basename(path) != "__init__.py"


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


#: Statements that define no scope of their own: names bound in their bodies are
#: the module's (``try: from fast import process`` ...).
_BLOCKS = (ast.If, ast.Try, ast.With, ast.For, ast.While)


def _top_level_names(body: list[ast.stmt]) -> set[str]:
    """The names a module's own statements bind: functions, classes, assignments
    and imports, also inside ``if``/``try``/``with`` blocks."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, _BLOCKS):
            for block in ("body", "orelse", "finalbody"):
                names |= _top_level_names(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                names |= _top_level_names(handler.body)
    return names


def _uses_channel(tree: ast.Module) -> bool:
    """Whether the module runs a seed-style loop: it tests for ``"__channelexec__"``
    or uses execnet's ``channel`` outside any function of its own."""
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Constant) and node.value == "__channelexec__":
            return True
        if isinstance(node, ast.Name) and node.id == "channel":
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                 ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return False


def _imports_nltk(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(a.name.split(".")[0] == "nltk" for a in node.names):
                return True
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "nltk":
                return True
    return False
