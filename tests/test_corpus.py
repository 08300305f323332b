"""Corpus records equal NLTK's own readers; bad job files and bad user data fail with
the exact line a user needs; user files are read inside NLTK's path sandbox."""

from __future__ import annotations

import json
import os
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import nltk
import pytest
from conftest import corpus_of
from nltk import pathsec
from nltk.corpus import brown, conll2000, state_union, treebank
from nltk.corpus.reader import (
    ConllChunkCorpusReader,
    PlaintextCorpusReader,
    TaggedCorpusReader,
)
from nltk.tokenize import PunktTokenizer, WordPunctTokenizer

from nlp_parallel.corpus import (
    CorpusSpec,
    installed_corpora,
    open_corpus,
    parse_corpus,
)
from nlp_parallel.errors import ConfigError, ResourceMissing

WSJ = ["wsj_0001.mrg", "wsj_0002.mrg", "wsj_0003.mrg", "wsj_0004.mrg"]

#: On a machine whose temp directory is private to the user (macOS, a private
#: $TMPDIR) NLTK already allows tmp_path, so refusals there cannot be observed.
TMP_IS_ALLOWED = pathsec.is_private_dir(tempfile.gettempdir())


#: No test leaves a directory authorized in NLTK's sandbox.
pytestmark = pytest.mark.usefixtures("data_path_restored")


def read(mapping: dict[str, Any], base_dir: str | Path = ".") -> list[dict[str, Any]]:
    with corpus_of(mapping, base_dir) as corpus:
        return list(corpus.items())


def tagged(fileid: str, pairs: Any) -> dict[str, Any]:
    return {"fileid": fileid, "tokens": [w for w, _ in pairs], "tags": [t for _, t in pairs]}


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def fails(mapping: dict[str, Any], base_dir: str | Path = ".", error: type = ConfigError) -> str:
    """The message of the error checking and reading ``mapping`` raises."""
    with pytest.raises(error) as info:
        with corpus_of(mapping, base_dir) as corpus:
            corpus.check()
            for _ in corpus.items():
                pass
    return str(info.value)


# --- NLTK corpora by name ------------------------------------------------------------


@pytest.mark.parametrize(
    "view, record",
    [
        ("sents", lambda f, s: {"fileid": f, "tokens": list(s)}),
        ("tagged_sents", tagged),
        ("parsed_sents", lambda f, tree: tagged(f, tree.pos())),
        ("words", lambda f, w: {"fileid": f, "tokens": [w]}),
    ],
)
def test_treebank_views_equal_nltks(view, record):
    items = read({"name": "treebank", "view": view, "fileids": WSJ, "start": 3, "limit": 60})
    expected = [record(f, x) for f in WSJ for x in getattr(treebank, view)(f)][3:63]
    assert items == expected
    assert len({item["fileid"] for item in items}) > 1  # the slice spans files


def test_treebank_whole_corpus_count_and_order():
    with corpus_of({"name": "treebank", "view": "sents"}) as corpus:
        assert corpus.kind == "tokens" and corpus.total() is None
        items = list(corpus.items())
    assert [item["tokens"] for item in items] == list(map(list, treebank.sents()))
    assert len(items) == 3914


def test_brown_categories_equal_nltks():
    cats = ["humor", "science_fiction"]
    mapping = {"name": "brown", "view": "tagged_sents", "categories": cats}
    items = read({**mapping, "start": 10, "limit": 500})
    fileids = brown.fileids(categories=cats)
    assert items == [tagged(f, s) for f in fileids for s in brown.tagged_sents(f)][10:510]
    in_one_call = brown.tagged_sents(categories=cats)[10:510]
    assert [i["tokens"] for i in items] == [[w for w, _ in s] for s in in_one_call]


def test_brown_paras_concatenate_their_sentences():
    items = read({"name": "brown", "view": "paras", "fileids": ["cn01"], "limit": 20})
    paras = brown.paras("cn01")[:20]
    assert items == [{"fileid": "cn01", "tokens": [w for s in para for w in s]} for para in paras]


