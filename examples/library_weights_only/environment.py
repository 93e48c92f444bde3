"""The environment switches that decide weights_only for a library's torch.load.

`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1` brings back the old default: a `torch.load` call
that does not pass `weights_only` loads with `weights_only=False`, so the library
loads its checkpoint, and any code that any file it loads carries runs.
`TORCH_FORCE_WEIGHTS_ONLY_LOAD=1` is the opposite: every call loads with
`weights_only=True`, even one that passes `weights_only=False`. torch reads both on
each call of `torch.load`. A call that passes `pickle_module` and no `weights_only`
loads with `weights_only=False`, switch or not; with `TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`
it raises instead. `load_detector`, `load_detector_v2` and
`load_detector_with_pickle_module` stand for library code that you cannot edit.
"""

import argparse
import contextlib
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

SWITCHES = ("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_WEIGHTS_ONLY_LOAD")


class TinyDetector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(10, 5)
        self.head = nn.Linear(5, 4)

    def forward(self, x):
        return self.head(self.backbone(x).relu())


# Stands for third-party code that you cannot change: a library's loader.
def load_detector(path):
    checkpoint = torch.load(path, map_location="cpu")  # no weights_only argument
    model = TinyDetector()
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint["args"]


# --8<-- [start:library_v2]
# A later release of the same library, which "fixed" the error this way.
def load_detector_v2(path):
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    model = TinyDetector()
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint["args"]
    # --8<-- [end:library_v2]


# --8<-- [start:library_pickle_module]
# A library that passes its own pickle module (dill, for instance; here the
# standard library's pickle) and no weights_only.
def load_detector_with_pickle_module(path):
    checkpoint = torch.load(path, map_location="cpu", pickle_module=pickle)
    model = TinyDetector()
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint["args"]
    # --8<-- [end:library_pickle_module]


