"""Several tasks in one worker pass: each step's module source arrives in options.

Self-contained (standard library only here; the steps import NLTK).  Options:
``steps``: ``[{name, source, filename, options}, ...]``.
Item: a text (when the first step is tokenize), tokens, or ``[[word, tag], ...]``.
Result: a record ``{"tokens", "tags", "iob", "tree", "stems", "lemmas"}`` with the
fields the steps add -- or, after tokenize, the list of one record per sentence.
"""

import linecache


def load_step(step):
    """Run a step module's source in its own namespace and return its function.

    This repeats the worker's own module loading on purpose: a remote module
    cannot import code from the toolkit.
    """
    source, filename = step["source"], step["filename"]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "nlp_parallel_step_" + step["name"], "__file__": filename}
    exec(compile(source, filename, "exec"), namespace)
    handler = namespace["setup"](step["options"])
    return handler if callable(handler) else namespace["process"]


def tagged(record):
    return [[word, tag] for word, tag in zip(record["tokens"], record["tags"])]


#: Step name -> how it reads and extends a sentence record.
APPLY = {
    "tag": lambda fn, record: record.update(tags=fn(record["tokens"])),
    "chunk": lambda fn, record: record.update(fn(tagged(record))),
    "stem": lambda fn, record: record.update(stems=fn(record["tokens"])),
    "lemmatize": lambda fn, record: record.update(
        lemmas=fn(tagged(record) if "tags" in record else record["tokens"])
    ),
}


def record_of(item):
    if item and not isinstance(item[0], str):
        return {"tokens": [word for word, _ in item], "tags": [tag for _, tag in item]}
    return {"tokens": list(item)}


class Pipeline:
    def __init__(self, options):
        steps = options["steps"]
        self.tokenize = load_step(steps[0]) if steps[0]["name"] == "tokenize" else None
        rest = steps[1:] if self.tokenize is not None else steps
        self.steps = [(APPLY[step["name"]], load_step(step)) for step in rest]

    def run(self, record):
        for apply, fn in self.steps:
            apply(fn, record)
        return record

    def __call__(self, item):
        if self.tokenize is None:
            return self.run(record_of(item))
        return [self.run({"tokens": tokens}) for tokens in self.tokenize(item)]


def setup(options):
    return Pipeline(options)
