"""WordNet lemmatizing in workers that have no NLTK data equals serial NLTK.

WordNet is not installed on every machine that runs these tests, so: its absence
must be a clear ResourceMissing; the whole path (NLTK's WordNet reader on the driver,
morphy in the workers) is checked everywhere against serial NLTK on a miniature
WordNet written in the WordNet file format, unzipped and zipped as NLTK's downloader
installs it; equality on the real WordNet runs where it is installed (the shared
NLTK data has it) and is skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import itertools

import json
import zipfile
from typing import Any

import nltk.corpus
import nltk.data
import pytest
from nltk.corpus import brown, treebank
from nltk.corpus.reader import CorpusReader, WordNetCorpusReader
from nltk.corpus.reader.wordnet import UNIVERSAL_TAG_TO_WN_POS
from nltk.corpus.util import LazyCorpusLoader
from nltk.stem import WordNetLemmatizer

import nlp_parallel
from nlp_parallel.cli import main
from nlp_parallel.errors import ConfigError, ResourceMissing
from nlp_parallel.tasks import lemmatize, prepare

LICENSE = (
    "  1 This software and database is being provided to you, the LICENSEE, by\n"
    "  2 Princeton University.  WordNet 3.0 Copyright 2006 by Princeton University.\n"
)


def index(pos: str, *lemmas: str) -> str:
    """An index file: per lemma, ``lemma pos synset_cnt p_cnt sense_cnt tagsense_cnt offset``."""
    return LICENSE + "".join(f"{lemma} {pos} 1 0 1 0 00001000  \n" for lemma in lemmas)


#: A few lemmas and exceptions per POS in WordNet's own file format.
MINI_WORDNET = {
    "lexnames": "00 adj.all 3\n01 adj.pert 3\n02 adv.all 4\n03 noun.Tops 1\n",
    "data.adj": LICENSE + "00001000 00 a 01 good 0 000 | g\n00002000 00 s 01 great 0 000 | g\n",
    "data.adv": LICENSE,
    "data.noun": LICENSE,
    "data.verb": LICENSE,
    "index.noun": index("n", "book", "church", "dog", "goose", "man", "run", "u", "us", "wolf"),
    "index.verb": index("v", "be", "book", "run", "see"),
    "index.adj": index("a", "good", "great", "happy", "well"),
    "index.adv": index("r", "well"),
    "noun.exc": "geese goose\nmen man\n",
    "verb.exc": "ran run\nsaw see\nwas be\n",
    "adj.exc": "better good well\nhappier happy\n",
    "adv.exc": "best well\nbetter well\n",
    "index.sense": "",
    "cntlist.rev": "",
}
WORDS = (
    "dogs churches geese men us ran Dogs wolves better best greatest happier books booking "
    "seeing was saw running runs well goods"
).split()
#: Penn Treebank and universal tags, including some WordNet has no POS for.
TAGS = ["NNS", "VBD", "JJR", "RBS", "RP", "ADJ", "VERB", "ADV", "NOUN", "NUM", "DT", "X", "."]


def wordnet_installed() -> bool:
    """Whether NLTK finds WordNet, unzipped or zipped: a directory resource is named
    with a trailing slash, the only form NLTK also looks for inside ``wordnet.zip``."""
    try:
        nltk.data.find("corpora/wordnet/")
    except LookupError:
        return False
    return True


def fresh_wordnet(monkeypatch, data: str) -> LazyCorpusLoader:
    """A fresh ``nltk.corpus.wordnet`` loader over the NLTK data directory ``data``,
    for the driver and serial NLTK; the real loader is left untouched."""
    monkeypatch.setattr(nltk.data, "path", [data])
    omw = LazyCorpusLoader("omw-2.0", CorpusReader, r".*/wn-data-.*\.tab", encoding="utf8")
    wordnet = LazyCorpusLoader("wordnet", WordNetCorpusReader, omw)
    monkeypatch.setattr(nltk.corpus, "wordnet", wordnet)  # what WordNetLemmatizer imports
    monkeypatch.setattr(lemmatize, "wordnet", wordnet)
    return wordnet


@pytest.fixture
def mini_wordnet(tmp_path, monkeypatch):
    """The miniature WordNet, unzipped, as ``nltk.corpus.wordnet``."""
    root = tmp_path / "corpora" / "wordnet"
    root.mkdir(parents=True)
    for name, text in MINI_WORDNET.items():
        (root / name).write_text(text, encoding="utf-8")
    return fresh_wordnet(monkeypatch, str(tmp_path))


@pytest.fixture
def zipped_mini_wordnet(tmp_path, monkeypatch):
    """The miniature WordNet as NLTK's downloader installs a package:
    ``corpora/wordnet.zip`` holding ``wordnet/`` and its files."""
    (tmp_path / "corpora").mkdir()
    with zipfile.ZipFile(tmp_path / "corpora" / "wordnet.zip", "w") as z:
        z.writestr("wordnet/", "")
        for name, text in MINI_WORDNET.items():
            z.writestr(f"wordnet/{name}", text)
    return fresh_wordnet(monkeypatch, str(tmp_path))


def run(pool, options: dict[str, Any], items: list[Any]) -> list[Any]:
    task = prepare("lemmatize", options)
    return nlp_parallel.map(task.module, items, pool=pool, options=dict(task.options))


def wordnet_pos(tag: str, default: str = "n") -> str:
    """The mapping the task documents: universal tags by name, Penn tags by first letter."""
    universal = ("ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRON", "PRT", "VERB", "X", ".")
    if tag in universal:
        return UNIVERSAL_TAG_TO_WN_POS.get(tag, default)
    return {"J": "a", "V": "v", "N": "n", "R": "r"}.get(tag[:1], default)


def test_missing_wordnet_names_the_wordnet_package(monkeypatch, tmp_path):
    fresh_wordnet(monkeypatch, str(tmp_path))  # as on a machine without it
    with pytest.raises(ResourceMissing) as info:
        prepare("lemmatize", {"default_pos": "v"})
    assert info.value.package == "wordnet"
    assert "nlp-parallel data install wordnet" in str(info.value)
    assert "omw" not in str(info.value)


@pytest.mark.parametrize(
    "options, key, detail",
    [
        ({"default_pos": "x"}, "default_pos", "'x' is not one of n, v, a, r, s"),
        ({"default_pos": "noun"}, "default_pos", "is not one of"),
        ({"pos_from_tags": "yes"}, "pos_from_tags", "expected true or false"),
        ({"language": "english"}, "language", "unknown option for task lemmatize"),
    ],
)
def test_bad_options_name_their_key(mini_wordnet, options, key, detail):
    with pytest.raises(ConfigError) as info:
        prepare("lemmatize", options)
    message = str(info.value)
    assert message.startswith(f"options.{key}: "), message
    assert detail in message


@pytest.mark.parametrize("default_pos", ["n", "v", "a", "r", "s"])
def test_mini_wordnet_equals_serial(dataless_pool, mini_wordnet, default_pos):
    lemmatizer = WordNetLemmatizer()
    items = [WORDS] + [[[word, tag] for word in WORDS] for tag in TAGS]
    expected = [[lemmatizer.lemmatize(word, default_pos) for word in WORDS]] + [
        [lemmatizer.lemmatize(word, wordnet_pos(tag, default_pos)) for word in WORDS]
        for tag in TAGS
    ]
    assert run(dataless_pool, {"default_pos": default_pos}, items) == expected
    untagged = {"default_pos": default_pos, "pos_from_tags": False}
    assert run(dataless_pool, untagged, items[1:3]) == [expected[0], expected[0]]


def test_zipped_wordnet_is_found_as_nltk_finds_it(dataless_pool, zipped_mini_wordnet):
    """The way NLTK's downloader installs WordNet, and the way NLTK reads it."""
    lemmatizer = WordNetLemmatizer()
    tagged = [[[word, tag] for word in WORDS] for tag in TAGS]
    expected = [[lemmatizer.lemmatize(word, wordnet_pos(tag)) for word in WORDS] for tag in TAGS]
    assert run(dataless_pool, {}, tagged) == expected


