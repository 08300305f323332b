"""What ``nlp-parallel --help`` and each command's ``--help`` say, beside the options."""

from __future__ import annotations

#: What ``nlp-parallel --help`` says first.  The help texts are shown as written
#: (argparse's RawDescriptionHelpFormatter), so they are wrapped here, under 80 columns.
DESCRIPTION = """\
Run NLTK corpus work -- tagging, chunking, stemming, tokenizing, lemmatizing,
pipelines -- in parallel over execnet gateways (local processes, ssh hosts),
as YAML job files describe it. The output is in corpus order, identical to a
serial NLTK loop. `python -m nlp_parallel` is the same program."""

EPILOG = """\
examples:
  nlp-parallel run corpora_configs/quickstart.yaml
  nlp-parallel validate jobs/tb.yaml
  nlp-parallel run jobs/tb.yaml --specs 4*popen --limit 1000 --output try.jsonl
  nlp-parallel run jobs/tb.yaml --resume
  nlp-parallel check --hosts hosts.txt
  nlp-parallel data install punkt_tab averaged_perceptron_tagger_eng

exit status: 0 done; 1 the run failed (written items are kept: --resume goes
on); 2 bad input, refused before anything starts; 130 Ctrl-C; 143 SIGTERM.
`nlp-parallel COMMAND --help` shows a command's options."""

#: Each command: its one-line summary, then examples and notes under its options.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run a job file, writing its output in corpus order", """\
The output goes to a hidden part file beside output.path, renamed into place
when the run completes (compressed then when the path ends in .gz); a stopped
run is continued with --resume.  --output - writes standard output as the run
goes, the progress and summary going to standard error; it cannot be resumed.
A completed run writes a report of what it did to OUTPUT.report.json, or to
--report PATH.

examples:
  nlp-parallel run jobs/tb.yaml
  nlp-parallel run jobs/tb.yaml --specs 2*popen 'auto*ssh=node1//python=python3'
  nlp-parallel run jobs/tb.yaml --limit 100 --output try.jsonl --overwrite
  nlp-parallel run jobs/tb.yaml --output - | python filter.py > kept.jsonl
  nlp-parallel run jobs/tb.yaml --resume
  nlp-parallel run jobs/tb.yaml --report runs/tb.report.json
  cat answers.jsonl | nlp-parallel run jobs/stdin.yaml  # corpus.path: '-'"""),
    "validate": ("check a job file, its corpus, task and output without starting "
                 "gateways", """\
Exits 0 and prints one line when the job would start; otherwise exits 2 with
one line naming the job file, the key and what would be valid.

examples:
  nlp-parallel validate jobs/tb.yaml
  nlp-parallel validate jobs/tb.yaml --hosts hosts.txt --limit 1000"""),
    "tasks": ("list the tasks and their options", """\
example:
  nlp-parallel tasks"""),
    "corpora": ("list installed NLTK corpora and their views", """\
example:
  nlp-parallel corpora"""),
    "check": ("start each gateway and report host, Python, NLTK, cores and round-trip "
              "latency", """\
Exits 1 when a gateway did not start, naming it and why.

examples:
  nlp-parallel check
  nlp-parallel check jobs/cluster.yaml
  nlp-parallel check --specs 4*popen ssh=node1 --hosts hosts.txt"""),
    "data install": ("install NLTK data packages with NLTK's downloader", """\
examples:
  nlp-parallel data install punkt_tab
  nlp-parallel data install wordnet --dir ~/nltk_data
  nlp-parallel data install treebank --from /mnt/nltk_mirror"""),
}
