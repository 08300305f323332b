"""Output to standard output and gzip-compressed output.

A shell pipeline writes what a file-to-file run writes; a count's merged counts go
to standard output once complete; a ``.gz`` output decompresses to the plain output
and holds no name or time, so the same output is the same bytes.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from nlp_parallel import GatewayPool
from nlp_parallel.cli import main
from nlp_parallel.jobs import load_job
from nlp_parallel.runner import run_job

CHUNK = {"name": "chunk", "options": {"grammar": "NP: {<DT>?<JJ.*>*<NN.*>+}"}}
TREEBANK = {"name": "treebank", "view": "tagged_sents", "limit": 80}
COUNT = {"name": "count", "options": {"count": "words", "lowercase": True}}


@pytest.fixture(scope="module")
def pool():
    with GatewayPool([("popen", 2)]) as started:
        yield started


def job_file(directory: Path, output: str, fmt: str, task: dict, name: str = "job") -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "corpus": TREEBANK, "task": task, "specs": [["popen", 2]],
        "output": {"path": output, "format": fmt}}), encoding="utf-8")
    return path


def test_a_shell_pipeline_writes_what_a_file_run_writes(tmp_path, pool):
    job = job_file(tmp_path, "-", "tsv", {"name": "pipeline", "steps": [CHUNK]})
    piped = tmp_path / "piped.tsv"
    done = subprocess.run(f"{sys.executable} -m nlp_parallel run job.yaml > piped.tsv",
                          shell=True, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "80 items" in done.stderr and "-> standard output" in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "-").exists()
    to_file = load_job(str(job))
    to_file = to_file.with_overrides(
        output=replace(to_file.output, path=str(tmp_path / "file.tsv")))
    run_job(to_file, pool=pool)
    assert piped.read_bytes() == (tmp_path / "file.tsv").read_bytes()
    assert piped.read_text(encoding="utf-8").startswith("index\tfileid\ttoken\tword\ttag\tchunk\n")


def test_resume_of_standard_output_is_refused_in_one_line(tmp_path, capsys):
    job = job_file(tmp_path, "out.jsonl", "jsonl", {"name": "stem"})
    assert main(["run", str(job), "--output", "-", "--resume"]) == 2
    err = capsys.readouterr().err
    assert err == (f"nlp-parallel: error: {job}: --resume: the output is standard output "
                   f"(-), which keeps nothing to resume from; run again without --resume, "
                   f"or write to a file\n")


def test_a_count_to_standard_output_and_to_gz(tmp_path, pool, capsysbinary):
    plain = tmp_path / "counts.tsv"
    run_job(load_job(str(job_file(tmp_path, str(plain), "tsv", COUNT, "plain"))), pool=pool)
    capsysbinary.readouterr()
    run_job(load_job(str(job_file(tmp_path, "-", "tsv", COUNT, "stdout"))), pool=pool)
    assert capsysbinary.readouterr().out == plain.read_bytes()
    packed = tmp_path / "counts.tsv.gz"
    run_job(load_job(str(job_file(tmp_path, str(packed), "tsv", COUNT, "gz"))), pool=pool)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if "counts" in p.name) == [
        "counts.tsv", "counts.tsv.gz", "counts.tsv.gz.report.json",
        "counts.tsv.report.json"]  # no part, checkpoint or temporary file left


def test_gz_output_is_reproducible(tmp_path, pool):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name / "tagged.txt.gz"
        out.parent.mkdir()
        task = {"name": "pipeline", "steps": [CHUNK]}
        run_job(load_job(str(job_file(out.parent, str(out), "tagged", task))), pool=pool)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    header = outputs[0][:10]
    assert header[3] & 0x08 == 0  # no file name
    assert header[4:8] == b"\0\0\0\0"  # no modification time
    lines = gzip.decompress(outputs[0]).decode("utf-8").splitlines()
    assert len(lines) == 80 and lines[0].startswith("Pierre/NNP Vinken/NNP")