def test_conll2000_chunked_sents_carry_the_leaves():
    mapping = {"name": "conll2000", "view": "chunked_sents", "fileids": ["test.txt"]}
    with corpus_of({**mapping, "limit": 400}) as corpus:
        assert corpus.kind == "tagged"
        items = list(corpus.items())
    trees = conll2000.chunked_sents("test.txt")[:400]
    assert items == [tagged("test.txt", tree.leaves()) for tree in trees]


def test_state_union_raw_is_one_item_per_file():
    with corpus_of({"name": "state_union", "view": "raw", "start": 60, "limit": 3}) as corpus:
        assert corpus.kind == "text" and corpus.total() == 3
        items = list(corpus.items())
    fileids = state_union.fileids()[60:63]
    assert items == [{"fileid": f, "text": state_union.raw(f)} for f in fileids]


def test_installed_corpora_list_what_each_offers():
    offered = dict(installed_corpora())
    assert offered["treebank"] == ("sents", "tagged_sents", "parsed_sents", "words", "raw",
                                   "tagged_words")
    assert offered["conll2000"] == ("sents", "tagged_sents", "chunked_sents", "words", "raw",
                                    "tagged_words", "iob_sents")
    assert offered["nps_chat"] == ("words", "raw", "posts", "tagged_posts", "tagged_words")
    assert "reuters" not in offered


def test_twenty_thousand_brown_sentences_stream():
    with corpus_of({"name": "brown", "view": "sents", "limit": 20_000}) as corpus:
        corpus.check()  # loads the reader and its category file before measuring
        tracemalloc.start()
        try:
            count = sum(1 for _ in corpus.items())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert count == 20_000
    # Holding these 20,000 sentences takes about 29 MB; streaming holds one block.
    assert peak < 4_000_000, f"peak {peak / 1e6:.1f} MB"


# --- the user's files --------------------------------------------------------------

TEXT_A = "The cat sat. It was happy.\nA second line.\n\n\nNew para here. Dr. Smith came.\n"
TEXT_B = "Only one paragraph, no final newline."


@pytest.fixture
def texts(tmp_path: Path) -> Path:
    write(tmp_path / "texts" / "a.txt", TEXT_A)
    write(tmp_path / "texts" / "sub" / "b.txt", TEXT_B)
    write(tmp_path / "texts" / "notes.md", "not matched")
    return tmp_path


def test_text_glob_views_equal_plaintext_reader(texts):
    root = str(texts / "texts")
    spec = {"path": "texts/**/*.txt", "format": "text"}
    with corpus_of({**spec, "view": "sents"}, texts) as corpus:
        sents = list(corpus.items())
        reader = PlaintextCorpusReader(root, ["a.txt", "sub/b.txt"])  # authorized while open
        fileids = reader.fileids()
        assert sents == [{"fileid": f, "tokens": s} for f in fileids for s in reader.sents(f)]
        assert read({**spec, "view": "words"}, texts) == [
            {"fileid": f, "tokens": [w]} for f in reader.fileids() for w in reader.words(f)
        ]
        raw = read({**spec, "view": "raw"}, texts)
        assert raw == [{"fileid": f, "text": reader.raw(f)} for f in reader.fileids()]
        paras = read({**spec, "view": "paras"}, texts)
        # Paragraph texts, tokenized as the reader's paras() tokenizes them, are its paras.
        words, punkt = WordPunctTokenizer(), PunktTokenizer()
        assert [
            [words.tokenize(s) for s in punkt.tokenize(item["text"])] for item in paras
        ] == [p for f in reader.fileids() for p in reader.paras(f)]
    assert paras == [
        {"fileid": "a.txt", "text": "The cat sat. It was happy.\nA second line.\n"},
        {"fileid": "a.txt", "text": "New para here. Dr. Smith came.\n"},
        {"fileid": "sub/b.txt", "text": TEXT_B},
    ]
    assert raw[0]["text"] == TEXT_A


