"""A corpus from the user's own data: CSV and TSV tables, compressed files, standard
input -- read back through real readers and compared with the plain files' runs."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
import subprocess
import sys
import textwrap
from pathlib import Path

import nltk.data
import pytest
from conftest import corpus_of
from nltk import sent_tokenize, word_tokenize
from nltk.corpus.reader import TaggedCorpusReader

from nlp_parallel.cli import main
from nlp_parallel.corpus import parse_corpus
from nlp_parallel.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

#: A survey export as spreadsheets write it: a byte order mark, CRLF line ends, a
#: quoted answer over two lines, a quoted comma, a blank line, an empty answer.
SURVEY = (
    "\ufeffrespondent,answer,wave\r\n"
    '17,"The service was quick. I would come back.",1\r\n'
    '18,"Two lines,\r\nwith a comma inside.",1\r\n'
    "\r\n"
    "19,,2\r\n"
    '20,"Dr. Smith said ""fine"". Then left.",2\r\n'
)


def rows_of(text: str) -> list[list[str]]:
    """The rows Python's csv module reads from ``text``, blank lines dropped."""
    return [row for row in csv.reader(text.lstrip("\ufeff").splitlines(keepends=True)) if row]


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def job(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def items(mapping: dict, base: Path) -> list[dict]:
    with corpus_of(mapping, base) as corpus:
        return list(corpus.items())


# --- tables ----------------------------------------------------------------------------


def test_csv_rows_are_raw_items_with_their_ids(tmp_path, data_path_restored):
    write(tmp_path / "survey.csv", SURVEY)
    mapping = {"path": "survey.csv", "format": "csv", "view": "raw",
               "text_column": "answer", "id_columns": ["respondent", "wave"]}
    header, *rows = rows_of(SURVEY)
    assert header == ["respondent", "answer", "wave"] and len(rows) == 4
    assert items(mapping, tmp_path) == [
        {"fileid": "survey.csv", "text": answer, "ids": {"respondent": who, "wave": wave}}
        for who, answer, wave in rows
    ]
    assert rows[1][1] == "Two lines,\r\nwith a comma inside." and rows[2][1] == ""


def test_tsv_without_header_by_column_index(tmp_path):
    write(tmp_path / "t" / "a.tsv", "a1\tFirst text.\tx\n\na2\t\"Quoted\ttab.\"\ty\n")
    mapping = {"path": "t/*.tsv", "format": "tsv", "view": "raw", "header": False,
               "text_column": 1, "id_columns": [0]}
    assert items(mapping, tmp_path) == [
        {"fileid": "a.tsv", "text": "First text.", "ids": {"column_0": "a1"}},
        {"fileid": "a.tsv", "text": "Quoted\ttab.", "ids": {"column_0": "a2"}},
    ]


def test_a_missing_text_cell_names_the_line_the_row_starts_on(tmp_path):
    # The quoted cell spans lines 2-3, so the short row is on line 4.
    write(tmp_path / "s.csv", 'id,text\n1,"a\nb"\n2\n')
    mapping = {"path": "s.csv", "format": "csv", "view": "raw", "text_column": "text"}
    with pytest.raises(ConfigError) as caught:
        items(mapping, tmp_path)
    assert str(caught.value) == (
        f"corpus.path: {tmp_path / 's.csv'} line 4: no 'text' cell (the row has 1 cell)")


def test_a_quote_left_open_names_the_line_its_row_starts_on(tmp_path):
    # Read leniently, the rest of the file would be one cell.
    write(tmp_path / "s.csv", 'id,text\n1,fine\n2,"open\n3,more\n')
    mapping = {"path": "s.csv", "format": "csv", "view": "raw", "text_column": "text"}
    with pytest.raises(ConfigError) as caught:
        items(mapping, tmp_path)
    assert str(caught.value) == (
        f"corpus.path: {tmp_path / 's.csv'} line 3: not valid CSV (unexpected end of data)")


def test_a_column_not_in_the_header_is_refused_before_reading(tmp_path):
    write(tmp_path / "s.csv", SURVEY)
    mapping = {"path": "s.csv", "format": "csv", "view": "raw", "text_column": "answers"}
    with corpus_of(mapping, tmp_path) as corpus, pytest.raises(ConfigError) as caught:
        corpus.check()
    assert str(caught.value) == (
        f"corpus.text_column: 'answers' is not a column of {tmp_path / 's.csv'}; "
        "its header names 'respondent', 'answer', 'wave'")


@pytest.mark.parametrize("mapping, message", [
    ({"format": "csv"}, "corpus.text_column: required with format csv: the name of the "
                        "column that holds the text"),
    ({"format": "tsv", "header": False, "text_column": "text"},
     "corpus.text_column: with header: false, expected a 0-based column index, not 'text'"),
    ({"format": "csv", "text_column": "text", "id_columns": ["tokens"]},
     "corpus.id_columns: 'tokens' would shadow the output field of that name; the fields "
     "are index, fileid, sentences, tokens, tags, iob, tree, stems, lemmas, sentence, token, "
     "word, tag, lemma, stem, chunk, sent_id, text"),
    ({"format": "csv", "text_column": "text", "id_columns": "id"},
     "corpus.id_columns: expected a non-empty list of column names, not 'id'"),
    ({"format": "text", "text_column": "text"}, "corpus.text_column: only with format csv "
                                                "or tsv, not text"),
    ({"format": "csv", "text_column": "t", "view": "sents"},
     "corpus.view: csv files offer raw (not 'sents')"),
    ({"path": "-", "format": "jsonl", "fileids": ["a"]},
     "corpus.fileids: only with a glob: standard input (path '-') is one stream"),
])
def test_table_and_stdin_keys_are_checked(mapping, message):
    full = {"path": "x.csv", "view": "raw", **mapping}
    with pytest.raises(ConfigError) as caught:
        parse_corpus(full)
    assert str(caught.value) == message


# --- compression -----------------------------------------------------------------------

COMPRESSORS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}

