"""Shards read by workers give exactly the records the driver reads today.

A corpus is planned into shards (:mod:`nlp_parallel.corpus.shards`) and each shard read
by :class:`~nlp_parallel.shard_reader.ShardReader` from its bytes alone, with NLTK's
data hidden as on a worker without it, and with NLTK's path sandbox on; the records
must equal ``Corpus.items()``, for every installed corpus and view and for user files
in every format, shape and encoding, and bad user data must give the driver's message.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import json
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nltk
import pytest
from conftest import corpus_of
from nltk.corpus.reader import TaggedCorpusReader
from nltk.corpus.util import LazyCorpusLoader

import nlp_parallel.shard_reader as shard_reader_module
from nlp_parallel.corpus import Corpus, installed_corpora
from nlp_parallel.corpus.shards import (
    BLANK,
    SHARD_BYTES,
    ShardPlan,
    loader_arguments,
    plan_shards,
    rebuilt_class,
)
from nlp_parallel.errors import ConfigError
from nlp_parallel.shard_reader import BadData, ShardReader

#: Items compared per corpus and view: all of a subset of its files, or a prefix
#: of a big single-file corpus (alpino's 21 MB take NLTK a minute to read).
LIMIT = 1500
WORD_LIMIT = 15_000
#: Bytes of files chosen per named corpus, and the shard size that cuts them up.
SUBSET_BYTES = 120_000
SMALL_SHARDS = 4096

#: The corpora and views the driver must keep reading itself, and why.
FALLBACKS = {
    "treebank_chunk": "treebank_chunk: ChunkedCorpusReader's sent_tokenizer=RegexpTokenizer(",
    "wordnet": "wordnet: WordNetCorpusReader is not among the readers known to read only",
}

INSTALLED = installed_corpora()
CASES = [(name, view) for name, views in INSTALLED for view in views]


#: No test leaves a directory authorized in NLTK's sandbox.
pytestmark = pytest.mark.usefixtures("data_path_restored")


def plain(value: Any) -> Any:
    """``value`` through JSON: what crosses the wire must survive it unchanged."""
    text = json.dumps(value)
    assert json.loads(text) == value
    return json.loads(text)


@contextlib.contextmanager
def no_nltk_data() -> Iterator[None]:
    """As on a worker without NLTK data: nothing on ``nltk.data.path`` or in NLTK_DATA."""
    saved, env = list(nltk.data.path), os.environ.pop("NLTK_DATA", None)
    nltk.data.path[:] = []
    try:
        yield
    finally:
        nltk.data.path[:] = saved
        if env is not None:
            os.environ["NLTK_DATA"] = env


def planned(corpus: Corpus, shard_bytes: int) -> ShardPlan:
    plan = plan_shards(corpus, shard_bytes)
    assert isinstance(plan, ShardPlan), plan
    return plan


def worker_records(plan: ShardPlan, limit: int | None = None) -> list[dict[str, Any]]:
    """The records of a plan's shards as workers read them, in order: the recipe and
    descriptions through JSON, the reading without NLTK data (at most ``limit``)."""
    reader = ShardReader(plain(plan.recipe))
    records: list[dict[str, Any]] = []
    try:
        for shard in plan.shards:
            blobs, description = plan.blobs(shard), plain(plan.describe(shard))
            left = None if limit is None else limit - len(records)
            with no_nltk_data(), contextlib.closing(reader.read(description, blobs)) as read:
                records.extend(itertools.islice(read, left))
            if limit is not None and len(records) >= limit:
                break
    finally:
        reader.close()
    return records


def check_cuts(corpus: Corpus, plan: ShardPlan) -> None:
    """Pieces cover each file in order, and a cut falls right after a blank line (or a
    JSONL line); no shard holds two pieces of one file."""
    source = corpus.source()
    pieces = [piece for shard in plan.shards for piece in shard.pieces]
    assert [shard.number for shard in plan.shards] == list(range(len(plan.shards)))
    assert [fileid for fileid, _ in itertools.groupby(p.fileid for p in pieces)] == list(
        source.fileids
    )
    for shard in plan.shards:
        assert len({piece.fileid for piece in shard.pieces}) == len(shard.pieces)
    for fileid, group in itertools.groupby(pieces, key=lambda p: p.fileid):
        ranges = list(group)
        data = source.reader.abspath(fileid).open().read()
        assert ranges[0].begin == 0 and ranges[-1].end == len(data)
        for before, after in itertools.pairwise(ranges):
            assert before.end == after.begin
            assert data[before.end - 1 : before.end] == b"\n"
            if plan.recipe["read"] != "jsonl":
                start = data.rfind(b"\n", 0, before.end - 1) + 1
                assert not data[start : before.end].strip(BLANK), (fileid, before)
    assert plan.total_bytes == sum(piece.size for piece in pieces)


# --- every installed corpus and view ---------------------------------------------------


def subset(corpus: Corpus) -> list[str]:
    """The first fileids with a file, about SUBSET_BYTES of them (at least one)."""
    source = corpus.source()
    chosen, size = [], 0
    for fileid in source.fileids:
        try:
            size += source.reader.abspath(fileid).file_size()
        except ValueError:  # stopwords' english-extended is defined in code
            continue
        chosen.append(fileid)
        if size >= SUBSET_BYTES:
            break
    return chosen


def test_the_corpora_of_the_shared_data_are_all_here():
    names = {name for name, _ in INSTALLED}
    assert {"brown", "treebank", "conll2000", "conll2002", "masc_tagged", "cess_esp", "floresta",
            "alpino", "indian", "nps_chat", "state_union", "abc", "webtext", "movie_reviews",
            "inaugural", "mac_morpho", "dependency_treebank", "words"} <= names


@pytest.mark.parametrize("name, view", CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_shards_equal_the_driver_reading(name, view):
    with corpus_of({"name": name, "view": view}) as corpus:
        fileids = subset(corpus)
    mapping = {"name": name, "view": view, "fileids": fileids}
    limit = WORD_LIMIT if view == "words" else LIMIT
    with corpus_of({**mapping, "limit": limit}) as corpus:
        expected = list(corpus.items())
    with corpus_of(mapping) as corpus:
        plan = plan_shards(corpus, SMALL_SHARDS)
        if name in FALLBACKS:
            assert isinstance(plan, str) and plan.startswith(FALLBACKS[name]), plan
            return
        assert isinstance(plan, ShardPlan), plan
        try:
            check_cuts(corpus, plan)
            got = worker_records(plan, limit)
        finally:
            plan.close()
    assert got == expected
    assert expected  # a test that compares nothing proves nothing


@pytest.mark.parametrize("name, view", [("conll2002", "chunked_sents"), ("abc", "sents"),
                                        ("brown", "tagged_sents"), ("webtext", "words")])
def test_big_files_are_cut_at_blocks(name, view):
    with corpus_of({"name": name, "view": view}) as corpus:
        fileid = max(corpus.source().fileids, key=lambda f: corpus.source().reader.abspath(f).file_size())
    with corpus_of({"name": name, "view": view, "fileids": [fileid], "limit": 3 * LIMIT}) as corpus:
        expected = list(corpus.items())
    with corpus_of({"name": name, "view": view, "fileids": [fileid]}) as corpus:
        plan = planned(corpus, 2048)
        try:
            assert len(plan.shards) > 5
            got = worker_records(plan, 3 * LIMIT)
        finally:
            plan.close()
    assert got == expected


def test_a_fileid_without_a_file_falls_back():
    with corpus_of({"name": "stopwords", "view": "words"}) as corpus:
        assert plan_shards(corpus) == (
            "stopwords: 'english-extended' is defined in code, not by a file in the corpus, "
            "so it has no path; use words() or raw() instead"
        )


def test_abc_pieces_name_their_own_encoding():
    with corpus_of({"name": "abc", "view": "raw"}) as corpus:
        plan = planned(corpus, SHARD_BYTES)
        try:
            assert plan.recipe["encoding"] is None
            described = [plan.describe(shard)["pieces"] for shard in plan.shards]
            encodings = {p["fileid"]: p["encoding"] for pieces in described for p in pieces}
            assert encodings == {"rural.txt": "utf8", "science.txt": "latin_1"}
        finally:
            plan.close()
        expected = list(corpus.items())
        plan = planned(corpus, 16 * 2**20)  # both files in one shard
        try:
            assert [len(shard.pieces) for shard in plan.shards] == [2]
            assert worker_records(plan) == expected
        finally:
            plan.close()


def test_the_loader_keeps_its_arguments_under_the_names_read():
    fresh = LazyCorpusLoader("brown", nltk.corpus.reader.CategorizedTaggedCorpusReader,
                             r"c[a-z]\d\d", cat_file="cats.txt", tagset="brown", encoding="ascii")
    expected = ((r"c[a-z]\d\d",), {"cat_file": "cats.txt", "tagset": "brown", "encoding": "ascii"})
    assert loader_arguments(fresh) == expected
    brown = nltk.corpus.brown
    brown.ensure_loaded()
    assert loader_arguments(brown) == expected
    assert rebuilt_class(type(brown)) is TaggedCorpusReader
    assert loader_arguments(types.SimpleNamespace()) is None


def test_a_reader_not_made_by_a_loader_falls_back(tmp_path, monkeypatch):
    monkeypatch.setattr("nlp_parallel.corpus.shards.loader_arguments", lambda reader: None)
    with corpus_of({"name": "treebank", "view": "sents", "fileids": ["wsj_0001.mrg"]}) as corpus:
        assert plan_shards(corpus) == (
            "treebank: its reader was not made by a LazyCorpusLoader, so its arguments are unknown"
        )


def test_read_locally_and_the_default_shard_size():
    mapping = {"name": "brown", "view": "tagged_sents", "categories": ["news"]}
    with corpus_of(mapping) as corpus:
        expected = list(corpus.items())
        plan = planned(corpus, SHARD_BYTES)
        try:
            assert len(plan.shards) > 1
            assert all(shard.size <= SHARD_BYTES or len(shard.pieces) == 1 for shard in plan.shards)
            got = [record for shard in plan.shards for record in plan.read_locally(shard)]
        finally:
            plan.close()
    assert got == expected


# --- the remote module -----------------------------------------------------------------


def test_the_remote_module_imports_only_the_standard_library_and_parses_as_python_3_8():
    source = Path(shard_reader_module.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 8))
    allowed = sys.stdlib_module_names | {"__future__"}
    for node in tree.body:  # at module level: the standard library only
        if isinstance(node, ast.Import):
            assert all(alias.name.split(".")[0] in allowed for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and (node.module or "").split(".")[0] in allowed
    for node in ast.walk(tree):  # anywhere: never this package
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("nlp_parallel")
        elif isinstance(node, ast.Import):
            assert not any(alias.name.startswith("nlp_parallel") for alias in node.names)
    assert "removeprefix" not in source  # Python 3.9


def test_the_reader_cleans_up_after_itself(tmp_path):
    with corpus_of({"name": "conll2000", "view": "words", "fileids": ["test.txt"]}) as corpus:
        plan = planned(corpus, SHARD_BYTES)
        reader = ShardReader(plan.recipe)
        before = list(nltk.data.path)
        records = reader.read(plan.describe(plan.shards[0]), plan.blobs(plan.shards[0]))
        next(records)
        root = reader._root
        assert root is not None and nltk.data.path == [*before, root]
        records.close()
        assert nltk.data.path == before and os.listdir(root) == []
        reader.close()
        reader.close()
        assert not os.path.exists(root)
        plan.close()


def test_a_fileid_may_not_leave_the_temporary_directory():
    with corpus_of({"name": "conll2000", "view": "words", "fileids": ["test.txt"]}) as corpus:
        plan = planned(corpus, SHARD_BYTES)
        reader = ShardReader(plan.recipe)
        try:
            for fileid in ("../x", "/etc/x", "a//b"):
                with pytest.raises(ValueError, match="plain relative path"):
                    next(reader.read({"pieces": [{"fileid": fileid, "begin": 0, "end": 1}]}, [b"x"]))
        finally:
            reader.close()
            plan.close()


# --- user files ------------------------------------------------------------------------

#: One block of each format: a paragraph of sentences, of tagged lines, a CoNLL
#: sentence, JSONL records.
BLOCKS = {
    "text": lambda i: f"Sentence {i} is here. Dr. Smith said so!\nIt goes on, {i} times.\n",
    "tagged": lambda i: f"The/DT cat/NN {i}/CD sat/VBD ./.\nA/DT dog/NN ./.\n",
    "conll": lambda i: f"The DT B-NP\ncat NN I-NP\n{i} CD I-NP\nsat VBD B-VP\n. . O\n",
    "jsonl": lambda i: json.dumps({"tokens": ["w", str(i)], "tags": ["X", "CD"],
                                   "text": f"t{i}é"}) + "\n",
}
#: What follows a block: blank lines of every kind NLTK's block reader ends a block
#: at (and a no-break space, which it strips but the planner does not cut at).
SEPARATORS = ["\n", " \n", "\t \n", "\x0c\n", "\n\n", "\u00a0\n", "\x0b\n", " \r\n"]
EXTENSIONS = {"text": "txt", "tagged": "pos", "conll": "conll", "jsonl": "jsonl"}
FORMAT_VIEWS = [("text", v) for v in ("sents", "words", "paras", "raw")] + [
    ("tagged", v) for v in ("sents", "tagged_sents", "words", "tagged_words", "tagged_paras")] + [
    ("conll", v) for v in ("sents", "tagged_sents", "chunked_sents", "tagged_words", "iob_sents")
] + [("jsonl", v) for v in ("sents", "tagged_sents", "raw")]


def document(fmt: str, blocks: int, start: int = 0) -> str:
    parts = []
    for i in range(start, start + blocks):
        parts.append(BLOCKS[fmt](i))
        parts.append(SEPARATORS[i % len(SEPARATORS)])
    return "".join(parts)


def user_files(root: Path, fmt: str) -> None:
    ext = EXTENSIONS[fmt]
    body = document(fmt, 40)
    files = {
        f"a_big.{ext}": body.encode(),
        f"b_no_newline.{ext}": document(fmt, 6).rstrip("\n\x0b\x0c\r \t\u00a0").encode(),
        f"c_empty.{ext}": b"",
        f"d_crlf.{ext}": body.replace("\n", "\r\n").encode(),
        f"e_bom.{ext}": ("\ufeff" + document(fmt, 12)).encode(),
        f"sub/f_nested.{ext}": document(fmt, 9, 100).encode(),
        f"g_blank_start.{ext}": ("\n \n" + document(fmt, 9, 200)).encode(),
    }
    if fmt != "jsonl":  # a byte order mark inside a file is text NLTK keeps
        files[f"h_inner_bom.{ext}"] = "\ufeff".join(document(fmt, 3, i) for i in range(8)).encode()
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def user_mapping(root: Path, fmt: str, view: str, **more: Any) -> dict[str, Any]:
    return {"path": str(root / "**" / f"*.{EXTENSIONS[fmt]}"), "format": fmt, "view": view, **more}


def driver_and_worker(
    mapping: dict[str, Any], shard_bytes: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], ShardPlan]:
    with corpus_of(mapping) as corpus:
        expected = list(corpus.items())
        plan = planned(corpus, shard_bytes)
        try:
            check_cuts(corpus, plan)
            got = worker_records(plan)
        finally:
            plan.close()
    return expected, got, plan


@pytest.mark.parametrize("fmt, view", FORMAT_VIEWS, ids=[f"{f}-{v}" for f, v in FORMAT_VIEWS])
def test_user_files_in_many_small_shards(tmp_path, fmt, view):
    user_files(tmp_path, fmt)
    expected, got, plan = driver_and_worker(user_mapping(tmp_path, fmt, view), 200)
    assert got == expected and len(expected) > (6 if view == "raw" and fmt != "jsonl" else 40)
    big = [p for shard in plan.shards for p in shard.pieces if p.fileid.startswith("a_big.")]
    if view == "raw" and fmt != "jsonl":  # one item per file: never cut
        assert len(big) == 1
    else:
        assert len(big) > 5


@pytest.mark.parametrize("fmt, view", [("text", "sents"), ("text", "paras"), ("tagged", "words"),
                                       ("conll", "chunked_sents"), ("jsonl", "raw")])
def test_latin_1_user_files(tmp_path, fmt, view):
    ext = EXTENSIONS[fmt]
    text = document(fmt, 30).replace("cat", "café").replace("Smith", "Müller")
    (tmp_path / f"a.{ext}").write_bytes(text.encode("latin-1"))
    mapping = user_mapping(tmp_path, fmt, view, encoding="latin-1")
    expected, got, plan = driver_and_worker(mapping, 200)
    assert got == expected and len(plan.shards) > 5
    assert any(not json.dumps(record, ensure_ascii=False).isascii() for record in got)


def test_utf_16_files_are_read_whole(tmp_path):
    (tmp_path / "a.txt").write_bytes(document("text", 30).encode("utf-16"))
    mapping = user_mapping(tmp_path, "text", "sents", encoding="utf-16")
    expected, got, plan = driver_and_worker(mapping, 200)
    assert got == expected and len(expected) > 30
    assert [len(shard.pieces) for shard in plan.shards] == [1]


# --- bad user data ---------------------------------------------------------------------


def driver_message(mapping: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info, corpus_of(mapping) as corpus:
        for _ in corpus.items():
            pass
    return str(info.value)


def worker_message(mapping: dict[str, Any], shard_bytes: int) -> str:
    """The message the driver makes of what a worker reports, counting the items of the
    failing file that earlier shards gave, as the engine does."""
    with corpus_of(mapping) as corpus:
        plan = planned(corpus, shard_bytes)
        reader = ShardReader(plain(plan.recipe))
        counts: dict[str, int] = {}
        try:
            for shard in plan.shards:
                blobs, description = plan.blobs(shard), plain(plan.describe(shard))
                shard_counts: dict[str, int] = {}
                try:
                    with no_nltk_data():
                        for record in reader.read(description, blobs):
                            shard_counts[record["fileid"]] = shard_counts.get(record["fileid"], 0) + 1
                except BadData as exc:
                    fields = plain(exc.fields)
                    assert shard.number > 0 or fields.get("begin", 0) == 0
                    return str(plan.bad_data(fields, counts.get(fields["fileid"], 0)))
                for fileid, count in shard_counts.items():
                    counts[fileid] = counts.get(fileid, 0) + count
        finally:
            reader.close()
            plan.close()
    raise AssertionError("no BadData")


def later_piece_check(mapping: dict[str, Any]) -> str:
    expected = driver_message(mapping)
    assert worker_message(mapping, 200) == expected
    return expected


@pytest.mark.parametrize("bad, message", [
    ('{"tokens": ["a"],}', "line 67: not valid JSON (Expecting property name enclosed"),
    ('{"tokens": ["a"], "tags": []}', 'line 67: "tags" has 0 items but "tokens" has 1'),
    ("[1]", "line 67: expected a JSON object, not an array"),
])
def test_bad_jsonl_line_in_a_later_piece(tmp_path, bad, message):
    lines = [json.dumps({"tokens": ["w", str(i)]}) if i % 5 else "" for i in range(66)]
    (tmp_path / "a.jsonl").write_text("\n".join([*lines, bad, lines[1]]) + "\n", encoding="utf-8")
    got = later_piece_check(user_mapping(tmp_path, "jsonl", "sents"))
    assert got.startswith(f"corpus.path: {tmp_path}/a.jsonl {message}")


@pytest.mark.parametrize("fmt, view", [("text", "sents"), ("text", "words"), ("text", "paras"),
                                       ("tagged", "tagged_sents"), ("conll", "sents"),
                                       ("jsonl", "raw")])
def test_bad_byte_in_a_later_piece(tmp_path, fmt, view):
    ext = EXTENSIONS[fmt]
    data = document(fmt, 30).encode() + BLOCKS[fmt](7).encode().replace(b"7", b"\xff") + b"\n"
    (tmp_path / f"a.{ext}").write_bytes(data + document(fmt, 5).encode())
    got = later_piece_check(user_mapping(tmp_path, fmt, view))
    offset = data.index(b"\xff")
    assert got.startswith(f"corpus.path: {tmp_path}/a.{ext}: not valid utf-8 (byte 0xff at offset {offset})")


def test_malformed_conll_in_a_later_piece_counts_items_from_the_file_start(tmp_path):
    data = document("conll", 30) + "bad line\nsecond NN B-NP\n\n" + document("conll", 3)
    (tmp_path / "a.conll").write_text(data, encoding="utf-8")
    got = later_piece_check(user_mapping(tmp_path, "conll", "tagged_sents"))
    assert got.startswith(
        f"corpus.path: {tmp_path}/a.conll: cannot be read as conll at item 31 "
        "(Inconsistent number of columns: bad line"
    )


def test_tagged_lines_cannot_be_malformed_for_nltk(tmp_path):
    """NLTK's str2tuple reads any token (no separator: tag None), so a tagged file has
    no parse errors to report; the worker gives the same odd records."""
    (tmp_path / "a.pos").write_text(document("tagged", 20) + "no_tags here/\n\n" * 3, "utf-8")
    expected, got, _ = driver_and_worker(user_mapping(tmp_path, "tagged", "tagged_sents"), 200)
    assert got == expected and [None, ""] == expected[-1]["tags"]


def test_read_locally_raises_the_drivers_message(tmp_path):
    data = document("conll", 30) + "bad line\nsecond NN B-NP\n"
    (tmp_path / "a.conll").write_text(data, encoding="utf-8")
    mapping = user_mapping(tmp_path, "conll", "sents")
    expected = driver_message(mapping)
    with corpus_of(mapping) as corpus:
        plan = planned(corpus, SHARD_BYTES)
        try:
            with pytest.raises(ConfigError) as info:
                for shard in plan.shards:
                    list(plan.read_locally(shard))
        finally:
            plan.close()
    assert str(info.value) == expected


# --- tagged text read directly -----------------------------------------------------------

#: Tokens NLTK's str2tuple splits in every way: no separator, several, at either end,
#: lower-case and non-ASCII tags, non-ASCII words.
ODD_TOKENS = ["a/b", "a/b/c", "/", "x/", "/x", "plain", "low/nn", "Mü/ßx", "é/é", "//", "a//b",
              "_", "a_b", "a_b_C", "x__y", "日本/名詞"]
#: Whitespace that splits tokens but ends no line for NLTK's stream reader.
ODD_SPACES = [" ", "\t", "  ", "\u00a0", "\u3000", "\u2003", "\u205f", " \t\u00a0"]


def odd_tagged_text(seed: int) -> str:
    """Lines of odd tokens and odd whitespace, blank lines of whitespace among them."""
    import random

    rng = random.Random(seed)
    lines = []
    for _ in range(300):
        if rng.random() < 0.2:
            lines.append("".join(rng.choices(ODD_SPACES, k=rng.randrange(3))))
            continue
        tokens = rng.choices(ODD_TOKENS, k=rng.randrange(1, 8))
        spaces = rng.choices(ODD_SPACES, k=len(tokens) + 1)
        lines.append(spaces[0] * rng.randrange(2) + "".join(
            token + space for token, space in zip(tokens, spaces[1:])).rstrip(" ") )
    return "\n".join(lines) + rng.choice(["", "\n", "\n\n"])


def nltk_tagged_records(root: Path, fileid: str, view: str, **kwargs: Any) -> list[dict[str, Any]]:
    root_path = os.path.realpath(root)
    with shard_reader_module.authorized(root_path):
        reader = TaggedCorpusReader(root_path, [fileid], **kwargs)
        convert = shard_reader_module.CONVERSIONS[view]
        return [{"fileid": fileid, **convert(item)} for item in getattr(reader, view)([fileid])]


@pytest.mark.parametrize("sep", ["/", "_", "//"])
@pytest.mark.parametrize("view", shard_reader_module.TAGGED_VIEWS)
def test_tagged_text_read_directly_equals_nltks_reader(tmp_path, view, sep):
    for seed in range(4):
        text = odd_tagged_text(seed)
        assert shard_reader_module.decoded_lines(text.encode(), "utf-8") == text
        (tmp_path / f"{seed}.pos").write_bytes(text.encode())
        expected = nltk_tagged_records(tmp_path, f"{seed}.pos", view, sep=sep, encoding="utf-8")
        got = shard_reader_module.tagged_records(text, view, sep, f"{seed}.pos")
        assert got == expected and len(got) > (30 if view == "paras" else 200)


@pytest.mark.parametrize("encoding, data", [
    ("utf-8", "a/b\rc/d\n".encode()), ("utf-8", "a/b\x0cc/d\n".encode()),
    ("utf-8", "a/b\u2028c/d\n".encode()), ("utf-8", "x/y\x85z/w\n".encode()),
    ("utf-8", "\ufeffa/b\n".encode()), ("utf-8", "a/b\x1fc/d\n".encode()), ("utf-8", b"a/\xff\n"), ("utf-16", "a/b\n".encode("utf-16")),
    ("utf-8-sig", "a/b\n".encode("utf-8-sig")), ("no-such-codec", b"a/b\n"),
])
def test_tagged_text_nltk_reads_otherwise_is_left_to_it(encoding, data):
    """Line breaks besides "\\n", a byte order mark, bytes that do not decode, codecs
    that keep state: NLTK's stream reader reads these its own way (or raises).  And
    "\\x1f", which ``str.split()`` splits at but NLTK's tokenizer does not."""
    assert shard_reader_module.decoded_lines(data, encoding) is None


