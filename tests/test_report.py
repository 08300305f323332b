"""The run report a completed run leaves beside its output, and the summary's
per-gateway lines.

Real runs on popen gateways over small slices of treebank, read back from the
files a user would open; the summary's table of many gateways is pure formatting,
tested with made-up figures.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import signal
import stat
import statistics
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nltk
import pytest
from nltk.corpus import treebank

import nlp_parallel
from nlp_parallel.cli import main
from nlp_parallel.reports import GatewayWork, Totals, gateway_lines

from conftest import interrupted

JOB = """\
    corpus: {name: treebank, view: sents, limit: LIMIT}
    task: {name: stem}
    specs: [[popen, 2]]
    on_error: ON_ERROR
    read: READ
    output: {path: OUT}
    """


def write_job(tmp_path: Path, out: Path, limit: int = 200, on_error: str = "fail",
              read: str = "workers", name: str = "job", task: str | None = None) -> Path:
    text = textwrap.dedent(JOB).replace("OUT", str(out)).replace("LIMIT", str(limit))
    text = text.replace("ON_ERROR", on_error).replace("READ", read)
    if task is not None:
        text = text.replace("task: {name: stem}", task)
    job = tmp_path / f"{name}.yaml"
    job.write_text(text, encoding="utf-8")
    return job


def report_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def beside(out: Path) -> Path:
    return out.with_name(out.name + ".report.json")


def moment(text: str) -> datetime.datetime:
    assert text.endswith("Z"), text
    return datetime.datetime.fromisoformat(text[:-1] + "+00:00")


@pytest.mark.parametrize("read", ["workers", "driver"])
def test_the_report_says_what_the_run_did(tmp_path, capsys, read):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, read=read)
    assert main(["run", str(job)]) == 0
    err = capsys.readouterr().err
    assert f"  report: {beside(out)}" in err.splitlines()
    report = report_of(beside(out))
    written = out.read_text(encoding="utf-8").splitlines()
    sents = treebank.sents()[:200]
    with zipfile.ZipFile(nltk.data.find("corpora/treebank.zip").zipfile.filename) as archive:
        unzipped = {info.filename: info.file_size for info in archive.infolist()}

    assert report["status"] == "complete" and report["output"] == str(out)
    assert report["items"] == len(written) == 200
    assert report["tokens"] == sum(len(s) for s in sents)
    assert report["versions"] == {"nlp_parallel": nlp_parallel.__version__,
                                  "nltk": nltk.__version__,
                                  "python": platform.python_version()}
    assert report["corpus"] == {
        "name": "treebank", "path": None, "format": None, "view": "sents",
        "files": len(treebank.fileids()),
        "bytes": sum(unzipped[f"treebank/combined/{f}"] for f in treebank.fileids())}
    assert report["settings"]["corpus"]["limit"] == 200
    assert report["settings"]["task"] == {"name": "stem", "options": {}, "steps": [],
                                          "module": None}
    assert report["settings"]["read"] == read
    assert report["models"] == {}  # Porter's rules are code, not a model
    assert report["failures"] == {"total": 0, "by_type": {}} and report["errors"] is None
    assert (report["runs"], report["resumed"], report["restarts"]) == (1, False, 0)
    assert report["read_by"] == ("workers" if read == "workers"
                                 else "the job says read: driver")
    assert moment(report["started"]) <= moment(report["finished"])
    assert report["wall_seconds"] > 0 and report["cpu_seconds"]["driver"] > 0
    assert report["cpu_seconds"]["workers"] > 0
    gateways = report["gateways"]
    assert sorted(gateways) == ["gw0", "gw1"]
    assert sum(g["items"] for g in gateways.values()) == 200
    for g in gateways.values():
        if g["items"]:
            assert g["items_per_second"] == pytest.approx(g["items"] / g["seconds"], rel=1e-3)
    assert report["cpu_seconds"]["workers"] == pytest.approx(
        sum(g["cpu_seconds"] for g in gateways.values()), abs=1e-5)


def test_the_settings_hash_is_the_jobs_and_changes_with_it(tmp_path):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=40)
    hashes = []
    for args in ([], ["--overwrite"], ["--overwrite", "--limit", "30"]):
        assert main(["run", str(job), "--quiet", *args]) == 0
        hashes.append(report_of(beside(out))["settings_hash"])
    assert hashes[0] == hashes[1] != hashes[2]
    assert hashes[0].startswith("sha256:") and len(hashes[0]) == 7 + 64
    assert report_of(beside(out))["items"] == 30


def test_a_models_digest_names_the_model(tmp_path):
    task = "task: {name: tag, options: {tagset: universal}}"
    digests = []
    for name, options in (("a", ""), ("b", ""), ("c", ", exact_fast: false")):
        out = tmp_path / f"{name}.jsonl"
        job = write_job(tmp_path, out, limit=5, name=name,
                        task=task.replace("universal", "universal" + options))
        assert main(["run", str(job), "--quiet"]) == 0
        digests.append(report_of(beside(out))["models"]["tag"])
    assert digests[0] == digests[1] != digests[2]  # same weights, set up otherwise


def assert_reports_both_runs(out: Path, items: int) -> None:
    report = report_of(beside(out))
    assert (report["runs"], report["resumed"]) == (2, True)
    assert report["items"] == len(out.read_text(encoding="utf-8").splitlines()) == items
    assert report["tokens"] == sum(len(s) for s in treebank.sents()[:items])
    assert sum(g["items"] for g in report["gateways"].values()) == items
    assert not out.with_name(out.name + ".checkpoint").exists()


def test_a_stopped_run_resumed_reports_both_runs(tmp_path):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=2000)
    interrupted(job, after=300)
    assert not beside(out).exists(), "a run stopped early writes no report"
    assert main(["run", str(job), "--quiet", "--resume"]) == 0
    assert_reports_both_runs(out, 2000)


#: A driver that SIGKILLs itself once a checkpoint is saved and more items have
#: been written after it (read ahead, too: the driver reads the corpus), so that
#: the resumed run writes those again: the report must count them once.
KILLED_DRIVER = """
import os, signal, sys, time
from pathlib import Path
from nlp_parallel.jobs import load_job
from nlp_parallel.runner import run_job

