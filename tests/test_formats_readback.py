"""The line formats read back with the NLTK readers the README names, whatever the tokens.

nps_chat posts go through the tweet tokenizer, the perceptron and a chunk grammar on
real gateways, and each format is read back and compared with the same run's JSONL.
Generated tokens and tags -- brackets, slashes, whitespace of every kind, empty
strings -- go through the workers' own line formatting and back.  What a reader gives
back is the escaped form the README documents, spelled out again here.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import nltk.data
import pytest
from nltk.chunk import tree2conlltags
from nltk.corpus import nps_chat
from nltk.corpus.reader import (
    BracketParseCorpusReader,
    ConllChunkCorpusReader,
    TaggedCorpusReader,
)
from nltk.tokenize import LineTokenizer, RegexpTokenizer
from nltk.tree import Tree

from nlp_parallel.cli import main
from nlp_parallel.modules import RemoteModule
from nlp_parallel.tasks import prepare
from nlp_parallel.worker import Worker

GRAMMAR = r"NP: {<DT|PRP\$>?<JJ.*>*<NN.*>+}"

# -- the escapes the README documents ------------------------------------------------


def spaced(text: str) -> str:
    """Every whitespace character (what ``\\s`` and ``str.split()`` split on) is ␣."""
    return re.sub(r"\s", "\u2423", text)


def column(text: str) -> str:
    """A conll or text field: whitespace ␣, an empty one ``_``."""
    return spaced(text) or "_"


def bracketed(text: str) -> str:
    """A tree's tag or label: as a column, with ( and ) as -LRB- and -RRB-."""
    return column(text).replace("(", "-LRB-").replace(")", "-RRB-")


def bracketed_word(text: str) -> str:
    """A tree's word: as a tag, and a final backslash -BSL-."""
    word = bracketed(text)
    return word[:-1] + "-BSL-" if word.endswith("\\") else word


def tagged_tag(text: str) -> str:
    """A tag as TaggedCorpusReader gives it back: ``/`` is -SLASH-, then upper-cased
    (``str2tuple`` upper-cases tags)."""
    return spaced(text).replace("/", "-SLASH-").upper()


# -- reading back --------------------------------------------------------------------


def read_trees(directory: Path, name: str) -> list[list[tuple[str, str, str]]]:
    """Each tree as (word, tag, IOB) rows; also checks ``tagged_sents`` agrees."""
    reader = BracketParseCorpusReader(str(directory), [name])
    trees = list(reader.parsed_sents())
    assert [list(s) for s in reader.tagged_sents()] == [t.pos() for t in trees]
    return [tree2conlltags(chunk_tree(t)) for t in trees]


def chunk_tree(tree: Tree) -> Tree:
    """A read-back tree with (TAG word) preterminals as a chunk tree of (word, tag) leaves."""
    return Tree(tree.label(), [(c[0], c.label()) if c.height() == 2 else chunk_tree(c)
                               for c in tree])


def read_tagged(directory: Path, name: str) -> list[list[tuple[str, str]]]:
    """With both line sentence tokenizers: README's LineTokenizer and the reader's default."""
    sents = [list(s) for s in TaggedCorpusReader(
        str(directory), [name], sent_tokenizer=LineTokenizer()).tagged_sents()]
    default = TaggedCorpusReader(str(directory), [name],
                                 sent_tokenizer=RegexpTokenizer("\n", gaps=True))
    assert [list(s) for s in default.tagged_sents()] == sents
    return sents


def read_conll(directory: Path, name: str) -> list[list[tuple[str, str, str]]]:
    reader = ConllChunkCorpusReader(str(directory), [name], ("NP",))
    sents = [list(s) for s in reader.iob_sents()]
    assert len(reader.chunked_sents()) == len(sents)
    return sents


def expected_tree(record: dict) -> list[tuple[str, str, str]]:
    return [(bracketed_word(w), bracketed(t), iob)
            for w, t, iob in zip(record["tokens"], record["tags"], record["iob"])]


def expected_tagged(record: dict) -> list[tuple[str, str]]:
    return [(spaced(w), tagged_tag(t)) for w, t in zip(record["tokens"], record["tags"])]


def expected_conll(record: dict) -> list[tuple[str, str, str]]:
    return [(column(w), column(t), column(iob))
            for w, t, iob in zip(record["tokens"], record["tags"], record["iob"])]


READERS = {
    "tree": (read_trees, expected_tree),
    "tagged": (read_tagged, expected_tagged),
    "conll": (read_conll, expected_conll),
}

# -- nps_chat through the tweet tokenizer, on real gateways ---------------------------

NPS_JOB = """\
corpus: {{path: posts.jsonl, format: jsonl, view: raw}}
task:
  name: pipeline
  steps:
    - {{name: tokenize, options: {{sentences: none, words: tweet}}}}
    - {{name: tag}}
    - {{name: chunk, options: {{grammar: '{grammar}'}}}}
specs: [[popen, 2]]
output: {{path: {output}, format: {format}}}
"""


