"""``nlp_parallel.map`` / ``imap`` with a plain top-level function: its source is
shipped, as execnet's ``remote_exec`` ships a function's, and it runs on real
gateways; what its source alone cannot run is refused before anything starts."""

from __future__ import annotations

import functools
import inspect
import re

import pytest
from nltk.stem import PorterStemmer

import nlp_parallel
from nlp_parallel import ConfigError, GatewayPool, RemoteTaskError

SUFFIXES = ("ing", "s")


# --- functions the workers can run: each carries what it uses ---------------------------


def doubled(item: int) -> int:
    return item * 2


def porter_stems(sentence: list[str]) -> list[str]:
    from nltk.stem import PorterStemmer

    stemmer = PorterStemmer()
    return [stemmer.stem(word) for word in sentence]


def longest_words(text: str, keep: int = 2) -> list[str]:
    import re

    def length(word: str) -> int:  # a function of its own is fine
        return len(word)

    words = sorted({w for w in re.findall(r"\w+", text)}, key=lambda w: (-length(w), w))
    return words[:keep]


def inverse(item: float) -> float:
    return 1 / item


def factorial(n: int) -> int:
    return 1 if n < 2 else n * factorial(n - 1)  # itself by name: shipped with it


# --- functions refused ------------------------------------------------------------------


def uses_a_module(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def uses_a_constant(word: str) -> bool:
    return word.endswith(SUFFIXES)


def uses_one_as_default(word: str, suffixes: tuple[str, ...] = SUFFIXES) -> bool:
    return word.endswith(suffixes)


@functools.lru_cache
def decorated(word: str) -> str:
    return word


def setup(options: object) -> None:
    return None


def make_closure():
    suffix = "s"

    def closure(word: str) -> str:
        return word + suffix

    return closure


def make_nested():
    def nested(word: str) -> str:
        return word

    return nested


class Holder:
    def method(self, word: str) -> str:
        return word


@pytest.fixture(scope="module")
def pool():
    with GatewayPool([("popen", 2)]) as started:
        yield started


def test_a_function_runs_on_the_workers_in_order(pool):
    assert nlp_parallel.map(doubled, range(200), pool=pool) == [i * 2 for i in range(200)]
    texts = ["a bb ccc dddd", "running dogs ran", ""]
    assert list(nlp_parallel.imap(longest_words, texts, pool=pool)) == [
        longest_words(text) for text in texts]
    assert nlp_parallel.map(factorial, [0, 5, 10], pool=pool) == [1, 120, 3628800]


def test_a_function_that_imports_nltk_equals_serial_nltk(pool):
    sentences = [["running", "dogs", "flies"], ["caresses", "ponies"], []]
    stemmer = PorterStemmer()
    assert nlp_parallel.map(porter_stems, sentences, pool=pool) == [
        [stemmer.stem(word) for word in sentence] for sentence in sentences]


def test_a_failure_points_at_the_functions_own_file_and_line(pool):
    with pytest.raises(RemoteTaskError) as caught:
        nlp_parallel.map(inverse, [1, 2, 0, 4], pool=pool)
    error = caught.value
    assert error.index == 2 and error.error_type == "ZeroDivisionError"
    line = inspect.getsourcelines(inverse)[1] + 1
    assert f'File "{__file__}", line {line}, in inverse' in error.remote_traceback
    failed = nlp_parallel.map(inverse, [1, 0], pool=pool, on_error="record")
    assert failed[0] == 1.0 and failed[1].error_type == "ZeroDivisionError"


@pytest.mark.parametrize("function, message", [
    (lambda word: word,
     "a lambda cannot be shipped: only its line's source is known; define a top-level "
     "function (def f(item): ...) and pass that"),
    (make_closure(),
     "function make_closure.<locals>.closure: a closure over suffix of the function it is "
     "defined in, which the workers do not have; pass a top-level function"),
    (make_nested(),
     "function make_nested.<locals>.nested: defined inside another function; define it at "
     "the top level of a module, so that its source alone can run it"),
    (Holder().method, "expected a module, a dotted module name or a top-level function"),
    (Holder.method, "function Holder.method: a method; pass a top-level function"),
    (uses_a_module,
     "function uses_a_module: uses re, a global of its module, which the workers do not "
     "have: only the function's source is shipped; import or define re inside the function"),
    (uses_a_constant, "function uses_a_constant: uses SUFFIXES, a global of its module"),
    (uses_one_as_default, "function uses_one_as_default: uses SUFFIXES, a global of its module"),
    (decorated, "expected a module, a dotted module name or a top-level function"),
    (decorated.__wrapped__,
     "function decorated: decorated (@functools.lru_cache); the workers would run the "
     "decorator's result, not the function: pass an undecorated one"),
    (setup, "function setup: a task module's setup has another meaning; rename the function"),
    (len, "expected a module, a dotted module name or a top-level function, not <built-in "
          "function len>"),
])
def test_what_its_source_alone_cannot_run_is_refused_before_anything_starts(
        function, message, no_orphans):
    for call in (nlp_parallel.map, nlp_parallel.imap):
        with pytest.raises(ConfigError) as caught:
            call(function, ["word"], [("popen", 1)])
        assert str(caught.value).startswith(message), str(caught.value)
    assert no_orphans() == []  # refused before a gateway started
