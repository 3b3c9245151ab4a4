"""Safe defaults: OSC listens on loopback unless told otherwise, the sender allowlist holds on real
sockets, nothing unpickles outside the restricted weight reader, `torch.load` only with
`weights_only=True`, and names arriving over OSC cannot reach files outside their directories.
"""

from __future__ import annotations

import ast
import logging
import socket
import time
from pathlib import Path

import pytest

from livedream.cli import build_parser
from livedream.command_queue import CommandQueue
from livedream.commands import LoadPreset
from livedream.control.osc import OscControl, OscError, decode
from livedream.errors import LivedreamError, PresetError
from livedream.look import Look
from livedream.presets import find_preset, list_presets
from livedream.state import Env, State, apply

PACKAGE = Path(__file__).resolve().parents[2] / "livedream"
SOURCES = sorted(PACKAGE.rglob("*.py"))
PICKLE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve",
                  "marshal"}


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def dotted(node: ast.AST) -> str:
    """'torch.load' for the expression torch.load, '' for anything not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def test_the_scan_sees_the_package():
    assert len(SOURCES) > 30 and PACKAGE / "models" / "safe_pickle.py" in SOURCES


def test_pickle_is_imported_only_by_the_restricted_reader():
    offenders = []
    for path in SOURCES:
        for node in ast.walk(parsed(path)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            if PICKLE_MODULES & set(names) and path.name != "safe_pickle.py":
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, f"pickle-family imports outside safe_pickle.py: {offenders}"


def test_torch_load_only_with_weights_only_true_and_no_other_code_loaders():
    offenders = []
    for path in SOURCES:
        rel = path.relative_to(PACKAGE)
        for node in ast.walk(parsed(path)):
            if not isinstance(node, ast.Call):
                continue
            name = dotted(node.func)
            where = f"{rel}:{node.lineno} {name}"
            keywords = {k.arg: k.value for k in node.keywords}
            if name in ("torch.load", "torch.serialization.load"):
                flag = keywords.get("weights_only")
                if not (isinstance(flag, ast.Constant) and flag.value is True):
                    offenders.append(where + " without weights_only=True")
            elif name in ("np.load", "numpy.load"):
                flag = keywords.get("allow_pickle")
                if isinstance(flag, ast.Constant) and flag.value is True:
                    offenders.append(where + " with allow_pickle=True")
            elif name in ("eval", "exec", "pickle.loads", "pickle.load", "marshal.loads"):
                offenders.append(where)
            elif name == "torch.jit.load" and rel != Path("models/inception_v3.py"):
                # TorchScript is only read from the pinned fid-helper package's file.
                offenders.append(where + " outside the Inception v3 loader")
    assert not offenders, offenders


def test_the_weight_reader_refuses_code(tmp_path):
    """What the scan protects: a pickle naming os.system is refused before anything runs."""
    import pickle

    from livedream.models.safe_pickle import load_numpy_pickle

    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"w": Evil()}))
    with pytest.raises(LivedreamError, match=r"evil.ckpt.*refusing to load pathlib"):
        load_numpy_pickle(path)
    assert not marker.exists()


def test_osc_binds_loopback_unless_osc_host_says_otherwise():
    args = build_parser().parse_args(["run", "--headless"])
    assert args.osc_host == "127.0.0.1"
    with OscControl(CommandQueue(), port=0) as osc:
        assert osc.address[0] == "127.0.0.1"
    opened = build_parser().parse_args(["run", "--osc-host", "0.0.0.0"])
    assert opened.osc_host == "0.0.0.0"


def send_from(source_ip: str, port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source_ip, 0))
        sock.sendto(data, ("127.0.0.1", port))


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_allowlist_rejects_other_senders_on_real_sockets(caplog):
    from livedream.control.osc import build_message

    queue = CommandQueue()
    caplog.set_level(logging.WARNING, logger="livedream.osc")
    with OscControl(queue, port=0, allow={"127.0.0.2"}) as osc:
        port = osc.address[1]
        for _ in range(50):
            send_from("127.0.0.1", port, build_message("/livedream/reset", []))
        assert wait_for(lambda: osc.log.total["sender not allowed"] == 50)
        assert queue.drain() == []
        send_from("127.0.0.2", port, build_message("/livedream/reset", []))
        assert wait_for(lambda: osc.accepted == 1)
    commands = [type(e.command).__name__ for e in queue.drain()]
    assert commands == ["Reset"]
    refusals = [r for r in caplog.records if "sender not allowed" in r.getMessage()]
    assert 1 <= len(refusals) <= 2  # rate-limited, plus the count flushed at close


ESCAPES = ["../x", "../../etc/passwd", "/etc/passwd", "/tmp/x", "..", "a/b", "a\\b", "~/x",
           "x/../../y", "./x", "presets/../x", "C:\\x", "x\0y"]


@pytest.mark.parametrize("name", ESCAPES)
def test_preset_names_from_osc_cannot_leave_the_presets_directory(name, tmp_path):
    outside = tmp_path / "secret.toml"
    outside.write_text('name = "secret"\n')
    presets = {n: Look() for n in list_presets()}
    state = State()
    try:
        command = decode("/livedream/preset", [name])
    except OscError:
        return  # refused at the door
    assert isinstance(command, LoadPreset)
    with pytest.raises(LivedreamError):
        apply(state, command, Env(presets=presets))  # only the names listed from the directory
    with pytest.raises(LivedreamError):
        find_preset(name, [tmp_path / "presets"])
    with pytest.raises(PresetError):  # even a name that resolves to an existing file outside
        find_preset("../secret", [tmp_path / "presets"])


@pytest.mark.parametrize("name", ESCAPES + ["x.prototxt", "net.PROTOTXT"])
def test_model_and_weights_names_from_osc_are_plain_names(name):
    with pytest.raises(OscError):
        decode("/livedream/model", [name])
    with pytest.raises(OscError):
        decode("/livedream/model", ["vgg16", name])


@pytest.mark.parametrize("arg", ["../x.mp4", "/tmp/x.mp4", "x.mp4"])
def test_record_over_osc_takes_no_file_name(arg):
    """The recording target is fixed on the command line; OSC can only switch it on and off."""
    with pytest.raises(OscError):
        decode("/livedream/record", [arg])
    with pytest.raises(OscError):
        decode("/livedream/record", [1, arg])
