"""The line formats read back with the NLTK readers the README names, whatever the tokens."""

from __future__ import annotations

import json

import pytest

from nlp_parallel.cli import main

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
