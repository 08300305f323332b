"""A chain of tasks run in one remote pass per batch (e.g. tokenize -> tag -> chunk)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..modules import RemoteModule
from ..options import OptionReader

NAME = "pipeline"
MODULE = "nlp_parallel.remote_tasks.pipeline"
SUMMARY = "several tasks in one pass: tokenize first, then tag, chunk, stem, lemmatize"
OPTIONS = {
    "steps": "the tasks in order, each {name: TASK, options: {...}}; tokenize may only come "
    "first, count only last, chunk needs a tag step before it (or tagged input)",
}
STEP_KEYS = ("name", "options")


def build(options: OptionReader) -> dict[str, Any]:
    from . import prepare  # the registry imports this module lazily

    steps = options.raw("steps")
    if not isinstance(steps, list) or not steps:
        raise options.fail("steps", "expected a non-empty list of {name: TASK, options: {...}}")
    shipped = []
    for index, step in enumerate(steps):
        key = f"steps[{index}]"
        if not isinstance(step, dict) or "name" not in step:
            raise options.fail(key, "expected {name: TASK, options: {...}}")
        extra = set(step) - set(STEP_KEYS)
        if extra:
            raise options.fail(key, f"unknown key {sorted(extra)[0]!r}; valid: name, options")
        name = step["name"]
        if name == "pipeline":
            raise options.fail(f"{key}.name", "a pipeline cannot contain a pipeline")
        if name == "tokenize" and index:
            raise options.fail(f"{key}.name", "tokenize can only be the first step")
        if name == "count" and index != len(steps) - 1:
            raise options.fail(f"{key}.name", "count can only be the last step: it counts "
                                              "what the steps before it give")
        task = prepare(name, step.get("options"), where=f"{options.where}.{key}.options")
        module = RemoteModule.resolve(task.module)
        shipped.append({"name": name, "source": module.source, "filename": module.filename,
                        "options": dict(task.options)})
    names = [s["name"] for s in shipped]
    if "chunk" in names and "tag" in names and names.index("tag") > names.index("chunk"):
        raise options.fail("steps", "chunk needs its tag step before it")
    if names[0] == "tokenize" and input_need(names[1:])[1] == "tagged":
        raise options.fail("steps", "chunk needs a tag step before it: tokenize gives "
                                    "tokens without tags")
    return {"steps": shipped}


def input_need(names: Sequence[str]) -> tuple[int, str]:
    """Which step decides what a pipeline's items must carry, and what: ``text``
    for a first tokenize step, ``tagged`` tokens for a chunk step before any tag
    step, ``tokens`` (tagged or not) otherwise."""
    if names and names[0] == "tokenize":
        return 0, "text"
    for index, name in enumerate(names):
        if name == "tag":
            break
        if name == "chunk":
            return index, "tagged"
    return 0, "tokens"