def test_user_files_are_read_inside_the_sandbox_and_released_on_close(texts):
    root = str(texts / "texts")
    before = list(nltk.data.path)
    if not TMP_IS_ALLOWED:
        with pytest.raises(PermissionError):
            PlaintextCorpusReader(root, ["a.txt"])
    corpus = corpus_of({"path": "texts/**/*.txt", "format": "text", "view": "raw"}, texts)
    assert nltk.data.path == before  # opening reads and authorizes nothing yet
    assert [item["fileid"] for item in corpus.items()] == ["a.txt", "sub/b.txt"]
    assert nltk.data.path == before + [root]  # exactly the glob's root
    if not TMP_IS_ALLOWED:
        with pytest.raises(PermissionError):  # a file beside the root stays refused
            pathsec.open(write(texts / "secret.txt", "x"), "rb")
    corpus.close()
    assert nltk.data.path == before
    if not TMP_IS_ALLOWED:
        with pytest.raises(PermissionError):
            PlaintextCorpusReader(root, ["a.txt"])


def test_failed_check_releases_the_authorization(texts):
    before = list(nltk.data.path)
    mapping = {"path": "texts/*.txt", "format": "text", "view": "raw", "fileids": ["c.txt"]}
    message = fails(mapping, texts)
    assert message.startswith("corpus.fileids: 'c.txt' is not in ")
    assert nltk.data.path == before


JSONL_A = [
    {"tokens": ["The", "dog", "barks"], "tags": ["DT", "NN", "VBZ"], "text": "The dog barks"},
    {"tokens": ["Hi"], "tags": ["UH"], "text": "Hi"},
]
JSONL_B = [  # other keys are ignored
    {"tokens": ["Ça", "va", "?"], "tags": ["PRON", "VERB", "."], "text": "Ça va ?", "id": 3},
]


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in JSONL_A]
    write(tmp_path / "data" / "a.jsonl", lines[0] + "\n\n" + lines[1] + "\n")
    write(tmp_path / "data" / "b.jsonl", json.dumps(JSONL_B[0], ensure_ascii=False))
    return tmp_path


@pytest.mark.parametrize(
    "view, kind, fields",
    [
        ("sents", "tokens", ("tokens",)),
        ("tagged_sents", "tagged", ("tokens", "tags")),
        ("raw", "text", ("text",)),
    ],
)
def test_jsonl_records(jsonl, view, kind, fields):
    with corpus_of({"path": "data/*.jsonl", "format": "jsonl", "view": view}, jsonl) as corpus:
        assert corpus.kind == kind and corpus.total() is None
        items = list(corpus.items())
    records = [("a.jsonl", r) for r in JSONL_A] + [("b.jsonl", r) for r in JSONL_B]
    assert items == [{"fileid": f, **{k: r[k] for k in fields}} for f, r in records]


def test_jsonl_start_and_limit_count_across_files(jsonl):
    mapping = {"path": "data/*.jsonl", "format": "jsonl", "view": "sents"}
    items = read({**mapping, "start": 1, "limit": 5}, jsonl)
    assert [(i["fileid"], i["tokens"][0]) for i in items] == [("a.jsonl", "Hi"), ("b.jsonl", "Ça")]


CONLL = (
    "Confidence NN B-NP\nin IN B-PP\nthe DT B-NP\npound NN I-NP\nis VBZ B-VP\n. . O\n\n"
    "Chancellor NNP O\nof IN B-PP\nthe DT B-NP\nExchequer NNP I-NP\n"
)


def test_conll_files_equal_conll_chunk_reader(tmp_path):
    write(tmp_path / "c" / "one.conll", CONLL)
    write(tmp_path / "c" / "two.conll", CONLL.replace("pound", "euro"))
    root, fileids = str(tmp_path / "c"), ["one.conll", "two.conll"]
    spec = {"path": "c/*.conll", "format": "conll"}
    with corpus_of({**spec, "view": "sents"}, tmp_path) as corpus:
        sents = list(corpus.items())
        reader = ConllChunkCorpusReader(root, fileids, None)
        assert sents == [{"fileid": f, "tokens": s} for f in fileids for s in reader.sents(f)]
        assert read({**spec, "view": "tagged_sents"}, tmp_path) == [
            tagged(f, s) for f in fileids for s in reader.tagged_sents(f)
        ]
        assert read({**spec, "view": "chunked_sents"}, tmp_path) == [
            tagged(f, t.leaves()) for f in fileids for t in reader.chunked_sents(f)
        ]
    assert len(sents) == 4 and sents[2]["tokens"][3] == "euro"


