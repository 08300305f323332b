"""The token formats read back: CoNLL-U through the ``conllu`` parser, VRT through a
reader that follows CWB's rules, the token table through ``csv``.

Each job runs on real gateways and is compared with the same job's JSONL output
(itself compared with serial NLTK elsewhere); generated tokens -- XML's special
characters, quotes, whitespace, the workers' own marks -- go through the workers'
formatting and the driver's numbering and back.
"""

from __future__ import annotations

import csv
import gzip
import html
import io
import json
import re
from pathlib import Path

import conllu
import pytest
import yaml

from conftest import interrupted
from nlp_parallel import GatewayPool
from nlp_parallel.documents import Documents, header
from nlp_parallel.jobs import JobError, load_job
from nlp_parallel.runner import run_job
from nlp_parallel.remote_tasks.pipeline import TokenLines

CHUNK_STEPS = [{"name": "chunk", "options": {"grammar": "NP: {<DT>?<JJ.*>*<NN.*>+}"}},
               {"name": "stem"}]
#: Lemmatizing loads WordNet in each worker (seconds): only where LEMMA is tested.
LEMMA_STEPS = [*CHUNK_STEPS, {"name": "lemmatize"}]
TEXTS = ["The old man saw a dog. It ran away quickly!",
         "Green ideas sleep furiously.", "", "A & B said \"yes\" to <them>. Then left."]


@pytest.fixture(scope="module")
def pool():
    with GatewayPool([("popen", 2)]) as started:
        yield started


def write_job(directory: Path, name: str, output: str, fmt: str, corpus: dict,
              steps: list, **more) -> Path:
    job = {"corpus": corpus, "task": {"name": "pipeline", "steps": steps},
           "specs": [["popen", 2]], "output": {"path": output, "format": fmt}, **more}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(job), encoding="utf-8")
    return path


def run(directory: Path, pool, fmt: str, corpus: dict, steps: list, suffix: str = "",
        **more) -> tuple[str, list[dict]]:
    """The job's output as ``fmt`` and, from the same job, its JSONL records."""
    texts = {}
    for form in (fmt, "jsonl"):
        out = directory / f"out.{form}{suffix if form == fmt else ''}"
        run_job(load_job(str(write_job(directory, form, str(out), form, corpus, steps,
                                       **more))), pool=pool)
        texts[form] = (gzip.decompress(out.read_bytes()).decode("utf-8") if out.suffix == ".gz"
                       else out.read_text(encoding="utf-8"))
    return texts[fmt], [json.loads(line) for line in texts["jsonl"].splitlines()]


def sentences(records: list[dict]) -> list[tuple[str, str | None, dict]]:
    """(sent_id, fileid, sentence record) of each non-empty sentence, in order."""
    found = []
    for record in records:
        if "sentences" in record:
            for k, sentence in enumerate(record["sentences"], 1):
                found.append((f"{record['index']}-{k}", record.get("fileid"), sentence))
        else:
            found.append((str(record["index"]), record.get("fileid"), record))
    return [s for s in found if s[2]["tokens"]]


# -- the readers ------------------------------------------------------------------

WHITESPACE = re.compile(r"\s")


def column(text: str) -> str:
    """A CoNLL-U or VRT field as the README documents it: whitespace ␣, empty ``_``."""
    return WHITESPACE.sub("\u2423", text) or "_"


TAG = re.compile(r'<(/?)([A-Za-z_][\w.-]*)((?: [A-Za-z_][\w.-]*="[^"<>]*")*)>$')
ATTRIBUTE = re.compile(r'([A-Za-z_][\w.-]*)="([^"]*)"')


