"""Tests for nlp_parallel.specs: parsing and validating gateway specs."""

from __future__ import annotations

import execnet
import pytest

from nlp_parallel import specs as specs_module
from nlp_parallel.errors import ConfigError
from nlp_parallel.specs import GatewaySpec, SpecError, parse_specs


def ids(result):
    return [g.id for g in result]


def bodies(result):
    return [g.spec for g in result]


# --- accepted forms ------------------------------------------------------------


def test_seed_pair_expands_to_numbered_gateways():
    """The seed form [("popen", 2)] gives two popen gateways gw0, gw1."""
    result = parse_specs([("popen", 2)])
    assert result == (GatewaySpec("popen", "gw0"), GatewaySpec("popen", "gw1"))
    assert isinstance(result, tuple)


def test_plain_string_is_one_gateway():
    """A bare string (not in a list) is one gateway, whitespace stripped."""
    assert parse_specs("popen//python=python3") == (
        GatewaySpec("popen//python=python3", "gw0"),
    )
    assert parse_specs(["  popen  "]) == (GatewaySpec("popen", "gw0"),)


def test_star_shorthand_repeats_the_spec():
    """xdist's 'N*spec' gives N gateways of that spec."""
    result = parse_specs("4*popen//python=python3")
    assert ids(result) == ["gw0", "gw1", "gw2", "gw3"]
    assert set(bodies(result)) == {"popen//python=python3"}


def test_list_pair_as_from_yaml():
    """A 2-item list ["popen", 2] (what YAML yields) works like a tuple."""
    assert parse_specs([["popen", 2]]) == parse_specs([("popen", 2)])


def test_mixed_list_keeps_order_and_numbers_sequentially():
    """Pairs, strings and N*spec can be mixed; ids run in list order."""
    result = parse_specs([("popen", 2), "popen//python=python3", ["popen//nice=5", 1], "2*popen//chdir=/tmp"])
    assert ids(result) == ["gw0", "gw1", "gw2", "gw3", "gw4", "gw5"]
    assert bodies(result) == [
        "popen",
        "popen",
        "popen//python=python3",
        "popen//nice=5",
        "popen//chdir=/tmp",
        "popen//chdir=/tmp",
    ]


def test_mixed_list_with_remote_transports():
    """ssh and socket specs mix with popen ones in one list."""
    result = parse_specs([("popen", 1), ("ssh=host//python=python3", 2), "socket=10.0.0.1:8888"],
                         allow_insecure_socket=True)
    assert ids(result) == ["gw0", "gw1", "gw2", "gw3"]
    assert bodies(result) == ["popen", "ssh=host//python=python3", "ssh=host//python=python3", "socket=10.0.0.1:8888"]


def test_none_means_one_popen_per_cpu(monkeypatch):
    """parse_specs(None) starts one popen gateway per os.cpu_count()."""
    monkeypatch.setattr(specs_module.os, "cpu_count", lambda: 3)
    assert parse_specs(None) == tuple(GatewaySpec("popen", f"gw{i}") for i in range(3))
    assert parse_specs() == parse_specs(None)


def test_none_with_unknown_cpu_count_gives_one(monkeypatch):
    """When os.cpu_count() is None the default is a single gateway."""
    monkeypatch.setattr(specs_module.os, "cpu_count", lambda: None)
    assert parse_specs(None) == (GatewaySpec("popen", "gw0"),)


@pytest.mark.parametrize(
    "spec",
    [
        "popen//python=python3",
        "ssh=host//python=python3",
        "socket=127.0.0.1:8888",
        "popen//chdir=/tmp",
        "popen//nice=5",
        "popen//env:FOO=bar",
        "popen//execmodel=main_thread_only",
        "vagrant_ssh=default//python=python3",
    ],
)
def test_full_execnet_syntax_accepted(spec):
    """Valid execnet specs pass through unchanged, with an auto id."""
    assert parse_specs([spec]) == (GatewaySpec(spec, "gw0"),)


def test_via_names_a_gateway_with_explicit_id():
    """popen//via=gw0 is valid when another spec is popen//id=gw0."""
    result = parse_specs(["popen//via=gw0", "popen//id=gw0"])
    assert result == (GatewaySpec("popen//via=gw0", "gw1"), GatewaySpec("popen", "gw0"))
    assert result[0].via == "gw0"
    assert result[1].via is None