#: A file of each user format and a view of it.
PLAIN = {
    "text": ("sents", "The dog barks. The cat, too.\n\nA new paragraph here.\n"),
    "tagged": ("tagged_sents", "The/DT dog/NN barks/VBZ ./.\n\nIt/PRP runs/VBZ\n"),
    "conll": ("chunked_sents", "The DT B-NP\ndog NN I-NP\nbarks VBZ B-VP\n\nIt PRP B-NP\n"),
    "jsonl": ("tagged_sents", '{"tokens": ["Hi", "there"], "tags": ["UH", "RB"]}\n\n'
                              '{"tokens": ["Ça"], "tags": ["PRP"]}\n'),
    "csv": ("raw", SURVEY),
}


@pytest.mark.parametrize("compression", COMPRESSORS)
@pytest.mark.parametrize("fmt", PLAIN)
def test_compressed_files_read_as_the_plain_ones(tmp_path, fmt, compression, data_path_restored):
    view, text = PLAIN[fmt]
    data = text.encode("utf-8")
    write(tmp_path / "plain" / "a.in", data)
    # Named as the plain one is: the first bytes tell, not the name.
    write(tmp_path / "packed" / "a.in", COMPRESSORS[compression](data))
    extra = {"text_column": "answer", "id_columns": ["respondent"]} if fmt == "csv" else {}
    expected = items({"path": "plain/a.in", "format": fmt, "view": view, **extra}, tmp_path)
    found = items({"path": "packed/a.in", "format": fmt, "view": view, **extra}, tmp_path)
    assert found == expected and len(expected) >= 2


def test_plain_text_named_gz_is_read_as_it_is(tmp_path):
    write(tmp_path / "notes.txt.gz", "Not compressed at all.\n")
    assert items({"path": "notes.txt.gz", "format": "text", "view": "raw"}, tmp_path) == [
        {"fileid": "notes.txt.gz", "text": "Not compressed at all.\n"}]


@pytest.mark.parametrize("compress, where", [
    (lambda data: data, "offset 13"),
    (gzip.compress, "offset 13 of its decompressed text"),
])
def test_bytes_not_of_the_encoding_are_found_in_a_table(tmp_path, compress, where):
    write(tmp_path / "s.csv", compress(b"id,text\n1,caf\xe9\n"))
    mapping = {"path": "s.csv", "format": "csv", "view": "raw", "text_column": "text"}
    with pytest.raises(ConfigError) as caught:
        items(mapping, tmp_path)
    assert str(caught.value) == (
        f"corpus.path: {tmp_path / 's.csv'}: not valid utf-8 (byte 0xe9 at {where})")