def test_tagged_files_equal_tagged_reader(tmp_path):
    text = "The/DT dog/NN barks/VBZ ./.\nIt/PRP runs/VBZ\n\nNew/JJ para/NN\n"
    write(tmp_path / "t" / "a.pos", text)
    spec = {"path": "t/a.pos", "format": "tagged"}
    with corpus_of({**spec, "view": "tagged_sents"}, tmp_path) as corpus:
        items = list(corpus.items())
        reader = TaggedCorpusReader(str(tmp_path / "t"), ["a.pos"])
        assert items == [tagged("a.pos", s) for s in reader.tagged_sents()]
        sents = read({**spec, "view": "sents"}, tmp_path)
        assert sents == [{"fileid": "a.pos", "tokens": s} for s in reader.sents()]
        words = read({**spec, "view": "words"}, tmp_path)
        assert words == [{"fileid": "a.pos", "tokens": [w]} for w in reader.words()]
    assert len(items) == 3


# --- bad job files -----------------------------------------------------------------


TREEBANK = {"name": "treebank", "view": "sents"}
TEXTS = {"path": "x/*.txt", "format": "text", "view": "raw"}


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({**TREEBANK, "view": "sent"},
         "corpus.view: 'sent' is not one of sents, tagged_sents, chunked_sents, parsed_sents, "
         "words, paras, raw, posts, tagged_posts, tagged_words, tagged_paras, chunked_paras, "
         "iob_sents (did you mean 'sents'?)"),
        ({**TREEBANK, "limit": -1}, "corpus.limit: must be at least 0, not -1"),
        ({"nmae": "treebank", "view": "sents"},
         "corpus.nmae: unknown key (did you mean 'name'?); valid keys: name, path,"),
        ([], "corpus: expected a mapping, not list"),
        ({"view": "sents"}, "corpus: give either name or path"),
        ({**TREEBANK, **TEXTS}, "corpus: give either name or path"),
        ({"path": "x/*.txt", "view": "sents"},
         "corpus.format: required with path; one of text, jsonl, conll, tagged"),
        ({**TREEBANK, "format": "text"}, "corpus.format: only with path"),
        ({"path": "x/*.jsonl", "format": "jsonl", "view": "words"},
         "corpus.view: jsonl files offer sents, tagged_sents, raw"),
        ({**TREEBANK, "fileids": "wsj_0001.mrg"},
         "corpus.fileids: expected a list of strings, not str"),
        ({"name": "brown", "view": "sents", "fileids": ["ca01"], "categories": ["news"]},
         "corpus.categories: give either"),
        ({**TREEBANK, "start": "3"}, "corpus.start: expected an integer, not '3'"),
        ({**TEXTS, "encoding": "utf-9"}, "corpus.encoding: unknown text encoding"),
        ({**TEXTS, "format": "jsonl", "encoding": "utf-16"},
         "corpus.encoding: JSONL needs an ASCII-compatible encoding"),
        ({**TREEBANK, "encoding": "latin-1"}, "corpus.encoding: only with path"),
        ({**TEXTS, "categories": ["news"]}, "corpus.categories: only with name"),
        ({**TEXTS, "path": "/*.txt"}, "corpus.path: '/*.txt' is rooted at the filesystem root"),
    ],
)
def test_parse_errors_name_the_key(mapping, message):
    with pytest.raises(ConfigError) as info:
        parse_corpus(mapping)
    assert str(info.value).startswith(message)


def test_parse_keeps_the_defaults_and_joins_base_dir(tmp_path):
    mapping = {"path": "texts/*.txt", "format": "text", "view": "paras"}
    spec = parse_corpus(mapping, "jobs[0].corpus", str(tmp_path))
    path = str(tmp_path / "texts" / "*.txt")
    where = "jobs[0].corpus"
    assert spec == CorpusSpec(None, path, "text", "paras", None, None, 0, None, "utf-8", where)
    message = fails({"path": "texts/*.txt", "format": "text", "view": "raw", "limitt": 3})
    assert message.startswith("corpus.limitt: unknown key (did you mean 'limit'?)")