def test_explicit_id_preserved_and_auto_ids_skip_it():
    """An explicit id= is kept (and stripped from the body); auto ids avoid it."""
    result = parse_specs([("popen", 2), "popen//id=gw0", "popen//id=gw2"])
    assert ids(result) == ["gw1", "gw3", "gw0", "gw2"]
    assert set(bodies(result)) == {"popen"}
    assert len(set(ids(result))) == 4


def test_explicit_id_with_count_one_is_fine():
    """id= with an explicit count of 1 names that single gateway."""
    assert parse_specs([("popen//id=main", 1)]) == (GatewaySpec("popen", "main"),)


def test_xspec_property_carries_the_id():
    """GatewaySpec.xspec is an execnet.XSpec with the spec's keys and its id."""
    g = parse_specs(["popen//python=python3//env:FOO=bar"])[0]
    x = g.xspec
    assert isinstance(x, execnet.XSpec)
    assert x.id == "gw0"
    assert x.popen is True
    assert x.python == "python3"
    assert x.env == {"FOO": "bar"}
    assert str(g) == "gw0 (popen//python=python3//env:FOO=bar)"


def test_spec_error_is_a_config_error():
    """SpecError is catchable as ConfigError and ValueError."""
    assert issubclass(SpecError, ConfigError)
    assert issubclass(SpecError, ValueError)


# --- rejected forms ------------------------------------------------------------

ERRORS = [
    pytest.param(["popen//pyhton=python3"], r"unknown key 'pyhton'.*did you mean 'python'", id="typo-key"),
    pytest.param([("popen", 0)], r"count must be a positive integer or auto, not 0", id="count-0"),
    pytest.param([("popen", -2)], r"count must be a positive integer or auto, not -2", id="count-neg"),
    pytest.param([("popen", True)], r"count must be a positive integer or auto, not True", id="count-bool"),
    pytest.param([("popen", "2")], r"count must be a positive integer or auto, not '2'", id="count-str"),
    pytest.param([("popen", 2.0)], r"count must be a positive integer or auto, not 2\.0", id="count-float"),
    pytest.param(["0*popen"], r"count must be a positive integer or auto, not 0", id="star-0"),
    pytest.param(["python=python3"], r"needs exactly one of popen, ssh.*found none", id="no-transport"),
    pytest.param(["popen//ssh=host"], r"needs exactly one of .*found 2", id="two-transports"),
    pytest.param(["ssh"], r"ssh needs a value", id="ssh-no-value"),
    pytest.param(["popen//python"], r"python needs a value", id="python-no-value"),
    pytest.param(["popen=python3"], r"popen takes no value", id="popen-value"),
    pytest.param(["socket=host"], r"socket must be host:port", id="socket-no-port"),
    pytest.param(["socket=host:99999"], r"socket must be host:port", id="socket-big-port"),
    pytest.param(["socket=:8888"], r"socket must be host:port", id="socket-no-host"),
    pytest.param(["popen//nice=high"], r"nice must be an integer, not 'high'", id="nice-nonint"),
    pytest.param(["popen//execmodel=fibers"], r"execmodel must be one of thread", id="bad-execmodel"),
    pytest.param(["popen//via=gw7"], r"via=gw7 names no gateway", id="via-unknown"),
    pytest.param(["popen//id=gw0//via=gw0"], r"cannot go via itself", id="via-self"),
    pytest.param([("popen//id=main", 2)], r"id=main names one gateway, but the count is 2", id="id-count"),
    pytest.param(["popen//id=a", "popen//python=python3//id=a"], r"gateway ids must be unique", id="dup-ids"),
    pytest.param(["popen//python=a//python=b"], r"duplicate key", id="dup-key"),
    pytest.param(["popen//env:=x"], r"env: needs a variable name", id="env-no-name"),
    pytest.param("", r"empty gateway spec", id="empty-string"),
    pytest.param(["2*"], r"empty gateway spec", id="star-no-spec"),
    pytest.param(5, r"must be a list .* not int", id="not-iterable"),
    pytest.param([("popen", 2, 3)], r"expected a spec string .* or a \(spec, count\) pair", id="3-tuple"),
    pytest.param([(2, "popen")], r"expected a spec string", id="pair-reversed"),
    pytest.param([None], r"expected a spec string", id="none-item"),
    pytest.param([], r"no gateway specs given", id="empty-list"),
]