def read_vrt(text: str, positional: int) -> list[dict]:
    """CWB's vertical text: a line is a structural tag (``<name attr="v">`` or
    ``</name>``, properly nested) or a token of exactly ``positional`` tab-separated
    attributes, XML-escaped.  Each sentence: its text's and its own attributes, the
    tokens' columns and each token's innermost chunk as IOB."""
    stack: list[tuple[str, dict]] = []
    found: list[dict] = []
    chunk_started = False
    for line in text.split("\n")[:-1]:
        if line.startswith("<"):
            match = TAG.match(line)
            assert match, f"not a structural tag: {line!r}"
            closing, name, attributes = match.groups()
            if closing:
                assert stack and stack[-1][0] == name, f"</{name}> closes {stack[-1:]}"
                stack.pop()
                continue
            values = {k: html.unescape(v) for k, v in ATTRIBUTE.findall(attributes)}
            assert name != "text" or not stack, "<text> inside another element"
            assert name != "s" or [n for n, _ in stack] == ["text"], f"<s> in {stack}"
            assert name != "chunk" or stack[-1][0] == "s", f"<chunk> in {stack}"
            stack.append((name, values))
            if name == "s":
                found.append({"text": stack[0][1], "s": values, "columns": [], "iob": []})
            chunk_started = name == "chunk"
            continue
        assert "<" not in line and ">" not in line and '"' not in line
        fields = line.split("\t")
        assert len(fields) == positional, f"{len(fields)} attributes: {line!r}"
        assert [n for n, _ in stack][:2] == ["text", "s"]
        sentence = found[-1]
        sentence["columns"].append([html.unescape(f) for f in fields])
        if stack[-1][0] == "chunk":
            sentence["iob"].append(("B-" if chunk_started else "I-") + stack[-1][1]["type"])
        else:
            sentence["iob"].append("O")
        chunk_started = False
    assert not stack, f"left open: {stack}"
    return found


