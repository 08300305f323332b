"""What a run does to the files at and beside its output path, as a user sees it.

The output, its errors list, part files and checkpoint are only ever regular files:
anything else there (a symbolic link, a FIFO, a device node) is refused before any
work starts and left exactly as it was.  Runs that could hang on a FIFO run in a
subprocess with a timeout, so a regression fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nlp_parallel.cli import main

JOB = """\
    corpus: {name: treebank, view: sents, limit: LIMIT}
    task: {name: stem}
    specs: [[popen, 2]]
    on_error: ON_ERROR
    output: {path: OUT}
    """


def write_job(tmp_path: Path, out: Path, limit: int = 50, on_error: str = "fail",
              name: str = "job") -> Path:
    job = tmp_path / f"{name}.yaml"
    text = textwrap.dedent(JOB).replace("OUT", str(out)).replace("LIMIT", str(limit))
    job.write_text(text.replace("ON_ERROR", on_error), encoding="utf-8")
    return job


def run_cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """``nlp-parallel`` as a user runs it, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "nlp_parallel", *args], capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def beside(out: Path, which: str) -> Path:
    """The files a run writes beside ``out``."""
    return {
        "errors": out.with_name(f"{out.name}.errors.jsonl"),
        "part": out.with_name(f".{out.name}.part"),
        "errors part": out.with_name(f".{out.name}.errors.jsonl.part"),
        "checkpoint": out.with_name(f"{out.name}.checkpoint"),
        "checkpoint temp": out.with_name(f"{out.name}.checkpoint.tmp"),
    }[which]


# -- the output path is not a regular file ------------------------------------------


def not_regular(job: Path, out: Path, kind: str) -> str:
    return (f"nlp-parallel: error: {job}: output.path: {out} is {kind}, not a regular file; "
            f"write the output to a regular file or a path that does not exist yet")


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_symlink_at_the_output_is_left_as_it_is(tmp_path, capsys, overwrite):
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("precious\n")
    out = tmp_path / "out.jsonl"
    out.symlink_to(target)
    job = write_job(tmp_path, out)
    assert main(["run", str(job), "--quiet", *overwrite]) == 2
    assert lines(capsys.readouterr().err) == [not_regular(job, out, "a symbolic link")]
    assert out.is_symlink() and os.readlink(out) == str(target)
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.jsonl", "job.yaml",
                                                          "out.jsonl"]


def test_a_dangling_symlink_at_the_output_is_left_as_it_is(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.symlink_to(tmp_path / "nowhere")
    job = write_job(tmp_path, out)
    assert main(["run", str(job), "--quiet"]) == 2
    assert lines(capsys.readouterr().err) == [not_regular(job, out, "a symbolic link")]
    assert out.is_symlink() and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_fifo_at_the_output_is_left_as_it_is(tmp_path, overwrite):
    out = tmp_path / "out.jsonl"
    os.mkfifo(out)
    job = write_job(tmp_path, out)
    for command in (["validate", str(job)], ["run", str(job), "--quiet"],
                    ["run", str(job), "--quiet", "--resume"]):
        proc = run_cli(*command, *overwrite, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert lines(proc.stderr) == [not_regular(job, out, "a FIFO")]
        assert stat.S_ISFIFO(out.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml", "out.jsonl"]


def test_the_real_dev_null_is_refused_by_validate(tmp_path):
    """validate never writes, so it can be pointed at the system's /dev/null safely."""
    job = write_job(tmp_path, Path("/dev/null"))
    proc = run_cli("validate", str(job), "--overwrite", timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert lines(proc.stderr) == [not_regular(job, Path("/dev/null"), "a character device")]


@pytest.fixture
def device_node(tmp_path) -> Path:
    """A node of /dev/null's device (1, 3) in tmp, so no run can touch the real one."""
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError as exc:
        pytest.skip(f"mknod is not permitted here: {exc}")
    return node


def test_a_device_node_at_the_output_is_left_as_it_is(tmp_path, device_node):
    job = write_job(tmp_path, device_node)
    before = device_node.lstat()
    proc = run_cli("run", str(job), "--output", str(device_node), "--overwrite", "--quiet",
                   timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert lines(proc.stderr) == [not_regular(job, device_node, "a character device")]
    after = device_node.lstat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml", "null"]


# -- the files beside it are not regular files ------------------------------------------


@pytest.mark.parametrize("which", ["errors", "part", "errors part", "checkpoint",
                                   "checkpoint temp"])
def test_a_symlink_beside_the_output_is_left_as_it_is(tmp_path, capsys, which):
    out = tmp_path / "out.jsonl"
    target = tmp_path / "elsewhere"
    target.write_text("precious\n")
    link = beside(out, which)
    link.symlink_to(target)
    job = write_job(tmp_path, out, on_error="record")
    assert main(["run", str(job), "--quiet", "--overwrite"]) == 2
    assert lines(capsys.readouterr().err) == [
        f"nlp-parallel: error: {job}: output.path: {link}, which a run writes beside {out}, "
        f"is a symbolic link, not a regular file; move it away or write the output elsewhere"]
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "precious\n"
    assert not out.exists()


@pytest.mark.parametrize("which", ["errors", "part", "checkpoint", "checkpoint temp"])
def test_a_fifo_beside_the_output_is_left_as_it_is(tmp_path, which):
    out = tmp_path / "out.jsonl"
    fifo = beside(out, which)
    os.mkfifo(fifo)
    job = write_job(tmp_path, out, on_error="skip")
    for args in ([], ["--resume"], ["--overwrite"]):
        proc = run_cli("run", str(job), "--quiet", *args, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert lines(proc.stderr) == [
            f"nlp-parallel: error: {job}: output.path: {fifo}, which a run writes beside "
            f"{out}, is a FIFO, not a regular file; move it away or write the output elsewhere"]
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert not out.exists()