@pytest.mark.parametrize("specs, message", ERRORS)
def test_invalid_specs_raise_spec_error(specs, message):
    """Each malformed input raises SpecError with a message saying what is wrong."""
    with pytest.raises(SpecError, match=message):
        parse_specs(specs)


def test_error_names_the_offending_spec():
    """The message quotes the bad entry so the user can find it in a long list."""
    with pytest.raises(SpecError) as info:
        parse_specs(["popen", "popen//chdri=/tmp", "popen"])
    text = str(info.value)
    assert "'popen//chdri=/tmp'" in text
    assert "did you mean 'chdir'" in text
    assert "valid keys:" in text


@pytest.mark.parametrize("spec", ["popen//", "//popen", "popen//=x"])
def test_empty_key_raises_spec_error(spec):
    """A spec with an empty '//' segment is reported as a SpecError."""
    with pytest.raises(SpecError, match="empty key"):
        parse_specs([spec])


def test_nice_needs_a_value():
    with pytest.raises(SpecError, match="nice needs a value"):
        parse_specs(["popen//nice"])


# --- auto counts ---------------------------------------------------------------


def test_auto_count_of_local_popen_is_this_machines_cores(monkeypatch):
    """[popen, auto] is one popen gateway per local core, known at once."""
    monkeypatch.setattr(specs_module.os, "cpu_count", lambda: 3)
    assert parse_specs([("popen", "auto")]) == parse_specs([("popen", 3)])
    assert parse_specs(["auto*popen"]) == parse_specs([("popen", 3)])


@pytest.mark.parametrize("item", [("ssh=node1", "auto"), ["ssh=node1", "auto"], "auto*ssh=node1"])
def test_auto_count_of_a_remote_spec_waits_for_the_host(item):
    """A remote auto count is one spec marked auto: its host's cores are known at start."""
    assert parse_specs([item, "popen"]) == (
        GatewaySpec("ssh=node1", "gw0", auto=True), GatewaySpec("popen", "gw1"))


def test_auto_count_through_via_is_the_remote_hosts():
    """popen via an ssh gateway runs on that host: its count waits for the host too."""
    result = parse_specs(["ssh=node1//id=hub", ("popen//via=hub", "auto")])
    assert result[1] == GatewaySpec("popen//via=hub", "gw0", auto=True)


def test_auto_count_with_an_id_is_refused():
    with pytest.raises(SpecError, match="id=big names one gateway, but the count is auto"):
        parse_specs([("ssh=node1//id=big", "auto")])


# --- socket gateways -----------------------------------------------------------


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.20", "node7.example.org", "0.0.0.0"])
def test_socket_to_another_machine_is_refused_saying_why(host):
    """execnet's socket server runs what it receives: no socket= off loopback by default."""
    with pytest.raises(SpecError) as info:
        parse_specs([f"socket={host}:8888"])
    message = str(info.value)
    assert f"'socket={host}:8888'" in message
    assert "runs any code it receives, without authentication" in message
    assert "allow_insecure_socket: true" in message and "\n" not in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "localhost", "LOCALHOST", "::1"])
def test_socket_on_loopback_is_accepted(host):
    assert parse_specs([f"socket={host}:8888"])[0].spec == f"socket={host}:8888"


def test_allow_insecure_socket_accepts_another_machine():
    assert len(parse_specs(["socket=10.0.0.1:8888"], allow_insecure_socket=True)) == 1


def test_hand_built_specs_are_checked_for_sockets_too():
    with pytest.raises(SpecError, match="allow_insecure_socket"):
        parse_specs([GatewaySpec("socket=10.0.0.1:8888", "gw0")])
    allowed = parse_specs(["socket=10.0.0.1:8888"], allow_insecure_socket=True)
    assert parse_specs(allowed) == allowed  # validated specs keep their leave


# --- min_gateways --------------------------------------------------------------


def test_min_gateways_travels_with_the_specs():
    result = parse_specs([("popen", 3)], min_gateways=2)
    assert result.min_gateways == 2
    assert result == parse_specs([("popen", 3)])  # still a plain tuple of specs
    assert parse_specs(result).min_gateways == 2
    assert parse_specs(result, min_gateways=1).min_gateways == 1
    assert parse_specs([("popen", 3)]).min_gateways is None


@pytest.mark.parametrize("value, message", [
    (0, "expected a positive integer, not 0"),
    (True, "expected a positive integer, not True"),
    ("2", "expected a positive integer, not '2'"),
    (4, "4 is more than the 3 gateway"),
])
def test_bad_min_gateways(value, message):
    with pytest.raises(SpecError, match=f"min_gateways: {message}"):
        parse_specs([("popen", 3)], min_gateways=value)