def run_posts(directory: Path, fmt: str) -> Path:
    out = directory / f"chunked.{fmt}"
    job = directory / f"{fmt}.yaml"
    job.write_text(NPS_JOB.format(grammar=GRAMMAR, output=out, format=fmt), encoding="utf-8")
    assert main(["run", str(job), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def nps_chat_run(tmp_path_factory):
    """Every nps_chat post as one item, the JSONL output of the job, and a directory
    NLTK's readers may read (authorized as a user would)."""
    directory = tmp_path_factory.mktemp("nps_chat")
    with open(directory / "posts.jsonl", "w", encoding="utf-8") as f:
        for post in nps_chat.xml_posts():
            f.write(json.dumps({"text": post.text}, ensure_ascii=False) + "\n")
    records = [json.loads(line) for line in
               run_posts(directory, "jsonl").read_text(encoding="utf-8").splitlines()]
    nltk.data.path.append(str(directory))
    yield directory, records
    nltk.data.path.remove(str(directory))


@pytest.mark.parametrize("fmt", ["tree", "tagged", "conll"])
def test_nps_chat_posts_read_back(nps_chat_run, fmt, capsys):
    directory, records = nps_chat_run
    assert len(records) == 10_567
    sentences = [sentence for r in records for sentence in r["sentences"]]
    assert len(sentences) == 10_567  # sentences: none: one per post, none empty
    tokens = {t for s in sentences for t in s["tokens"]}
    assert {"(", ")", ":)", ". .", "/"} <= tokens  # what broke the formats
    assert {"(", ")"} <= {t for s in sentences for t in s["tags"]}

    out = run_posts(directory, fmt)
    read, expected = READERS[fmt]
    got = read(directory, out.name)
    assert len(got) == len(sentences)
    assert got == [expected(s) for s in sentences]
    if fmt != "conll":  # one sentence per line
        assert len(out.read_text(encoding="utf-8").splitlines()) == len(sentences)


# -- generated tokens through the workers' formatting ----------------------------------

TOKENS = [
    "(", ")", ":)", ":-(", "(555) 123-4567", "((", "x)", "(x", "-LRB-", "a b", ". . .",
    "a\tb", "a\nb", "a\r\nb", "\r", "\x0b\x0c", "\x1c", "\x85", "\xa0", "\u2028", "\u3000",
    " ", "", "/", "//", "a/b", "a/", "/b", "1/2", "_", "\u2423", "-DOCSTART-", "\\", "S",
    "NP", "B-NP", "#", "é", "\U0001F642", "word", ":\\", "a\\\\", "\\)", "\\(", "\\/",
]
TAGS = [
    "NN", "/", "N/V", "x/", "(", ")", "-LRB-", "", " ", "a b", "\n", "NN\tS", "\u2029",
    "nn", "PRP$", ":", "_", "-NONE-", "-DOCSTART-", "\\", "N\\",
]


def iob_tags(rng: random.Random, n: int) -> list[str]:
    tags: list[str] = []
    for _ in range(n):
        choices = ["O", "B-NP", "I-NP"] if tags and tags[-1] != "O" else ["O", "B-NP"]
        tags.append(rng.choice(choices))
    return tags


def tree_data(tokens: list[str], tags: list[str], iob: list[str]) -> list:
    """The chunk tree as the chunk task sends it: [label, child, ...], leaves [word, tag]."""
    tree: list = ["S"]
    for word, tag, chunk in zip(tokens, tags, iob):
        if chunk == "O":
            tree.append([word, tag])
        elif chunk == "B-NP":
            tree.append(["NP", [word, tag]])
        else:
            tree[-1].append([word, tag])
    return tree


def record(tokens: list[str], tags: list[str], rng: random.Random) -> dict:
    iob = iob_tags(rng, len(tokens))
    return {"tokens": tokens, "tags": tags, "iob": iob, "tree": tree_data(tokens, tags, iob)}


def nasty_sentences() -> list[dict]:
    """Every token and every tag alone, each token first in a sentence, and random mixes."""
    rng = random.Random(5)
    sents = [record([t], ["NN"], rng) for t in TOKENS]
    sents += [record(["w"], [t], rng) for t in TAGS]
    sents += [record([t, "w", t], [tag, tag, "NN"], rng) for t in TOKENS for tag in TAGS[:3]]
    sents += [record(["w", "-DOCSTART-"], ["NN", "NN"], rng)]
    for _ in range(300):
        n = rng.randint(1, 8)
        sents.append(record(rng.choices(TOKENS, k=n), rng.choices(TAGS, k=n), rng))
    return sents


def items_of(sents: list[dict]) -> list[list[dict]]:
    """Sentences grouped into items as a tokenize pipeline returns them: one, several,
    or none (a text without sentences)."""
    rng = random.Random(7)
    items: list[list[dict]] = []
    while sents:
        n = rng.choice([0, 1, 1, 1, 2, 3])
        items.append(sents[:n])
        sents = sents[n:]
    return items


def written(fmt: str, items: list[list[dict]], steps: list[dict]) -> str:
    """The text a worker sends for ``items`` (each a list of sentence records): the
    pipeline's own format and the worker's own line assembly, with a ``process`` that
    returns the records given."""
    task = prepare("pipeline", {"steps": steps})
    module = RemoteModule.resolve(task.module)
    options = {**task.options, "output": {"format": fmt, "index_base": 0}}
    worker = Worker()
    assert worker.setup(module.name, "text", module.source, module.filename,
                        json.dumps(options)) == ("ready", {})
    worker.process = lambda sentences: sentences
    reply, fields = worker.batch(0, 0, json.dumps(items))
    assert reply == "done", fields
    return fields["data"]


CHUNK_STEPS = [
    {"name": "tokenize", "options": {"sentences": "none", "words": "whitespace"}},
    {"name": "tag", "options": {"model": "chain", "chain": [{"default": "NN"}]}},
    {"name": "chunk", "options": {"grammar": "NP: {<NN>+}"}},
]


@pytest.fixture
def readable(tmp_path):
    nltk.data.path.append(str(tmp_path))
    yield tmp_path
    nltk.data.path.remove(str(tmp_path))


@pytest.mark.parametrize("fmt", ["tree", "tagged", "conll"])
def test_generated_tokens_read_back(readable, fmt):
    """Every sentence reads back with its tokens and tags escaped as documented, items
    without sentences write nothing, and an empty sentence takes its line."""
    sents = nasty_sentences()
    empty = record([], [], random.Random(0))
    items = items_of(sents[:200]) + [[empty]] + items_of(sents[200:])
    out = readable / f"nasty.{fmt}"
    out.write_text(written(fmt, items, CHUNK_STEPS), encoding="utf-8")

    read, expected = READERS[fmt]
    got = read(readable, out.name)
    # The empty sentence, written (S ), an empty line or nothing, is skipped.
    assert got == [expected(s) for s in sents]
    if fmt != "conll":  # one line per sentence, an empty sentence included
        assert len(out.read_text(encoding="utf-8").splitlines()) == len(sents) + 1


def test_tree_labels_read_back(readable):
    tree = ["S (x)", ["N P", ["a", "DT"]], ["", ["b", "NN"]], ["\t", ["c", "NN"]], ["d", "NN"]]
    record = {"tokens": ["a", "b", "c", "d"], "tags": ["DT", "NN", "NN", "NN"],
              "iob": ["B-N P", "B-", "B-\t", "O"], "tree": tree}
    (readable / "labels.mrg").write_text(written("tree", [[record]], CHUNK_STEPS),
                                         encoding="utf-8")
    [got] = BracketParseCorpusReader(str(readable), ["labels.mrg"]).parsed_sents()
    assert [got.label()] + [c.label() for c in got] == [
        "S␣-LRB-x-RRB-", "N␣P", "_", "␣", "NN"]


def test_generated_tokens_as_text_split_back(readable):
    """Each sentence is a line, and ``str.split()`` gives back its escaped tokens."""
    sents = [{"tokens": s["tokens"]} for s in nasty_sentences()] + [{"tokens": []}]
    text = written("text", items_of(sents), CHUNK_STEPS[:1])
    lines = text.split("\n")
    assert lines.pop() == ""  # the last line ends with a newline
    assert [line.split() for line in lines] == [[column(t) for t in s["tokens"]] for s in sents]


# -- text: one line per sentence -----------------------------------------------------

TEXTS = ["Hello there. Two sentences\nhere.", "", "   ", "\n\n", "One more.", " \t",
         "(a b) c.", "End."]


@pytest.mark.parametrize("sentences", ["punkt", "lines", "none"])
def test_text_has_a_line_per_sentence_and_none_for_an_empty_text(tmp_path, capsys, sentences):
    """Line N of text output is sentence N of the JSONL output: a text without
    sentences adds no line; under ``sentences: none`` every text is one sentence, so
    line N is item N, an empty line for an empty text."""
    (tmp_path / "texts.jsonl").write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in TEXTS), encoding="utf-8")
    outputs = {}
    for fmt in ("jsonl", "text"):
        out = tmp_path / f"out.{fmt}"
        job = tmp_path / f"{fmt}.yaml"
        job.write_text(
            "corpus: {path: texts.jsonl, format: jsonl, view: raw}\n"
            "task: {name: tokenize, options: {sentences: %s, words: whitespace}}\n"
            "specs: [[popen, 1]]\n"
            "output: {path: %s, format: %s}\n" % (sentences, out, fmt), encoding="utf-8")
        assert main(["run", str(job), "--quiet"]) == 0
        outputs[fmt] = out.read_text(encoding="utf-8")

    records = [json.loads(line) for line in outputs["jsonl"].splitlines()]
    sents = [s for r in records for s in r["sentences"]]
    lines = outputs["text"].split("\n")
    assert lines.pop() == ""
    assert len(lines) == len(sents)
    assert lines == [" ".join(s) for s in sents]
    if sentences == "none":
        assert len(lines) == len(TEXTS) and lines[TEXTS.index("")] == ""
    else:
        assert any(not r["sentences"] for r in records)