def test_a_damaged_compressed_file_is_named(tmp_path):
    whole = gzip.compress(b'{"text": "hello"}\n' * 1000)
    write(tmp_path / "cut.jsonl.gz", whole[: len(whole) // 2])
    mapping = {"path": "cut.jsonl.gz", "format": "jsonl", "view": "raw"}
    with pytest.raises(ConfigError, match=r"^corpus\.path: .*cut\.jsonl\.gz: not a readable "
                                          r"gzip stream \(Compressed file ended"):
        items(mapping, tmp_path)


# --- whole jobs ------------------------------------------------------------------------


def test_a_gzipped_csv_job_tokenizes_each_answer_and_carries_its_ids(tmp_path):
    write(tmp_path / "survey.csv", SURVEY)
    write(tmp_path / "survey.csv.gz", gzip.compress(SURVEY.encode("utf-8")))
    outputs = []
    for name in ("survey.csv", "survey.csv.gz"):
        out = tmp_path / f"{name}.jsonl"
        path = job(tmp_path / "job.yaml", f"""\
            corpus:
              path: {name}
              format: csv
              view: raw
              text_column: answer
              id_columns: [respondent]
            task: {{name: tokenize}}
            specs: [popen]
            read: workers
            output: {{path: {out}, format: jsonl}}
            """)
        assert main(["run", str(path), "--quiet"]) == 0
        outputs.append(read_jsonl(out))
    plain, packed = outputs
    _, *rows = rows_of(SURVEY)
    assert plain == [
        {"index": i, "fileid": "survey.csv", "respondent": who,
         "sentences": [word_tokenize(s) for s in sent_tokenize(answer)]}
        for i, (who, answer, _) in enumerate(rows)
    ]
    assert packed == [{**line, "fileid": "survey.csv.gz"} for line in plain]


def test_one_job_over_plain_and_compressed_copies_writes_each_alike(tmp_path):
    text = "The dog barks. The cat, too.\n\nA new paragraph here. It ends.\n"
    write(tmp_path / "t" / "0-plain.txt", text)
    for name, compress in COMPRESSORS.items():
        write(tmp_path / "t" / f"1-{name}.txt", compress(text.encode("utf-8")))
    out = tmp_path / "out.tagged"
    path = job(tmp_path / "job.yaml", f"""\
        corpus: {{path: "t/*.txt", format: text, view: sents}}
        task: {{name: tag}}
        specs: [popen]
        read: workers
        output: {{path: {out}, format: tagged}}
        """)
    assert main(["run", str(path), "--quiet"]) == 0
    nltk.data.path.append(str(tmp_path))  # authorize the output for NLTK's reader
    try:
        sents = TaggedCorpusReader(str(tmp_path), ["out.tagged"]).tagged_sents()[:]
    finally:
        nltk.data.path.remove(str(tmp_path))
    assert len(sents) == 4 * 4
    assert sents[4:8] == sents[8:12] == sents[12:16] == sents[0:4]
    assert [w for w, _ in sents[0]] == ["The", "dog", "barks", "."]


def test_a_shell_pipeline_on_standard_input_equals_the_file_run(tmp_path):
    sents = [["The", "dog", "barks", "."], ["It", "runs", "fast", "."], ["Ça", "va", "?"]]
    lines = "".join(json.dumps({"tokens": s}, ensure_ascii=False) + "\n" for s in sents)
    write(tmp_path / "in.jsonl", lines)
    write(tmp_path / "in.jsonl.xz", lzma.compress(lines.encode("utf-8")))
    runs = {}
    for name, path, command, output in [
        ("file", "in.jsonl", "", "file.tagged"),
        ("stdin", '"-"', "cat in.jsonl | ", "stdin.tagged"),
        ("xz", '"-"', "cat in.jsonl.xz | ", "xz.tagged"),
        # Standard input to standard output, the view left to the task.
        ("pipe", '"-"', "cat in.jsonl | ", '"-"'),
    ]:
        view = "" if name == "pipe" else ", view: sents"
        job(tmp_path / f"{name}.yaml", f"""\
            corpus: {{path: {path}, format: jsonl{view}}}
            task: {{name: tag}}
            specs: [popen]
            output: {{path: {output}, format: tagged}}
            """)
        shell = f"{command}{sys.executable} -m nlp_parallel run {name}.yaml --quiet"
        if name == "pipe":
            shell += " > pipe.tagged"
        proc = subprocess.run(shell, shell=True, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        runs[name] = (tmp_path / f"{name}.tagged").read_bytes()
    assert runs["stdin"] == runs["file"] == runs["xz"] == runs["pipe"]
    assert runs["file"].decode("utf-8").count("\n") == len(sents)


def test_resume_is_refused_for_standard_input(tmp_path, capsys):
    path = job(tmp_path / "job.yaml", f"""\
        corpus: {{path: "-", format: jsonl, view: sents}}
        task: {{name: tag}}
        output: {{path: {tmp_path / 'out.tagged'}, format: tagged}}
        """)
    assert main(["run", str(path), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err == (f"nlp-parallel: error: {path}: corpus.path: '-' reads standard input, which "
                   "a resumed run cannot read again from where it stopped; run the job whole "
                   "again, with --overwrite in place of --resume\n")
    assert not (tmp_path / "out.tagged").exists()


def test_validate_says_who_reads_standard_input(tmp_path, capsys):
    path = job(tmp_path / "job.yaml", """\
        corpus: {path: "-", format: text, view: sents}
        task: {name: tag}
        read: workers
        output: {path: out.tagged, format: tagged}
        """)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "tag over standard input (sents, read by the driver (standard input is one " \
           "stream, which only the driver reads))" in out
