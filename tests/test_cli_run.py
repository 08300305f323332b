"""End to end: job files run through the CLI, outputs read back with NLTK's readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from hashlib import md5, sha256
from pathlib import Path

import nltk.data
import pytest
from nltk import word_tokenize
from nltk.chunk import RegexpParser, tree2conlltags
from nltk.corpus import conll2000, treebank
from nltk.corpus.reader import BracketParseCorpusReader, ConllChunkCorpusReader
from nltk.corpus.reader import TaggedCorpusReader
from nltk.stem import PorterStemmer
from nltk.tag import PerceptronTagger, pos_tag
from nltk.tokenize import TreebankWordTokenizer
from nltk.tree import Tree

from nlp_parallel.cli import main

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "corpora_configs"
GRAMMAR = r"NP: {<DT|PRP\$>?<JJ.*>*<NN.*>+}"


def write_job(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def readable(tmp_path):
    """Authorize exactly this test's directory for NLTK's readers, as a user would."""
    nltk.data.path.append(str(tmp_path))
    yield tmp_path
    nltk.data.path.remove(str(tmp_path))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_quickstart_runs_from_a_shell(tmp_path):
    """`python -m nlp_parallel run` as a user types it, without any NLTK data."""
    env = {**os.environ, "NLTK_DATA": str(tmp_path / "empty"), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "nlp_parallel", "run", str(CONFIGS / "quickstart.yaml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "items" in proc.stderr and "per gateway" in proc.stderr
    records = read_jsonl(tmp_path / "out" / "quickstart.jsonl")
    paragraphs = [p for f in sorted((CONFIGS / "sample").glob("*.txt"))
                  for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    assert [r["index"] for r in records] == list(range(len(paragraphs)))
    stemmer, tokenizer = PorterStemmer(), TreebankWordTokenizer()
    for record, paragraph in zip(records, paragraphs):
        tokens = tokenizer.tokenize(paragraph)
        assert record["sentences"] == [{"tokens": tokens,
                                        "stems": [stemmer.stem(t) for t in tokens]}]


def test_the_installed_command_runs_a_job(tmp_path):
    """`nlp-parallel`, the script pip installs beside the interpreter, as the README shows."""
    command = Path(sys.executable).with_name("nlp-parallel")
    assert command.is_file(), "the package is installed with its console script"
    out = tmp_path / "tb.jsonl"
    proc = subprocess.run(
        [str(command), "run", str(CONFIGS / "treebank_tag.yaml"), "--limit", "40",
         "--output", str(out), "--specs", "2*popen"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "40 items" in proc.stderr
    assert [r["index"] for r in read_jsonl(out)] == list(range(40))


@pytest.mark.parametrize("config, args", [
    ("treebank_tag.yaml", []),
    ("brown_tag.yaml", []),
    ("brown_stem.yaml", []),
    ("conll2000_chunk_regexp.yaml", []),
    ("conll2000_chunk_trained.yaml", []),
    ("state_union_pipeline.yaml", []),
    ("brown_news_collocations.yaml", []),
    ("brown_tags_by_category.yaml", []),
    ("ssh_cluster.yaml", ["--specs", "2*popen"]),
    ("slurm_tag.yaml", ["--specs", "2*popen"]),
])
def test_ready_jobs_run(tmp_path, capsys, config, args):
    out = tmp_path / "out.data"
    code = main(["run", str(CONFIGS / config), "--limit", "40", "--output", str(out),
                 "--quiet", *args])
    assert code == 0, capsys.readouterr().err
    assert out.stat().st_size > 0
    assert main(["validate", str(CONFIGS / config), "--output", str(tmp_path / "v")]) == 0


def test_jsonl_output_of_treebank_tagging(tmp_path, capsys):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path / "job.yaml", f"""
        corpus: {{name: treebank, view: sents, fileids: [wsj_0001.mrg, wsj_0002.mrg], start: 1}}
        task: {{name: tag, options: {{tagset: universal}}}}
        specs: [[popen, 2]]
        output: {{path: {out}}}
    """)
    assert main(["run", str(job), "--quiet"]) == 0
    records = read_jsonl(out)
    sents = treebank.sents(["wsj_0001.mrg", "wsj_0002.mrg"])[1:]
    assert [r["index"] for r in records] == list(range(1, 1 + len(sents)))
    assert [r["fileid"] for r in records] == ["wsj_0001.mrg"] + ["wsj_0002.mrg"]
    assert [r["tokens"] for r in records] == [list(s) for s in sents]
    assert [r["tags"] for r in records] == [
        [t for _, t in pos_tag(s, tagset="universal")] for s in sents
    ]


def test_conll_output_reads_back_with_nltk(tmp_path, capsys, readable):
    out = tmp_path / "chunks.conll"
    job = write_job(tmp_path / "job.yaml", f"""
        corpus: {{name: conll2000, view: tagged_sents, fileids: [test.txt], limit: 300}}
        task: {{name: chunk, options: {{grammar: '{GRAMMAR}', tree: false}}}}
        output: {{path: {out}, format: conll}}
    """)
    assert main(["run", str(job), "--quiet"]) == 0
    reader = ConllChunkCorpusReader(str(tmp_path), [out.name], ("NP",))
    parser = RegexpParser(GRAMMAR)
    gold = conll2000.tagged_sents("test.txt")[:300]
    assert list(reader.chunked_sents()) == [parser.parse(s) for s in gold]
    assert [[c for _, _, c in tree2conlltags(t)] for t in reader.chunked_sents()] == [
        [c for _, _, c in tree2conlltags(parser.parse(s))] for s in gold
    ]


def test_tagged_output_reads_back_with_nltk(tmp_path, capsys, readable):
    out = tmp_path / "tb.pos"
    job = write_job(tmp_path / "job.yaml", f"""
        corpus: {{name: treebank, view: sents, limit: 200}}
        task: {{name: tag}}
        output: {{path: {out}, format: tagged}}
    """)
    assert main(["run", str(job), "--quiet"]) == 0
    reader = TaggedCorpusReader(str(tmp_path), [out.name], sent_tokenizer=_line_tokenizer())
    tagger = PerceptronTagger()
    assert list(reader.tagged_sents()) == [tagger.tag(list(s)) for s in treebank.sents()[:200]]


def _line_tokenizer():
    from nltk.tokenize import LineTokenizer

    return LineTokenizer()


def test_tree_output_reads_back_with_nltk(tmp_path, capsys, readable):
    out = tmp_path / "chunks.mrg"
    job = write_job(tmp_path / "job.yaml", f"""
        corpus: {{name: treebank, view: sents, limit: 200}}
        task:
          name: pipeline
          steps: [{{name: tag}}, {{name: chunk, options: {{grammar: '{GRAMMAR}'}}}}]
        output: {{path: {out}, format: tree}}
    """)
    assert main(["run", str(job), "--quiet"]) == 0
    got = [chunk_tree(t) for t in BracketParseCorpusReader(str(tmp_path), [out.name]).parsed_sents()]
    tagger, parser = PerceptronTagger(), RegexpParser(GRAMMAR)
    ptb = {"(": "-LRB-", ")": "-RRB-"}  # brackets as the Penn Treebank writes them
    expected = []
    for sent in treebank.sents()[:200]:
        tree = parser.parse(tagger.tag(list(sent)))
        expected.append(Tree(tree.label(), [escape(c, ptb) for c in tree]))
    assert got == expected


def chunk_tree(tree: Tree) -> Tree:
    """A read-back tree with (TAG word) preterminals as a chunk tree of (word, tag) leaves."""
    return Tree(tree.label(), [(c[0], c.label()) if c.height() == 2 else chunk_tree(c)
                               for c in tree])


def escape(node, table):
    if isinstance(node, Tree):
        return Tree(node.label(), [escape(c, table) for c in node])
    return tuple(table.get(part, part) for part in node)


def test_one_jobs_jsonl_feeds_the_next(tmp_path, capsys, readable):
    """Tag in one job, chunk its JSONL output in another."""
    tagged_out, chunk_out = tmp_path / "tagged.jsonl", tmp_path / "chunks.conll"
    first = write_job(tmp_path / "tag.yaml", f"""
        corpus: {{name: treebank, view: sents, limit: 150}}
        task: {{name: tag}}
        output: {{path: {tagged_out}}}
    """)
    second = write_job(tmp_path / "chunk.yaml", f"""
        corpus: {{path: {tagged_out.name}, format: jsonl, view: tagged_sents}}
        task: {{name: chunk, options: {{grammar: '{GRAMMAR}', tree: false}}}}
        output: {{path: {chunk_out}, format: conll}}
    """)
    assert main(["run", str(first), "--quiet"]) == 0
    assert main(["run", str(second), "--quiet"]) == 0
    tagger, parser = PerceptronTagger(), RegexpParser(GRAMMAR)
    reader = ConllChunkCorpusReader(str(tmp_path), [chunk_out.name], ("NP",))
    assert list(reader.chunked_sents()) == [parser.parse(tagger.tag(list(s)))
                                      for s in treebank.sents()[:150]]


def test_text_output_of_a_tokenize_pipeline(tmp_path, capsys):
    out = tmp_path / "tokens.txt"
    job = write_job(tmp_path / "job.yaml", f"""
        corpus: {{name: state_union, view: raw, fileids: [1945-Truman.txt]}}
        task: {{name: tokenize}}
        output: {{path: {out}, format: text}}
    """)
    assert main(["run", str(job), "--quiet"]) == 0
    from nltk import sent_tokenize
    from nltk.corpus import state_union

    text = state_union.raw("1945-Truman.txt")
    assert out.read_text(encoding="utf-8").splitlines() == [
        " ".join(word_tokenize(s)) for s in sent_tokenize(text)
    ]


MEMORY = """
import resource, sys
from nlp_parallel.cli import main
code = main(["run", sys.argv[1], "--limit", sys.argv[2], "--output", sys.argv[3], "--quiet",
             "--overwrite"])