def test_min_gateways_with_auto_counts_is_checked_at_start():
    assert parse_specs([("ssh=node1", "auto")], min_gateways=8).min_gateways == 8


# --- hosts files ---------------------------------------------------------------


def test_hosts_file_lists_hosts_specs_and_counts(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text(
        "# the lab's machines\n"
        "node1\n"
        "\n"
        "node2//python=/opt/nlp/bin/python   4   # four of its cores\n"
        "alice@node3 auto\n"
        "ssh=node4//python=/srv/py#3/bin/python 1\n"
        "popen 2\n"
    )
    entries = specs_module.read_hosts_file(str(hosts))
    assert entries == [
        ("ssh=node1", "auto"),
        ("ssh=node2//python=/opt/nlp/bin/python", 4),
        ("ssh=alice@node3", "auto"),
        ("ssh=node4//python=/srv/py#3/bin/python", 1),
        ("popen", 2),
    ]
    result = parse_specs(entries)
    assert [(s.id, s.auto) for s in result] == [
        ("gw0", True), ("gw1", False), ("gw2", False), ("gw3", False), ("gw4", False),
        ("gw5", True), ("gw6", False), ("gw7", False), ("gw8", False),
    ]


@pytest.mark.parametrize("line, message", [
    ("node1 many", r"line 2: count must be a positive integer or auto, not 'many'"),
    ("node1 0", r"line 2: gateway spec 'ssh=node1': count must be a positive integer or auto, not 0"),
    ("node1 2 3", r"line 2: expected 'SPEC \[COUNT\]', not 'node1 2 3'"),
    ("node1//pyton=/x", r"line 2: gateway spec 'ssh=node1//pyton=/x': unknown key 'pyton'"),
    ("socket=10.0.0.9:8888", r"line 2: .*allow_insecure_socket"),
])
def test_hosts_file_errors_name_file_and_line(tmp_path, line, message):
    hosts = tmp_path / "hosts"
    hosts.write_text(f"node0\n{line}\n")
    with pytest.raises(SpecError, match=f"^{hosts} {message}"):
        specs_module.read_hosts_file(str(hosts))


def test_hosts_file_missing_or_empty(tmp_path):
    with pytest.raises(SpecError, match=f"^{tmp_path}/nope: no such hosts file$"):
        specs_module.read_hosts_file(str(tmp_path / "nope"))
    (tmp_path / "empty").write_text("# nothing yet\n\n")
    with pytest.raises(SpecError, match="lists no hosts"):
        specs_module.read_hosts_file(str(tmp_path / "empty"))


CROWDED = ("9 popen gateways on this machine's 2 CPU cores (more than 4 per core): each is "
           "a worker process with its own copy of the task, so beyond one per core (the "
           "default) they add memory and start-up time, not speed")


@pytest.mark.parametrize("specs, warning", [
    ([("popen", 9)], CROWDED),
    ([("popen", 5), "4*popen//python=python3"], CROWDED),   # fresh interpreters count too
    ([("popen", 8)], None),                                  # four per core is allowed
    ([("popen", 8), ("ssh=node1", 40), ("popen//via=gw8", 9)], None),  # other machines
    (None, None),                                            # one per core, the default
    ([("popen", "auto")], None),
])
def test_crowding_counts_popen_gateways_on_this_machine(monkeypatch, specs, warning):
    monkeypatch.setattr(specs_module.os, "cpu_count", lambda: 2)
    assert specs_module.crowding(parse_specs(specs)) == warning


def test_crowded_pool_warns_once_before_starting(monkeypatch, no_orphans):
    """A Python warning from the API, once per call, and nothing started to say it."""
    import warnings

    import nlp_parallel
    from nlp_parallel.gateways import GatewayWarning
    from remote_modules import batched_double

    monkeypatch.setattr(specs_module.os, "cpu_count", lambda: 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = nlp_parallel.imap(batched_double, range(3), [("popen", 9)])
        results.close()
        nlp_parallel.imap(batched_double, range(3), [("popen", 8)]).close()
    assert [(w.category, str(w.message)) for w in caught] == [(GatewayWarning, CROWDED)]
    assert caught[0].filename == nlp_parallel.pools.__file__  # where the pool is made
    assert no_orphans() == []