def test_mini_wordnet_lemmas_are_morphys(dataless_pool, mini_wordnet):
    words = ["dogs", "geese", "us", "wolves", "Dogs"]
    tagged = [["ran", "VBD"], ["better", "JJR"], ["best", "RBS"], ["greatest", "JJS"],
              ["dogs", "NUM"]]  # fmt: skip
    got = run(dataless_pool, {}, [words, tagged])
    # "us" -> ["us", "u"]: the shortest wins, as in NLTK's doctest
    assert got == [["dog", "goose", "u", "wolf", "Dogs"], ["run", "good", "well", "great", "dog"]]
    # NUM is universal with no WordNet POS: the default, not a noun for its "N"
    assert run(dataless_pool, {"default_pos": "v"}, [[["dogs", "NUM"]]]) == [["dogs"]]


@pytest.mark.skipif(
    not wordnet_installed(),
    reason="WordNet is not installed (nlp-parallel data install wordnet); equality with "
    "serial NLTK on the real WordNet is tested only where it is",
)
def test_equals_serial_wordnet_lemmatizer(dataless_pool):
    """Every tagged sentence of treebank (Penn tags) and every third of brown
    (universal tags), half a million tokens, lemmatized as serial NLTK does and in
    corpus order."""
    lemmatizer = WordNetLemmatizer()
    penn = [[[w, t] for w, t in s] for s in treebank.tagged_sents()]
    universal = [[[w, t] for w, t in s]
                 for s in itertools.islice(brown.tagged_sents(tagset="universal"), 0, None, 3)]
    assert (len(penn), len(universal)) == (3914, 19114)
    tagged = penn + universal
    expected = [[lemmatizer.lemmatize(w, wordnet_pos(t)) for w, t in s] for s in tagged]
    assert run(dataless_pool, {}, tagged) == expected
    words = [[w for w, _ in s] for s in penn]
    assert run(dataless_pool, {"default_pos": "v"}, words) == [
        [lemmatizer.lemmatize(w, "v") for w in s] for s in words
    ]


@pytest.mark.skipif(not wordnet_installed(), reason="WordNet is not installed (nlp-parallel "
                    "data install wordnet); a lemmatize job needs it on the driver")
def test_a_lemmatize_job_runs_on_the_installed_wordnet(tmp_path, capsys):
    out = tmp_path / "lemmas.jsonl"
    job = tmp_path / "job.yaml"
    job.write_text(f"corpus: {{name: treebank, view: tagged_sents, limit: 200}}\n"
                   f"task: {{name: lemmatize}}\nspecs: [[popen, 2]]\n"
                   f"output: {{path: {out}}}\n", encoding="utf-8")
    assert main(["run", str(job), "--quiet"]) == 0, capsys.readouterr().err
    lemmatizer = WordNetLemmatizer()
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["lemmas"] for r in records] == [
        [lemmatizer.lemmatize(w, wordnet_pos(t)) for w, t in s]
        for s in treebank.tagged_sents()[:200]
    ]
