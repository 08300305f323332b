"""A plain function as a remote module: its source shipped, as execnet's
``remote_exec`` ships a function's (``execnet.gateway._source_of_function``).

Only the function's own source travels, so it must carry everything it uses: a
top-level function (not a lambda, nor one defined inside another function or a
class), without a closure, decorators or globals of its module -- it imports what it
needs inside, as a worker has none of its module.  Each is refused with a
:class:`~nlp_parallel.errors.ConfigError` naming the function and, for a global,
the name.  What is shipped is the function's source, at its own line numbers (a
remote traceback points into the user's file), under ``from __future__ import
annotations`` so its annotations are never evaluated there, and bound to
``process``: the worker runs it as a batched module's ``process(item)``.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import symtable
import textwrap
import types

from .errors import ConfigError

#: Names a task module gives its own meaning: a function of one of them would be
#: taken for the module's setup(options) or format(index, item, result).
RESERVED = ("setup", "format")


def function_source(function: types.FunctionType) -> tuple[str, str, str]:
    """``(name, source, filename)`` of the module that runs ``function`` as its
    ``process``.  Raises :class:`ConfigError` for a function whose source alone
    cannot run it, saying why and what to do."""
    shown = f"function {function.__qualname__}"
    if function.__name__ == "<lambda>":
        raise ConfigError("a lambda cannot be shipped: only its line's source is known; "
                          "define a top-level function (def f(item): ...) and pass that")
    if function.__closure__:
        names = ", ".join(function.__code__.co_freevars)
        raise ConfigError(f"{shown}: a closure over {names} of the function it is defined "
                          f"in, which the workers do not have; pass a top-level function")
    if "<locals>" in function.__qualname__:
        raise ConfigError(f"{shown}: defined inside another function; define it at the top "
                          f"level of a module, so that its source alone can run it")
    if "." in function.__qualname__:
        raise ConfigError(f"{shown}: a method; pass a top-level function")
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        raise ConfigError(f"{shown}: an async function; workers call process(item) plainly")
    if function.__name__ in RESERVED:
        raise ConfigError(f"{shown}: a task module's {function.__name__} has another "
                          f"meaning; rename the function")
    try:
        source = textwrap.dedent(inspect.getsource(function))
        filename = inspect.getsourcefile(function) or f"<{function.__module__}>"
    except (OSError, TypeError) as exc:
        raise ConfigError(f"{shown}: its source is not available ({exc}); define it in a "
                          f"file") from None
    definition = _definition(source, shown)
    used = sorted(_globals_used(definition, function.__name__, filename))
    if used:
        names = ", ".join(used)
        raise ConfigError(f"{shown}: uses {names}, {'a global' if len(used) == 1 else 'globals'}"
                          f" of its module, which the workers do not have: only the "
                          f"function's source is shipped; import or define {names} inside "
                          f"the function")
    # At the function's own lines, under the future import where there is room.
    lead = "\n" * (function.__code__.co_firstlineno - 1)
    future = "from __future__ import annotations\n"
    head = (future + lead[1:]) if lead else future
    shipped = f"{head}{source}\n\nprocess = {function.__name__}\n"
    return f"{function.__module__}.{function.__qualname__}", shipped, filename


def _definition(source: str, shown: str) -> ast.FunctionDef:
    tree = ast.parse(source)
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, ast.FunctionDef):
        raise ConfigError(f"{shown}: its source is not one def statement")
    if definition.decorator_list:
        decorator = ast.unparse(definition.decorator_list[0])
        raise ConfigError(f"{shown}: decorated (@{decorator}); the workers would run the "
                          f"decorator's result, not the function: pass an undecorated one")
    return definition


def _globals_used(definition: ast.FunctionDef, name: str, filename: str) -> set[str]:
    """The names of ``definition``'s module it reads: those its body (and nested
    functions, comprehensions, ...) takes from the global scope, and those its
    default values read, besides builtins and its own name.  Annotations are left
    out: the shipped source never evaluates them."""
    stripped = _without_annotations(definition)
    top = symtable.symtable(ast.unparse(stripped), filename, "exec")
    used = {symbol.get_name() for symbol in top.get_symbols()
            if symbol.is_referenced()}  # in default values
    todo = list(top.get_children())
    while todo:
        table = todo.pop()
        todo.extend(table.get_children())
        used.update(symbol.get_name() for symbol in table.get_symbols()
                    if symbol.is_global() and (symbol.is_referenced() or symbol.is_assigned()))
    return {n for n in used if n != name and n not in vars(builtins)}


def _without_annotations(definition: ast.FunctionDef) -> ast.Module:
    tree = ast.Module(body=[definition], type_ignores=[])
    copy = ast.parse(ast.unparse(tree))
    for node in ast.walk(copy):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    return copy
