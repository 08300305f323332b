"""Job files: YAML validated once, at the edge, into frozen dataclasses.

Every problem is a :class:`JobError` whose message names the job file and the key,
e.g. ``jobs/tb.yaml: task.options.tagset: 'univeral' is not one of ...``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from .remote_tasks.pipeline import ADDS

from .corpus import VIEWS, Corpus, CorpusSpec, parse_corpus
from .corpus.choice import TAKES, fitting
from .corpus.spec import FORMAT_VIEWS
from .settings import (
    MAX_RESTARTS,
    OnError,
    check_batch_size,
    check_max_restarts,
    check_on_error,
    check_timeout,
)
from .errors import ConfigError, ResourceMissing
from .options import did_you_mean, reject_unknown_keys
from .daskpool import DaskTarget, parse_target
from .specs import GatewaySpecs, parse_specs, read_hosts_file, with_min_gateways
from .tasks import FAMILIES, Task, family, prepare
from .tasks.pipeline import input_need

TOP_KEYS = ("corpus", "task", "specs", "batch_size", "timeout", "on_error", "max_restarts",
            "output", "hosts_file", "min_gateways", "allow_insecure_socket", "read", "dask")
#: The keys that choose execnet gateways, which a job on Dask does not give.
GATEWAY_KEYS = ("specs", "hosts_file", "min_gateways", "allow_insecure_socket")
#: Who reads the corpus: the workers, from shards of its files' bytes, or the
#: driver; ``auto``, the driver for at most :data:`DRIVER_READS_FOR` gateways on
#: this machine (except for a count and plain tagged text), the workers otherwise.
READ = ("auto", "workers", "driver")
#: Gateways the driver reads for under ``read: auto``: as many as this, all on this
#: machine.  Its reading then overlaps their start-up, and it keeps up with them.
DRIVER_READS_FOR = 2
ON_ERROR = ("fail", "record", "skip")
TASK_KEYS = ("name", "options", "steps", "module")
OUTPUT_KEYS = ("path", "format", "overwrite", "top")
FORMATS = ("jsonl", "conll", "tagged", "tree", "text", "conllu", "vrt", "tsv", "json")
#: The formats of a count's merged result (tsv is also a table of other tasks' tokens).
COUNT_FORMATS = ("json", "tsv")
#: The formats of the other built-in tasks.
ITEM_FORMATS = ("jsonl", "conll", "tagged", "tree", "text", "conllu", "vrt", "tsv")
TASK_NAMES = (*FAMILIES, "module")

#: Output format -> the record field it needs (what each step adds is the remote
#: pipeline's ``ADDS``).
NEEDS = {"conll": "iob", "tagged": "tags", "tree": "tree"}

#: A kind of item, as a message names it.
CARRIES = {"text": "texts", "tokens": "tokens", "tagged": "tagged tokens"}
#: What to use instead of a single task that cannot take the items, by what it needs.
TASK_INSTEAD = {"tokens": "a pipeline with a tokenize step first",
                "tagged": "a pipeline with a tag step before chunk"}
#: How to change a pipeline whose first step cannot take the items.
PIPELINE_INSTEAD = {"text": "drop the tokenize step", "tokens": "put a tokenize step first",
                    "tagged": "put a tag step before chunk"}


class JobError(ConfigError):
    """A bad job file; the message starts with the file's path and the key."""


@contextlib.contextmanager
def in_job(path: str) -> Iterator[None]:
    """Name the job file ``path`` first in what is raised inside: a
    :class:`ConfigError` becomes a :class:`JobError`, a :class:`ResourceMissing`
    names the file before the key that asked for the resource."""
    try:
        yield
    except JobError:
        raise
    except ConfigError as exc:
        raise JobError(f"{path}: {exc}") from None
    except ResourceMissing as exc:
        raise exc.within(path) from None