@pytest.mark.parametrize("name, view", [("brown", "sents"), ("brown", "tagged_sents"),
                                        ("masc_tagged", "paras"), ("masc_tagged", "words")])
def test_named_tagged_corpora_are_read_directly(name, view):
    """brown and masc_tagged (word_TAG) take the direct path for every shard whose text
    allows it, and a shard with a file that does not (two of masc's have other line
    breaks) goes to NLTK's reader; the records equal the driver's either way."""
    with corpus_of({"name": name, "view": view}) as corpus:
        fileids = corpus.source().fileids
        chosen = [f for f in fileids if f.startswith(("ca", "cp", "spoken/", "written/a"))][:60]
    mapping = {"name": name, "view": view, "fileids": chosen}
    if name == "masc_tagged":
        mapping["fileids"] = chosen + [f for f in fileids if f not in chosen][-2:]
    with corpus_of(mapping) as corpus:
        expected = list(corpus.items())
        plan = planned(corpus, SMALL_SHARDS * 8)
        try:
            assert shard_reader_module.direct_tagged(plain(plan.recipe)) is not None
            directly = [all(shard_reader_module.decoded_lines(blob, plan.recipe["encoding"] or "utf-8")
                            is not None for blob in plan.blobs(shard)) for shard in plan.shards]
            got = worker_records(plan)
        finally:
            plan.close()
    assert got == expected and len(expected) > 1000
    assert sum(directly) > len(directly) // 2


def test_the_direct_path_makes_no_files_and_authorizes_nothing(tmp_path):
    text = "".join(BLOCKS["tagged"](i) + " \t\n" for i in range(30))
    (tmp_path / "a.pos").write_text(text, encoding="utf-8")
    (tmp_path / "b.pos").write_text(text.replace("\n", "\r\n"), encoding="utf-8")
    (tmp_path / "c.pos").write_text(text.replace("cat", "a\x1fcat"), encoding="utf-8")
    for name, made in (("a.pos", False), ("b.pos", True), ("c.pos", True)):
        with corpus_of({"path": str(tmp_path / name), "format": "tagged", "view": "sents"}) as corpus:
            expected = list(corpus.items())
            plan = planned(corpus, SHARD_BYTES)
            reader = ShardReader(plan.recipe)
            blobs = plan.blobs(plan.shards[0])
            before = list(nltk.data.path)
            try:
                got = []
                for record in reader.read(plan.describe(plan.shards[0]), blobs):
                    got.append(record)
                    assert (nltk.data.path != before) is made
                assert got == expected and (reader._root is not None) is made
            finally:
                reader.close()
                plan.close()