def read_tsv(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t"))
    return rows[0], rows[1:]


# -- real runs ----------------------------------------------------------------------

TREEBANK = {"name": "treebank", "view": "tagged_sents", "limit": 80}


def test_conllu_reads_back_with_documents_lemmas_and_misc(tmp_path, pool):
    text, records = run(tmp_path, pool, "conllu", TREEBANK, LEMMA_STEPS)
    parsed = conllu.parse(text)
    expected = sentences(records)
    assert len(parsed) == len(expected) == 80
    fileids = []
    for sentence, (sid, fileid, record) in zip(parsed, expected):
        assert sentence.metadata["sent_id"] == sid
        if "newdoc id" in sentence.metadata:
            fileids.append(sentence.metadata["newdoc id"])
        assert fileids[-1] == fileid
        forms = [column(t) for t in record["tokens"]]
        assert sentence.metadata["text"] == " ".join(forms)
        assert [t["id"] for t in sentence] == list(range(1, len(forms) + 1))
        assert [t["form"] for t in sentence] == forms
        assert [t["lemma"] for t in sentence] == [column(x) for x in record["lemmas"]]
        assert [t["xpos"] for t in sentence] == [column(x) for x in record["tags"]]
        assert {t["upos"] for t in sentence} == {"_"}
        assert [t["misc"] for t in sentence] == [
            {"Stem": column(stem), "Chunk": iob}
            for stem, iob in zip(record["stems"], record["iob"])]
    assert fileids == list(dict.fromkeys(r["fileid"] for r in records))
    assert len(fileids) > 1


def test_conllu_of_texts_has_upos_for_the_universal_tagset(tmp_path, pool):
    corpus_file = tmp_path / "texts.jsonl"
    corpus_file.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    steps = [{"name": "tokenize"}, {"name": "tag", "options": {"tagset": "universal"}}]
    corpus = {"path": str(corpus_file), "format": "jsonl", "view": "raw"}
    text, records = run(tmp_path, pool, "conllu", corpus, steps)
    parsed = conllu.parse(text)
    expected = sentences(records)
    assert [s.metadata["sent_id"] for s in parsed] == ["0-1", "0-2", "1-1", "3-1", "3-2"]
    assert [s.metadata["sent_id"] for s in parsed] == [sid for sid, _, _ in expected]
    for sentence, (_, _, record) in zip(parsed, expected):
        assert [t["form"] for t in sentence] == [column(x) for x in record["tokens"]]
        assert [t["upos"] for t in sentence] == record["tags"]
        assert {t["xpos"] for t in sentence} == {None}  # the parser's reading of _
    assert "NOUN" in {t["upos"] for s in parsed for t in s}


def test_vrt_reads_back_as_cwb_would(tmp_path, pool):
    text, records = run(tmp_path, pool, "vrt", TREEBANK, CHUNK_STEPS, read="workers")
    found = read_vrt(text, positional=3)  # word, tag, stem
    expected = sentences(records)
    assert len(found) == len(expected) == 80
    for sentence, (sid, fileid, record) in zip(found, expected):
        assert sentence["s"] == {"id": sid}
        assert sentence["text"] == {"id": fileid}
        assert sentence["columns"] == [
            [column(w), column(t), column(stem)] for w, t, stem
            in zip(record["tokens"], record["tags"], record["stems"])]
        assert sentence["iob"] == record["iob"]
    assert text.count("<text ") == len({r["fileid"] for r in records}) > 1


def test_token_tsv_reads_back_with_csv(tmp_path, pool):
    text, records = run(tmp_path, pool, "tsv", TREEBANK, CHUNK_STEPS)
    head, rows = read_tsv(text)
    assert head == ["index", "fileid", "token", "word", "tag", "stem", "chunk"]
    assert rows == [[sid, fileid, str(i), *values]
                    for sid, fileid, record in sentences(records)
                    for i, values in enumerate(zip(record["tokens"], record["tags"],
                                                   record["stems"], record["iob"]), 1)]


def test_resumed_vrt_gz_equals_an_uninterrupted_run_byte_for_byte(tmp_path, pool):
    """Interrupted inside a file's sentences: the resumed run continues its <text>,
    and the compressed bytes are those of a run never stopped."""
    corpus = {"name": "treebank", "view": "tagged_sents", "limit": 200}
    whole = tmp_path / "whole.vrt.gz"
    run_job(load_job(str(write_job(tmp_path, "whole", str(whole), "vrt", corpus,
                                   CHUNK_STEPS[:1]))), pool=pool)
    out = tmp_path / "resumed.vrt.gz"
    job = write_job(tmp_path, "resumed", str(out), "vrt", corpus, CHUNK_STEPS[:1],
                    batch_size=10, read="workers")
    interrupted(job, after=95)
    assert not out.exists() and (tmp_path / ".resumed.vrt.gz.part").exists()
    summary = run_job(load_job(str(job)), resume=True, pool=pool)
    assert summary.resumed_from >= 95
    assert out.read_bytes() == whole.read_bytes()
    text = gzip.decompress(out.read_bytes()).decode("utf-8")
    assert len(read_vrt(text, positional=2)) == 200


# -- generated tokens through the workers' formatting and the driver's numbering --

TOKENS = ["&", "<s>", "</text>", '"', "a\tb", "a b", "", "x\ny", "\x00", "\x01", "_", "|",
          "A&amp;B", "é", "'", "#", "1", "\u2028"]


def formatted(fmt: str, records: list[dict], texts: bool = False) -> str:
    lines = TokenLines(fmt, universal=False, texts=texts)
    documents = Documents(fmt)
    items = [lines.item(fileid, [record]) + "\n" for fileid, record in records]
    return documents.number("".join(items), 7) + documents.end()


def generated() -> list[tuple[str, dict]]:
    records = []
    for n in range(len(TOKENS)):
        tokens = TOKENS[n:] + TOKENS[:n]
        records.append(("f&<1>" if n < 9 else 'f"2', {
            "tokens": tokens, "tags": list(reversed(tokens)),
            "iob": ["B-NP" if i % 3 == 0 else "I-NP" if i % 3 == 1 else "O"
                    for i in range(len(tokens))],
            "stems": tokens}))
    return records


def marked(text: str) -> str:
    return text.replace("\x00", "\u2400").replace("\x01", "\u2401")


def test_generated_tokens_through_vrt():
    records = generated()
    found = read_vrt(formatted("vrt", records), positional=3)
    assert [s["s"]["id"] for s in found] == [str(7 + i) for i in range(len(records))]
    assert [s["text"]["id"] for s in found] == [column(f) for f, _ in records]
    for sentence, (_, record) in zip(found, records):
        assert sentence["columns"] == [[marked(column(x)) for x in values] for values in
                                       zip(record["tokens"], record["tags"], record["stems"])]
        assert sentence["iob"] == record["iob"]


def test_generated_tokens_through_conllu_and_tsv():
    records = generated()
    parsed = conllu.parse(formatted("conllu", records))
    assert [s.metadata.get("newdoc id") for s in parsed] == ["f&<1>"] + [None] * 8 + [
        'f"2'] + [None] * (len(records) - 10)
    for sentence, (_, record) in zip(parsed, records):
        assert [t["form"] for t in sentence] == [marked(column(x)) for x in record["tokens"]]
        stems = [marked(column(x)).replace("|", "\u00a6") for x in record["stems"]]
        assert [t["misc"]["Stem"] for t in sentence] == [  # the parser reads _ as None
            None if stem == "_" else stem for stem in stems]
    head, rows = read_tsv(header(["stems", "iob", "tags"], texts=False)
                          + formatted("tsv", records))
    assert head == ["index", "fileid", "token", "word", "tag", "stem", "chunk"]
    assert rows == [[str(7 + n), marked(fileid), str(i), *map(marked, values)]
                    for n, (fileid, record) in enumerate(records)
                    for i, values in enumerate(zip(record["tokens"], record["tags"],
                                                   record["stems"], record["iob"]), 1)]


# -- checked before a run ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["conllu", "vrt"])
def test_a_count_refuses_the_token_formats(tmp_path, fmt):
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump({"corpus": TREEBANK, "task": {"name": "count"},
                                   "output": {"path": "out", "format": fmt}}))
    with pytest.raises(JobError, match=f"output.format: a count writes its merged counts "
                                       f"as json or tsv, not {fmt}"):
        load_job(str(job))