@dataclass(frozen=True)
class TaskSpec:
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    steps: tuple[Mapping[str, Any], ...] = ()
    module: str | None = None

    @property
    def step_names(self) -> tuple[str, ...]:
        if self.name == "pipeline":
            return tuple(str(s.get("name")) for s in self.steps)
        return (self.name,)

    @property
    def counts(self) -> bool:
        """Whether the task counts (a count, or a pipeline whose last step is one):
        its output is the merged counts, not a line per item."""
        names = self.step_names
        return bool(names) and names[-1] == "count"

    @property
    def count_options(self) -> Mapping[str, Any]:
        """The count step's options as the job gives them (before checking)."""
        if self.name == "pipeline":
            options = self.steps[-1].get("options") if self.steps else None
            return options if isinstance(options, Mapping) else {}
        return self.options


@dataclass(frozen=True)
class OutputSpec:
    path: str
    format: str = "jsonl"
    overwrite: bool = False
    #: A count's output keeps the N most frequent (per condition), or the N best
    #: collocations; None keeps them all.
    top: int | None = None


@dataclass(frozen=True)
class Job:
    """A validated job: what to read, what to run, where, and where to write.

    ``specs`` holds the gateways of ``specs`` and ``hosts_file`` together, and the
    job's ``min_gateways``; ``allow_insecure_socket`` applies to specs given later
    (``--specs``) too.
    """

    file: str
    corpus: CorpusSpec
    task: TaskSpec
    specs: GatewaySpecs
    batch_size: int | None  # None: automatic
    timeout: float | None
    output: OutputSpec
    on_error: OnError = OnError.FAIL
    max_restarts: int = MAX_RESTARTS  # per gateway
    allow_insecure_socket: bool = False
    #: ``auto``, ``workers`` (shards of the corpus's bytes, where its reader allows)
    #: or ``driver``.
    read: str = "auto"
    #: Where the job runs on Dask instead of execnet gateways (``dask:``).
    dask: DaskTarget | None = None

    def with_overrides(self, **changes: Any) -> Job:
        return replace(self, **changes)