@contextlib.contextmanager
def environment(**values):
    """Set environment variables (None: unset them) in a block, then restore them."""
    before = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    switches_before = {name: os.environ.get(name) for name in SWITCHES}

    train_args = argparse.Namespace(arch="tiny", lr=0.01, epochs=30, img_size=640)
    trained = TinyDetector().to(device)
    path = out_dir / "detector.pt"
    torch.save({"model": trained.state_dict(), "args": train_args}, path)

    # Someone else's "detector.pt": loading it runs code (here it writes a file).
    marker = out_dir / "code_ran.txt"

    class RunsCodeWhenLoaded:
        def __reduce__(self):
            code = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')"
            return (exec, (code,))

    crafted = out_dir / "downloaded_detector.pt"
    torch.save({"model": trained.state_dict(), "args": RunsCodeWhenLoaded()}, crafted)

    def check(model, args):
        """The library's model holds the saved weights, and args the saved values."""
        assert args == train_args
        for name, tensor in trained.state_dict().items():
            assert torch.equal(model.state_dict()[name], tensor.cpu())

    # The script sets each switch itself: start with neither set.
    with environment(**dict.fromkeys(SWITCHES)):
        # --8<-- [start:no_weights_only]
        # DANGER: for every torch.load that does not pass weights_only, this
        # process now loads with weights_only=False: files can run code.
        with environment(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model, args = load_detector(path)  # loads the Namespace
                load_detector(crafted)  # and runs the code in this file
        print(f"{caught[0].category.__name__}: {caught[0].message}")
        print(args)
        print("code ran:", marker.exists())
        # --8<-- [end:no_weights_only]
        check(model, args)
        assert marker.read_text() == "ran"
        assert all(w.category is UserWarning for w in caught) and len(caught) == 2
        assert "forcing weights_only=False" in str(caught[0].message)
        marker.unlink()

        # It does nothing to a call that passes weights_only=True itself.
        with environment(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1"):
            try:
                torch.load(path, weights_only=True)
            except pickle.UnpicklingError as err:
                assert "GLOBAL argparse.Namespace" in str(err)
            else:
                raise AssertionError("the switch overrode weights_only=True")

        # A library that passes weights_only=False loads anything, with no switch:
        load_detector_v2(crafted)
        assert marker.read_text() == "ran"
        marker.unlink()

        # --8<-- [start:pickle_module]
        # No switch set: a call that passes pickle_module and no weights_only
        # loads with weights_only=False, and runs the code in the file.
        model, args = load_detector_with_pickle_module(path)
        load_detector_with_pickle_module(crafted)
        print("pickle_module passed, code ran:", marker.exists())
        # --8<-- [end:pickle_module]
        check(model, args)  # the Namespace loaded, with no allowlist
        assert marker.read_text() == "ran"
        marker.unlink()

        # --8<-- [start:force_weights_only]
        # Every torch.load in this process loads with weights_only=True, even
        # the library's call that passes weights_only=False.
        with environment(TORCH_FORCE_WEIGHTS_ONLY_LOAD="1"):
            try:
                load_detector_v2(crafted)
            except pickle.UnpicklingError as err:
                print(str(err).splitlines()[3].strip())
            with torch.serialization.safe_globals([argparse.Namespace]):
                model, args = load_detector_v2(path)
        print("code ran:", marker.exists())
        # --8<-- [end:force_weights_only]
        assert not marker.exists()
        check(model, args)
        with environment(TORCH_FORCE_WEIGHTS_ONLY_LOAD="1"):
            try:
                load_detector_v2(path)
            except pickle.UnpicklingError as err:
                assert "GLOBAL argparse.Namespace" in str(err)
            else:
                raise AssertionError("loaded a Namespace without allowing it")

        # --8<-- [start:force_pickle_module]
        # With the switch, a call that passes pickle_module fails on any file,
        # your own trusted detector.pt included.
        with environment(TORCH_FORCE_WEIGHTS_ONLY_LOAD="1"):
            try:
                load_detector_with_pickle_module(path)
            except RuntimeError as err:
                print(f"{type(err).__name__}: {err}")
                message = str(err)
            else:
                raise AssertionError("pickle_module passed, and it loaded")
        # --8<-- [end:force_pickle_module]
        assert message == (
            "Can not safely load weights when explicit pickle_module is specified"
        )
        # The crafted file fails the same way, before any of its code runs.
        with environment(TORCH_FORCE_WEIGHTS_ONLY_LOAD="1"):
            try:
                load_detector_with_pickle_module(crafted)
            except RuntimeError as err:
                assert str(err) == message
            else:
                raise AssertionError("pickle_module passed, and it loaded")
        assert not marker.exists()
        # The allowlist does not help: the call fails before reading the file.
        with environment(TORCH_FORCE_WEIGHTS_ONLY_LOAD="1"):
            with torch.serialization.safe_globals([argparse.Namespace]):
                try:
                    load_detector_with_pickle_module(path)
                except RuntimeError as err:
                    assert "explicit pickle_module is specified" in str(err)
                else:
                    raise AssertionError("pickle_module passed, and it loaded")
        # Nor does weights_only=True, passed with pickle_module, with no switch.
        try:
            torch.load(path, pickle_module=pickle, weights_only=True)
        except RuntimeError as err:
            assert "explicit pickle_module is specified" in str(err)
        else:
            raise AssertionError("pickle_module and weights_only=True, and it loaded")

        # --8<-- [start:both]
        with environment(
            TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1", TORCH_FORCE_WEIGHTS_ONLY_LOAD="1"
        ):
            try:
                load_detector(path)
            except RuntimeError as err:
                print(f"{type(err).__name__}: {err}")
                assert "Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD`" in str(err)
            else:
                raise AssertionError("both switches set, and torch.load ran")
        # --8<-- [end:both]

    assert {name: os.environ.get(name) for name in SWITCHES} == switches_before


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