def test_a_resume_continues_the_open_document_and_never_closes_one_twice(tmp_path):
    whole = formatted("vrt", generated()[:3])  # items of one file
    assert whole.endswith("</s>\n</text>\n")
    part = tmp_path / "part"
    part.write_text(whole.removesuffix("</text>\n"), encoding="utf-8")
    resumed = Documents("vrt")
    resumed.resume(str(part), part.stat().st_size)
    assert resumed.starts("f&<1>", 3) == "" and resumed.end() == "</text>\n"
    part.write_text(whole, encoding="utf-8")  # stopped after the last item was closed
    finished = Documents("vrt")
    finished.resume(str(part), part.stat().st_size)
    assert finished.end() == ""


def test_a_tables_id_columns_go_into_every_token_format(tmp_path, pool):
    """A CSV's id columns reach each sentence: CoNLL-U comments, attributes of VRT's
    ``<s>`` (``id`` as ``row_id``, the sentence's number keeping ``id``), and tsv
    columns after the fileid -- as the JSONL line carries them."""
    rows = [["id", "wave", "answer"], ["r1", "w 1", TEXTS[0]], ["r2", "w&2", TEXTS[3]]]
    with open(tmp_path / "answers.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    corpus = {"path": str(tmp_path / "answers.csv"), "format": "csv", "view": "raw",
              "text_column": "answer", "id_columns": ["id", "wave"]}
    steps = [{"name": "tokenize"}, {"name": "tag"}]
    ids = [{"id": "r1", "wave": "w 1"}, {"id": "r1", "wave": "w 1"},
           {"id": "r2", "wave": "w&2"}, {"id": "r2", "wave": "w&2"}]
    for name in ("conllu", "vrt", "tsv"):
        (tmp_path / name).mkdir()
    conll, records = run(tmp_path / "conllu", pool, "conllu", corpus, steps)
    assert [{k: line[k] for k in ("id", "wave")} for line in records] == [ids[0], ids[2]]
    assert [{k: s.metadata[k] for k in ("id", "wave")} for s in conllu.parse(conll)] == ids
    vrt, _ = run(tmp_path / "vrt", pool, "vrt", corpus, steps)
    assert [{k: s["s"][k] for k in ("row_id", "wave")} for s in read_vrt(vrt, 2)] == [
        {"row_id": i["id"], "wave": i["wave"]} for i in ids]
    tsv, _ = run(tmp_path / "tsv", pool, "tsv", corpus, steps)
    names, table = read_tsv(tsv)
    assert names[:6] == ["index", "sentence", "fileid", "id", "wave", "token"]
    assert {(row[3], row[4]) for row in table} == {("r1", "w 1"), ("r2", "w&2")}
    assert len(table) == sum(len(s["tokens"]) for line in records for s in line["sentences"])