def load_job(path: str) -> Job:
    """Read and validate a job file.

    Raises :class:`JobError` for anything wrong with it, including a missing file.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise JobError(f"{path}: no such job file") from None
    except OSError as exc:
        raise JobError(f"{path}: cannot read the job file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JobError(f"{path}: not valid UTF-8 (byte {raw[exc.start]:#x} at offset "
                       f"{exc.start})") from None
    try:
        data = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader
    except DuplicateKey as exc:
        raise JobError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise JobError(f"{path}: not valid YAML{where}: {problem}") from None
    with in_job(path):
        return parse_job(data, path)


class DuplicateKey(ConfigError):
    """A key given twice in one YAML mapping."""


class StrictLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, refusing a key given twice in one mapping (where
    PyYAML keeps the last) with :class:`DuplicateKey` naming the key and its lines.

    Keys a merge (``<<: *defaults``) brings in may be overridden, as YAML intends.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        self._unique_keys(node, "", set())
        return super().construct_document(node)

    def _unique_keys(self, node: yaml.Node, path: str, seen: set[int]) -> None:
        if id(node) in seen:  # an alias of a node checked already (or a cycle)
            return
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._unique_keys(item, f"{path}[{index}]", seen)
        if not isinstance(node, yaml.MappingNode):
            return
        marks: dict[Any, yaml.Mark] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._unique_keys(value_node, path, seen)
                continue
            key: Any = (self.construct_object(key_node, deep=True)
                        if isinstance(key_node, yaml.ScalarNode) else None)
            where = f"{path}.{key}" if path else str(key)
            if key is not None and key in marks:
                twice = _places(marks[key], key_node.start_mark)
                raise DuplicateKey(f"{where}: given twice, {twice}; a key may appear only once "
                                   f"in a mapping")
            if key is not None:
                marks[key] = key_node.start_mark
            self._unique_keys(value_node, where, seen)


def _places(first: yaml.Mark, second: yaml.Mark) -> str:
    if first.line == second.line:
        return f"on line {first.line + 1} (columns {first.column + 1} and {second.column + 1})"
    return f"at lines {first.line + 1} and {second.line + 1}"


def parse_job(data: Any, path: str) -> Job:
    """Validate parsed YAML; raises :class:`ConfigError` naming the key."""
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping of {', '.join(TOP_KEYS)}, "
                          f"not {_kind(data)}")
    reject_unknown_keys(data, TOP_KEYS, "")
    for key in ("corpus", "task", "output"):
        if key not in data:
            raise ConfigError(f"{key}: missing; a job needs corpus, task and output")
    base_dir = os.path.dirname(os.path.abspath(path))
    corpus = parse_corpus(data["corpus"], "corpus", base_dir)
    task = parse_task(data["task"])
    if task.name == "module" and corpus.view is None:
        views = FORMAT_VIEWS[corpus.format] if corpus.format else VIEWS
        raise ConfigError(f"corpus.view: required for task module, which takes any items; "
                          f"one of {', '.join(views)}")
    allow_socket = data.get("allow_insecure_socket", False)
    if not isinstance(allow_socket, bool):
        raise ConfigError(f"allow_insecure_socket: expected true or false, not {allow_socket!r}")
    specs = parse_gateways(data, base_dir, allow_socket)
    dask = None
    if "dask" in data:
        both = [key for key in GATEWAY_KEYS if key in data]
        if both:
            raise ConfigError(f"dask: a job runs either on Dask or on execnet gateways; "
                              f"drop {' and '.join(both)}, or dask")
        dask = parse_target(data["dask"], base_dir)
    output = parse_output(data["output"], task)
    return Job(
        file=path,
        corpus=corpus,
        task=task,
        specs=specs,
        batch_size=check_batch_size(data.get("batch_size", "auto")),
        timeout=check_timeout(data.get("timeout")),
        output=output,
        on_error=_on_error(data.get("on_error", "fail"), output),
        max_restarts=check_max_restarts(data.get("max_restarts", MAX_RESTARTS)),
        allow_insecure_socket=allow_socket,
        read=_read(data.get("read", "auto")),
        dask=dask,
    )


def _read(value: Any) -> str:
    if value not in READ:
        raise ConfigError(f"read: {value!r} is not one of {', '.join(READ)}"
                          f"{did_you_mean(str(value), READ)}")
    return str(value)


def parse_gateways(data: dict, base_dir: str, allow_insecure_socket: bool) -> GatewaySpecs:
    """The job's gateways: ``specs`` (default one popen per core, unless a
    ``hosts_file`` is given), then the hosts file's, at least ``min_gateways`` of
    which must start.  Raises :class:`ConfigError` naming the key."""
    entries: list[Any] = []
    hosts_file = data.get("hosts_file")
    if hosts_file is not None:
        if not isinstance(hosts_file, str) or not hosts_file:
            raise ConfigError(f"hosts_file: expected a file name, not {_kind(hosts_file)}")
        try:
            entries = read_hosts_file(os.path.join(base_dir, hosts_file), allow_insecure_socket)
        except ConfigError as exc:
            raise ConfigError(f"hosts_file: {exc}") from None
    listed = _spec_list(data.get("specs"))
    try:
        if listed is None:
            specs = parse_specs(entries or None, allow_insecure_socket=allow_insecure_socket)
        else:
            listed = [listed] if isinstance(listed, str) else listed
            specs = parse_specs([*listed, *entries], allow_insecure_socket=allow_insecure_socket)
    except ConfigError as exc:
        raise ConfigError(f"specs: {exc}") from None
    return with_min_gateways(specs, data.get("min_gateways"))


def parse_task(value: Any) -> TaskSpec:
    if not isinstance(value, dict):
        raise ConfigError(f"task: expected a mapping with name and options, not {_kind(value)}")
    reject_unknown_keys(value, TASK_KEYS, "task.")
    name = value.get("name")
    if name not in TASK_NAMES:
        raise ConfigError(f"task.name: {name!r} is not one of {', '.join(TASK_NAMES)}"
                          + (did_you_mean(name, TASK_NAMES) if isinstance(name, str) else ""))
    options = value.get("options") or {}
    if not isinstance(options, dict):
        raise ConfigError(f"task.options: expected a mapping, not {_kind(options)}")
    steps = value.get("steps")
    if (name == "pipeline") != (steps is not None):
        raise ConfigError("task.steps: give steps for a pipeline, and only for a pipeline")
    module = value.get("module")
    if (name == "module") != (module is not None):
        raise ConfigError("task.module: give module for task module, and only for it")
    if module is not None and not isinstance(module, str):
        raise ConfigError(f"task.module: expected a dotted module name, not {_kind(module)}")
    if steps is not None and not isinstance(steps, list):
        raise ConfigError(f"task.steps: expected a list of steps, not {_kind(steps)}")
    return TaskSpec(name, options, tuple(steps or ()), module)


def task_needs(task: TaskSpec) -> str | None:
    """What a task's items must carry, to choose the view a job gives none of:
    ``text``, ``tokens`` or ``tagged`` -- tagged also for a count of tags that no
    step before it gives; None for a module, which takes anything."""
    if task.name == "module":
        return None
    if task.name == "pipeline":
        named = [s.get("name") if isinstance(s, dict) else None for s in task.steps]
        names = [n for n in named if isinstance(n, str) and n in FAMILIES and n != "pipeline"]
        if not names or len(names) != len(named):
            return "tokens"  # malformed steps: prepare_task names what is wrong
        needs = input_need(names)[1]
    else:
        names = [task.name]
        needs = family(task.name).INPUT
    if needs == "tokens" and task.counts and "tag" not in names:
        from .tasks.count import UNIT_FIELDS  # the registry imports task modules lazily

        options = task.count_options
        if any(UNIT_FIELDS.get(str(options.get(key))) == "tags"
               for key in ("of", "condition", "sample")):
            return "tagged"
    return needs


def view_named(spec: CorpusSpec) -> str:
    """``corpus.view sents`` as a message names the view, saying it was chosen when
    the job gave none."""
    chosen = " (chosen: the job gives none)" if spec.view_chosen else ""
    return f"{spec.where}.view {spec.view}{chosen}"


def check_input(task: TaskSpec, corpus: Corpus) -> None:
    """Refuse a task whose first step cannot take the corpus's items: a chunk step
    without tags, tokenize on tokens, tag, stem or lemmatize on texts.

    A user's module takes what it takes, and a pipeline whose steps are malformed is
    left to :func:`prepare_task` to name.  Raises :class:`ConfigError` naming the
    step, the view and what would work.
    """
    if task.name == "module":
        return
    if task.name == "pipeline":
        named = [s.get("name") if isinstance(s, dict) else None for s in task.steps]
        names = [n for n in named if isinstance(n, str) and n in FAMILIES and n != "pipeline"]
        if not names or len(names) != len(named):
            return
        index, needs = input_need(names)
        key, name, whose = f"task.steps[{index}].name", names[index], "pipeline"
    else:
        key, name, whose = "task.name", task.name, "task"
        needs = family(task.name).INPUT
    if corpus.kind in TAKES[needs]:
        if task.counts:
            _check_count_input(task, corpus)
        return
    spec = corpus.spec
    gives = "tokens without tags" if needs == "tagged" else CARRIES[corpus.kind]
    offered = corpus.views()
    views = fitting(offered, needs)
    uses = [f"view {_or(views)}"] if views else []
    if whose == "task" and needs in TASK_INSTEAD:
        uses.append(TASK_INSTEAD[needs])
    ways = [f"use {', or '.join(uses)}"] if uses else []
    if whose == "pipeline":
        ways.append(PIPELINE_INSTEAD[needs])
    if not ways:
        offers = f"{spec.name} offers" if spec.name else f"{spec.format} files offer"
        ways.append(f"{offers} no view with {CARRIES[needs]}")
    raise ConfigError(f"{key}: {name} needs {CARRIES[needs]}, but {view_named(spec)} "
                      f"gives {gives}; {', or '.join(ways)}")


def _check_count_input(task: TaskSpec, corpus: Corpus) -> None:
    """Refuse a count of units that nothing gives: tags without a tagged view or a
    tag step, stems without a stem step, lemmas without a lemmatize step."""
    from .tasks.count import UNIT_FIELDS  # the registry imports task modules lazily

    options = task.count_options
    names = task.step_names[:-1]
    given = {"tokens"} | {f for name in names for f in ADDS.get(name, ())}
    if corpus.kind == "tagged" and "tokenize" not in names:
        given.add("tags")
    where = (f"task.steps[{len(task.steps) - 1}].options" if task.name == "pipeline"
             else "task.options")
    for key in ("of", "condition", "sample"):
        unit = options.get(key)
        if unit not in UNIT_FIELDS or UNIT_FIELDS[unit] in given:
            continue
        step = {"tags": "tag", "stems": "stem", "lemmas": "lemmatize"}[UNIT_FIELDS[unit]]
        tagged = fitting(corpus.views(), "tagged")
        ways = [f"a pipeline with a {step} step before count"]
        if step == "tag" and tagged:
            ways.insert(0, f"view {_or(tagged)}")
        raise ConfigError(f"{where}.{key}: {unit} needs {UNIT_FIELDS[unit]}, which "
                          f"{view_named(corpus.spec)}"
                          f"{' and the steps before count' if names else ''} do not give; "
                          f"use {', or '.join(ways)}")


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def prepare_task(spec: TaskSpec) -> Task:
    """Load what the task's workers need; raises ConfigError / ResourceMissing."""
    if spec.name == "module":
        return Task("module", spec.module or "", dict(spec.options))
    if spec.name == "pipeline":
        return prepare("pipeline", {"steps": list(spec.steps)}, where="task")
    return prepare(spec.name, spec.options, where="task.options")