# --- what check() finds --------------------------------------------------------------


def test_unknown_corpus_name_suggests_and_lists_installed():
    message = fails({"name": "treebnk", "view": "sents"})
    assert message.startswith(
        "corpus.name: 'treebnk' is not an NLTK corpus (did you mean 'treebank'?); "
        "installed here: abc,"
    )
    assert "brown" in message and "reuters" not in message


def test_corpus_not_installed_names_the_package():
    with pytest.raises(ResourceMissing) as info:
        open_corpus(parse_corpus({"name": "reuters", "view": "sents"})).check()
    assert info.value.package == "reuters" and info.value.resource == "corpora/reuters"


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({"name": "treebank", "view": "paras"},
         "corpus.view: treebank offers sents, tagged_sents, parsed_sents, words, raw"),
        ({"name": "conll2000", "view": "parsed_sents"},
         "corpus.view: conll2000 offers sents, tagged_sents, chunked_sents, words, raw"),
        ({"name": "treebank", "view": "sents", "fileids": ["wsj_0001.mrg", "wsj_9999.mrg"]},
         "corpus.fileids: 'wsj_9999.mrg' is not in treebank"),
        ({"name": "brown", "view": "sents", "categories": ["news", "scifi"]},
         "corpus.categories: 'scifi' is not a category of brown; categories: adventure,"),
        ({"name": "treebank", "view": "sents", "categories": ["news"]},
         "corpus.categories: treebank has no categories"),
        ({"path": "texts/*.txt", "format": "text", "view": "raw"},
         "corpus.path: 'texts/*.txt' matches no file"),
    ],
)
def test_check_errors(mapping, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert fails(mapping).startswith(message)


def test_text_sentences_need_punkt(texts, monkeypatch):
    monkeypatch.setattr(nltk.data, "path", [])  # nowhere to find punkt_tab
    with pytest.raises(ResourceMissing) as info:
        corpus_of({"path": "texts/*.txt", "format": "text", "view": "sents"}, texts).check()
    assert info.value.package == "punkt_tab"
    assert nltk.data.path == []  # released again


def test_text_paragraphs_and_raw_need_no_nltk_data(texts, monkeypatch):
    monkeypatch.setattr(nltk.data, "path", [])
    for view in ("paras", "raw"):
        assert read({"path": "texts/*.txt", "format": "text", "view": view}, texts)


def test_symlinked_file_is_refused_at_check(texts, monkeypatch):
    monkeypatch.chdir(texts)
    os.symlink(texts / "texts" / "a.txt", texts / "texts" / "link.txt")
    message = fails({"path": "texts/*.txt", "format": "text", "view": "raw"})
    assert message.startswith("corpus.path: texts/link.txt is a symbolic link")


# --- bad data found while reading ----------------------------------------------------


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def jsonl_lines(path: Path, lines: list[str]) -> None:
    write(path, "\n".join(lines) + "\n")


def test_broken_jsonl_line(cwd):
    good = json.dumps({"tokens": ["a"]})
    jsonl_lines(cwd / "texts" / "a.jsonl", [good] * 6 + ['{"tokens": ["a"],}'])
    message = fails({"path": "texts/*.jsonl", "format": "jsonl", "view": "sents"})
    assert message.startswith("corpus.path: texts/a.jsonl line 7: not valid JSON (Expecting ")
    jsonl_lines(cwd / "texts" / "a.jsonl", [good, "", "not json"])
    message = fails({"path": "texts/*.jsonl", "format": "jsonl", "view": "sents"})
    assert message.startswith(
        "corpus.path: texts/a.jsonl line 3: not valid JSON (Expecting value at column 1)"
    )
    jsonl_lines(cwd / "texts" / "a.jsonl", [good, '{"tokens": ['])  # cut short
    message = fails({"path": "texts/*.jsonl", "format": "jsonl", "view": "sents"})
    assert message.startswith(
        "corpus.path: texts/a.jsonl line 2: not valid JSON (Expecting value at column 13)"
    )


@pytest.mark.parametrize(
    "record, view, message",
    [
        ({"text": "hello"}, "sents", 'line 2: no "tokens"'),
        ({"tokens": ["a", "b"]}, "tagged_sents", 'line 2: no "tags"'),
        ({"tokens": ["a", "b", "c"], "tags": ["X", "Y"]}, "tagged_sents",
         'line 2: "tags" has 2 items but "tokens" has 3'),
        ({"tokens": ["a", "b", "c"], "tags": ["X", "Y"]}, "sents",
         'line 2: "tags" has 2 items but "tokens" has 3'),
        ({"tokens": ["a", 1]}, "sents", 'line 2: "tokens" must be a list of strings'),
        ({"text": 3}, "raw", 'line 2: "text" is a number, not a string'),
        ({"tokens": "a b"}, "sents", 'line 2: "tokens" must be a list of strings'),
        ({"tokens": ["a"]}, "raw", 'line 2: no "text"'),
        (["a", "b"], "sents", "line 2: expected a JSON object, not an array"),
    ],
)
def test_bad_jsonl_records(cwd, record, view, message):
    good = {"tokens": ["ok"], "tags": ["X"], "text": "ok"}
    jsonl_lines(cwd / "texts" / "a.jsonl", [json.dumps(good), json.dumps(record)])
    got = fails({"path": "texts/*.jsonl", "format": "jsonl", "view": view})
    assert got.startswith(f"corpus.path: texts/a.jsonl {message}")


def test_non_utf8_text_names_the_byte_and_offset(cwd):
    write(cwd / "texts" / "a.txt", b"good line\n\xff bad\n")
    for view in ("raw", "sents", "paras", "words"):
        message = fails({"path": "texts/*.txt", "format": "text", "view": view})
        assert message.startswith(
            "corpus.path: texts/a.txt: not valid utf-8 (byte 0xff at offset 10)"
        ), view


def test_non_utf8_deep_in_a_file_gives_the_file_offset(cwd):
    # "é" straddles the first 64 KiB chunk the offset is searched in; the bad byte
    # follows in the next chunk, past many of NLTK's blocks.
    head = b"x" * 65_535 + "é".encode() + b"\n" + b"word " * 10_000
    write(cwd / "texts" / "a.txt", head + b"\xfe\n")
    message = fails({"path": "texts/*.txt", "format": "text", "view": "words"})
    assert message.startswith(
        f"corpus.path: texts/a.txt: not valid utf-8 (byte 0xfe at offset {len(head)})"
    )


def test_non_utf8_jsonl_and_other_encodings(cwd):
    write(cwd / "texts" / "a.jsonl", b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    message = fails({"path": "texts/*.jsonl", "format": "jsonl", "view": "raw"})
    assert message.startswith(
        "corpus.path: texts/a.jsonl: not valid utf-8 (byte 0xe9 at offset 28)"
    )
    items = read({"path": "texts/*.jsonl", "format": "jsonl", "view": "raw", "encoding": "latin-1"})
    assert [i["text"] for i in items] == ["ok", "café"]


def test_malformed_conll_names_the_file_and_sentence(cwd):
    write(cwd / "c" / "a.conll", CONLL + "\nbad line\nsecond NN B-NP\n")
    message = fails({"path": "c/*.conll", "format": "conll", "view": "tagged_sents"})
    assert message.startswith(
        "corpus.path: c/a.conll: cannot be read as conll at item 3 "
        "(Inconsistent number of columns: bad line"
    )


def test_jsonl_with_bom_and_crlf(cwd):
    write(cwd / "d" / "a.jsonl", '\ufeff{"text": "one"}\r\n\r\n{"text": "two"}\r\n'.encode())
    items = read({"path": "d/a.jsonl", "format": "jsonl", "view": "raw"})
    assert items == [{"fileid": "a.jsonl", "text": "one"}, {"fileid": "a.jsonl", "text": "two"}]


def test_messages_found_later_use_the_given_key_path():
    spec = parse_corpus({**TREEBANK, "fileids": ["wsj_0001.mr"]}, where="jobs[2].corpus")
    with pytest.raises(ConfigError) as info:
        open_corpus(spec).check()
    assert str(info.value) == (
        "jobs[2].corpus.fileids: 'wsj_0001.mr' is not in treebank (did you mean 'wsj_0001.mrg'?)"
    )