checkpoint = Path(sys.argv[2] + ".checkpoint")
state = {"written": 0, "paused": False, "saved": None}

def progress(count):
    state["written"] += count
    if state["written"] < 300:
        return
    if not state["paused"]:
        state["paused"] = True
        time.sleep(1.1)  # the next write is due to save a checkpoint
    elif state["saved"] is None and checkpoint.exists():
        state["saved"] = state["written"]
    elif state["saved"] is not None and state["written"] > state["saved"]:
        os.kill(os.getpid(), signal.SIGKILL)

run_job(load_job(sys.argv[1]), progress)
"""


def test_a_killed_run_resumed_reports_both_runs(tmp_path):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=2000, read="driver")
    proc = subprocess.run([sys.executable, "-c", KILLED_DRIVER, str(job), str(out)],
                          stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    saved = json.loads(out.with_name(out.name + ".checkpoint").read_text())
    assert saved["totals"]["items"] == saved["items"] < 2000
    assert not beside(out).exists()
    assert main(["run", str(job), "--quiet", "--resume"]) == 0
    assert_reports_both_runs(out, 2000)


def test_failures_are_counted_by_type(tmp_path):
    (tmp_path / "picky.py").write_text(textwrap.dedent("""\
        def process(item):
            if len(item["tokens"]) > 40:
                raise ValueError("too long")
            if item["tokens"][0] == "The":
                raise KeyError("The")
            return len(item["tokens"])
        """), encoding="utf-8")
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, on_error="record",
                    task="task: {name: module, module: picky}")
    assert main(["run", str(job), "--quiet"]) == 0
    sents = treebank.sents()[:200]
    long = sum(1 for s in sents if len(s) > 40)
    the = sum(1 for s in sents if len(s) <= 40 and s[0] == "The")
    assert long and the
    report = report_of(beside(out))
    assert report["failures"] == {"total": long + the,
                                  "by_type": {"KeyError": the, "ValueError": long}}
    assert report["errors"] == f"{out}.errors.jsonl"
    assert report["items"] == 200


def test_a_failed_run_writes_no_report(tmp_path, capsys):
    (tmp_path / "refuses.py").write_text(
        "def process(item):\n    raise ValueError('no')\n", encoding="utf-8")
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, task="task: {name: module, module: refuses}")
    assert main(["run", str(job), "--quiet"]) == 1
    assert not beside(out).exists() and not out.exists()


def test_report_elsewhere(tmp_path, capsys):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=20)
    elsewhere = tmp_path / "reports" / "tb.json"
    assert main(["run", str(job), "--quiet", "--report", str(elsewhere)]) == 0
    assert report_of(elsewhere)["items"] == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml", "reports", "tb.jsonl"]
    assert sorted(p.name for p in elsewhere.parent.iterdir()) == ["tb.json"]


def test_a_fifo_at_the_report_is_refused_before_the_run(tmp_path, capsys):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=20)
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    assert main(["run", str(job), "--quiet", "--report", str(fifo)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"nlp-parallel: error: {job}: --report: {fifo} is a FIFO, not a regular file; write "
        f"the report to a regular file or a path that does not exist yet"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml", "report.json"]


# -- the summary's lines about the gateways (pure formatting) ------------------------


def fake_gateways(count: int) -> dict[str, GatewayWork]:
    """Gateway gwN does 100 + N items in one second each, so gw0 is the slowest."""
    return {f"gw{n}": GatewayWork(items=100 + n, seconds=1.0) for n in range(count)}


def test_a_few_gateways_get_one_line():
    assert gateway_lines(fake_gateways(3)) == ["  per gateway: gw0: 100  gw1: 101  gw2: 102"]


def test_many_gateways_shrink_to_the_slowest_and_fastest():
    gateways = fake_gateways(1000)
    gateways["gw500"] = GatewayWork(items=0, seconds=0.0)  # finished no batch
    shown = gateway_lines(gateways)
    assert len(shown) == 8
    assert shown[0] == "  per gateway (1,000 gateways, by items/s while working):"
    names = [line.split()[-5] for line in shown[1:7]]
    assert names == ["gw500", "gw0", "gw1", "gw999", "gw998", "gw997"]
    assert shown[1].split()[0] == "slowest" and shown[4].split()[0] == "fastest"
    assert "    1,099 items      1,099 items/s" in shown[4]
    others = [100 + n for n in range(2, 997) if n != 500]
    assert shown[7] == (f"    and 994 others: {sum(others):,} items, median "
                        f"{statistics.median(others):,.0f} items/s")


def test_nine_gateways_are_a_table_eight_a_line():
    assert len(gateway_lines(fake_gateways(8))) == 1
    assert len(gateway_lines(fake_gateways(9))) == 1 + 6 + 1


def test_totals_add_up_across_runs_and_survive_a_checkpoint():
    first = Totals(1, "2026-01-01T00:00:00Z", 10, 100, {"ValueError": 1}, 2.0, 0.5,
                   {"gw0": GatewayWork(10, 1.0, 0.5, 1)})
    later = Totals(1, "2026-01-02T00:00:00Z", 5, 50, {"ValueError": 2, "Timeout": 1}, 1.0,
                   0.25, {"gw0": GatewayWork(3, 0.5, 0.25), "gw1": GatewayWork(2, 0.5, 0.25)})
    both = Totals.from_plain(json.loads(json.dumps(first.plain()))).plus(later)
    assert both == Totals(2, "2026-01-01T00:00:00Z", 15, 150,
                          {"ValueError": 3, "Timeout": 1}, 3.0, 0.75,
                          {"gw0": GatewayWork(13, 1.5, 0.75, 1), "gw1": GatewayWork(2, 0.5, 0.25)})
    assert Totals.from_plain({"runs": 1}) is None
    assert Totals.from_plain(None) is None


def test_a_fifo_beside_the_output_where_its_report_goes_is_refused(tmp_path, capsys):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=20)
    os.mkfifo(beside(out))
    assert main(["run", str(job), "--quiet"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"nlp-parallel: error: {job}: output.path: {beside(out)}, which a run writes beside "
        f"{out}, is a FIFO, not a regular file; move it away, or put the report elsewhere "
        f"with --report"]
    assert stat.S_ISFIFO(beside(out).lstat().st_mode) and not out.exists()


def test_the_report_may_not_take_the_outputs_place(tmp_path, capsys):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=20)
    for taken in (out, out.with_name(out.name + ".checkpoint")):
        assert main(["run", str(job), "--quiet", "--report", str(taken)]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"nlp-parallel: error: {job}: --report: {taken} is a file the run writes its "
            f"output to; give the report a path of its own"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml"]


def test_an_output_on_standard_output_has_a_report_only_when_asked(tmp_path):
    from dataclasses import replace

    from nlp_parallel.jobs import load_job
    from nlp_parallel.reports import report_path

    job = load_job(str(write_job(tmp_path, tmp_path / "tb.jsonl")))
    assert report_path(job, None) == f"{tmp_path / 'tb.jsonl'}.report.json"
    assert report_path(job, "r.json") == "r.json"
    to_stdout = replace(job, output=replace(job.output, path="-"))
    assert report_path(to_stdout, None) is None
    assert report_path(to_stdout, "r.json") == "r.json"


def test_a_report_to_standard_output_is_refused(tmp_path, capsys):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=20)
    assert main(["run", str(job), "--quiet", "--report", "-"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"nlp-parallel: error: {job}: --report: the report is written to a file, not to "
        f"standard output (-); give it a path"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml"]


def test_an_output_on_standard_output_with_report(tmp_path, capfd):
    out = tmp_path / "tb.jsonl"
    job = write_job(tmp_path, out, limit=20)
    assert main(["run", str(job), "--output", str(out), "--quiet"]) == 0
    capfd.readouterr()
    report = tmp_path / "stdout.report.json"
    assert main(["run", str(job), "--output", "-", "--report", str(report)]) == 0
    captured = capfd.readouterr()
    assert captured.out == out.read_text(encoding="utf-8")
    assert f"  report: {report}" in captured.err.splitlines()
    assert report_of(report)["output"] == "-" and report_of(report)["items"] == 20


def test_a_hubs_gateways_sort_among_the_others():
    """In the table, gateways of equal speed go in natural order: ``gw0.1`` (a
    gateway through hub gw0) after gw0, gw10 after gw2."""
    names = ["gw10", "gw0.1", "gw2", "gw0", "gw0.2", "gw1", "gw3", "gw4", "gw5"]
    shown = gateway_lines({name: GatewayWork(items=10, seconds=1.0) for name in names})
    assert [line.split()[-5] for line in shown[1:7]] == [
        "gw0", "gw0.1", "gw0.2", "gw10", "gw5", "gw4"]