def parse_output(value: Any, task: TaskSpec) -> OutputSpec:
    if not isinstance(value, dict):
        raise ConfigError(f"output: expected a mapping with path and format, not {_kind(value)}")
    reject_unknown_keys(value, OUTPUT_KEYS, "output.")
    path = value.get("path")
    if not isinstance(path, str) or not path:
        raise ConfigError("output.path: give the file to write, e.g. out/result.jsonl")
    fmt = value.get("format", "json" if task.counts else "jsonl")
    if fmt not in FORMATS:
        raise ConfigError(f"output.format: {fmt!r} is not one of {', '.join(FORMATS)}"
                          + (did_you_mean(fmt, FORMATS) if isinstance(fmt, str) else ""))
    overwrite = value.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise ConfigError(f"output.overwrite: expected true or false, not {overwrite!r}")
    if fmt in NEEDS and task.name != "module" and NEEDS[fmt] not in record_fields(task):
        raise ConfigError(f"output.format: {fmt} needs {NEEDS[fmt]}, which task "
                          f"{task.name} does not produce; use jsonl or text")
    if task.name == "module" and fmt not in ("jsonl", "text"):
        raise ConfigError(f"output.format: a module task writes jsonl or text, not {fmt}")
    if task.counts and fmt not in COUNT_FORMATS:
        raise ConfigError(f"output.format: a count writes its merged counts as json or tsv, "
                          f"not {fmt}")
    if not task.counts and fmt not in ITEM_FORMATS:
        raise ConfigError(f"output.format: {fmt} holds a count's merged counts; task "
                          f"{task.name} writes {_or(list(ITEM_FORMATS))}")
    top = value.get("top")
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ConfigError(f"output.top: expected a positive integer, not {top!r}")
        if not task.counts:
            raise ConfigError("output.top: only a count's output keeps the top N; drop top")
    return OutputSpec(path, fmt, overwrite, top)