assert code == 0
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_brown_job_driver_memory_stays_flat(tmp_path):
    """20,000 brown sentences need no more driver memory than 2,000."""
    def peak(limit: int) -> int:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY, str(CONFIGS / "brown_tag.yaml"), str(limit),
             str(tmp_path / "brown.jsonl")], capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1])

    small, large = peak(2000), peak(20000)
    assert large - small < 30 * 1024, f"2k: {small} KiB, 20k: {large} KiB"


def test_validate_tasks_corpora_and_check(tmp_path, capsys):
    assert main(["validate", str(CONFIGS / "treebank_tag.yaml")]) == 0
    assert "ok: tag over treebank" in capsys.readouterr().out
    assert main(["tasks"]) == 0
    listing = capsys.readouterr().out
    for name in ("tag:", "chunk:", "stem:", "tokenize:", "lemmatize:", "pipeline:", "module:"):
        assert name in listing
    assert main(["corpora"]) == 0
    corpora = capsys.readouterr().out
    assert "treebank: " in corpora and "tagged_sents" in corpora
    assert main(["check", "--specs", "2*popen"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("Python 3." in line and "round trip" in line for line in lines)


def test_data_install_from_a_local_mirror(tmp_path, capsys):
    mirror, target = tmp_path / "mirror", tmp_path / "nltk_data"
    package = mirror / "packages" / "corpora" / "tiny.zip"
    package.parent.mkdir(parents=True)
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("tiny/README", "a tiny corpus\n")
    data = package.read_bytes()
    (mirror / "index.xml").write_text(textwrap.dedent(f"""\
        <?xml version="1.0"?>
        <nltk_data><packages>
        <package id="tiny" name="Tiny" subdir="corpora" url="https://example.invalid/tiny.zip"
          size="{len(data)}" unzipped_size="14" checksum="{md5(data).hexdigest()}"
          sha256_checksum="{sha256(data).hexdigest()}" unzip="1"/>
        </packages><collections/></nltk_data>
    """))
    assert main(["data", "install", "tiny", "--from", str(mirror), "--dir", str(target)]) == 0
    assert (target / "corpora" / "tiny.zip").is_file()
    assert main(["data", "install", "nope", "--from", str(mirror), "--dir", str(target)]) == 2
    assert "'nope' is not a package" in capsys.readouterr().err


def test_progress_bar_on_a_terminal_has_a_total(tmp_path):
    """On a terminal, run shows tqdm's bar, with a total (so an ETA) under a limit."""
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.run(
        [sys.executable, "-m", "nlp_parallel", "run", str(CONFIGS / "treebank_tag.yaml"),
         "--output", str(tmp_path / "tb.jsonl"), "--specs", "2*popen", "--limit", "3000"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=secondary, timeout=120,
    )
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    text = shown.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "3000/3000" in text and "sent/s" in text
    assert "3,000 items" in text


@pytest.mark.parametrize("command", [[], ["run"], ["validate"], ["tasks"], ["corpora"],
                                     ["check"], ["data"], ["data", "install"]],
                         ids=lambda c: " ".join(c) or "nlp-parallel")
def test_help_reads_cleanly_with_examples(capsys, monkeypatch, command):
    """Plain text, no reST markup, within 80 columns, and examples that parse."""
    import itertools
    import shlex

    from nlp_parallel.cli import build_parser

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exit:
        main([*command, "--help"])
    assert exit.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text and ":func:" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    # An example's own arguments: up to a shell pipe or redirection, no comment.
    examples = [list(itertools.takewhile(lambda word: word not in ("|", ">"),
                                         shlex.split(line, comments=True)))[1:]
                for line in text.splitlines() if line.startswith("  nlp-parallel ")]
    assert examples
    for argv in examples:
        if command:
            assert argv[:len(command)] == command
        assert callable(build_parser().parse_args(argv).command)