def _spec_list(value: Any) -> Any:
    if value is None or isinstance(value, (list, str)):
        return value
    raise ConfigError(f"specs: expected a list such as [[popen, 2]], not {_kind(value)}")


def record_fields(task: TaskSpec) -> set[str]:
    """The fields a built-in task's records carry: those its steps add, and the tags
    of tagged input a step takes (chunk)."""
    names = [n for n in task.step_names if n in ADDS]
    fields = {field for name in names for field in ADDS[name]}
    if any(n in FAMILIES and family(n).INPUT == "tagged" for n in names):
        fields.add("tags")
    return fields


def _on_error(value: Any, output: OutputSpec) -> OnError:
    policy = check_on_error(value)
    if policy is OnError.RECORD and output.format != "jsonl":
        listed = ("named in the run's summary" if output.path == "-"
                  else f"listed in {output.path}.errors.jsonl")
        raise ConfigError(f"on_error: record puts a JSON error record in a failed item's "
                          f"place, which only output.format jsonl can hold; use skip with "
                          f"{output.format} (failed items are {listed})")
    return policy


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", type(None): "nothing"}.get(
        type(value), type(value).__name__)


__all__ = ["Job", "JobError", "OutputSpec", "ResourceMissing", "TaskSpec", "check_input",
           "in_job", "load_job", "parse_job", "prepare_task", "task_needs"]
