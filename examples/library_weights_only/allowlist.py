"""A library's torch.load refuses a checkpoint that holds argparse.Namespace: allow it.

`load_detector` below stands for code in a library that you cannot edit. It calls
`torch.load(path, map_location="cpu")` without `weights_only`, so PyTorch 2.6 and
later load with `weights_only=True`, which refuses the `argparse.Namespace` of
training arguments that the checkpoint holds. Allowing that one class, around the
library call or for the whole process, lets the library load the file, and still
refuses anything else that is not plain data. The allowlist is one set for the
whole process, shared by its threads.
"""

import argparse
import pickle
import tempfile
import threading
from pathlib import Path

import torch
from torch import nn


class TinyDetector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(10, 5)
        self.head = nn.Linear(5, 4)

    def forward(self, x):
        return self.head(self.backbone(x).relu())


# --8<-- [start:library]
# Stands for third-party code that you cannot change: a library's loader.
def load_detector(path):
    checkpoint = torch.load(path, map_location="cpu")  # no weights_only argument
    model = TinyDetector()
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint["args"]
    # --8<-- [end:library]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)

    # --8<-- [start:save]
    # How such files are made: the training script saves its parsed arguments.
    train_args = argparse.Namespace(arch="tiny", lr=0.01, epochs=30, img_size=640)
    trained = TinyDetector().to(device)
    path = out_dir / "detector.pt"
    torch.save({"model": trained.state_dict(), "args": train_args}, path)
    # --8<-- [end:save]

    def check(model, args):
        """The library's model holds the saved weights, and args the saved values."""
        assert args == train_args and args.lr == 0.01 and args.img_size == 640
        for name, tensor in trained.state_dict().items():
            assert torch.equal(model.state_dict()[name], tensor.cpu())

    # --8<-- [start:error]
    try:
        load_detector(path)
    except pickle.UnpicklingError as err:
        print(f"{type(err).__name__}: {err}")
        assert "GLOBAL argparse.Namespace was not an allowed global" in str(err)
    else:
        raise AssertionError("weights_only=True loaded an argparse.Namespace")
    # --8<-- [end:error]

    # --8<-- [start:names]
    print(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    # --8<-- [end:names]
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == [
        "argparse.Namespace"
    ]

    allowed_before = torch.serialization.get_safe_globals()
    # --8<-- [start:context]
    with torch.serialization.safe_globals([argparse.Namespace]):
        model, args = load_detector(path)
    print(args)
    # --8<-- [end:context]
    check(model, args)
    assert argparse.Namespace not in torch.serialization.get_safe_globals()

    # --8<-- [start:threads]
    # The allowlist is one set for the whole process: while the block runs, a
    # library call in another thread accepts the class too.
    def load_in_another_thread(results):
        results["args"] = load_detector(path)[1]

    results = {}
    with torch.serialization.safe_globals([argparse.Namespace]):
        thread = threading.Thread(target=load_in_another_thread, args=(results,))
        thread.start()
        thread.join()
    print("loaded in another thread:", results["args"] == train_args)
    # --8<-- [end:threads]
    assert results["args"] == train_args

    # And a block that ends in one thread takes the class away from every thread:
    # here the other thread's own `with` block is still open when its load fails.
    first_block_open, first_block_closed = threading.Event(), threading.Event()
    errors = []

    def load_in_own_block():
        with torch.serialization.safe_globals([argparse.Namespace]):
            first_block_open.set()
            first_block_closed.wait()
            try:
                load_detector(path)
            except pickle.UnpicklingError as err:
                errors.append(err)

    thread = threading.Thread(target=load_in_own_block)
    with torch.serialization.safe_globals([argparse.Namespace]):
        thread.start()
        first_block_open.wait()
    first_block_closed.set()
    thread.join()
    assert len(errors) == 1
    assert "GLOBAL argparse.Namespace was not an allowed global" in str(errors[0])

    # --8<-- [start:process]
    # Once, before the library loads: every later torch.load in this process
    # accepts argparse.Namespace too.
    torch.serialization.add_safe_globals([argparse.Namespace])
    model, args = load_detector(path)
    # --8<-- [end:process]
    check(model, args)

    # The `with` block takes its classes out of the list when it ends, even those
    # that add_safe_globals put there before.
    with torch.serialization.safe_globals([argparse.Namespace]):
        pass
    assert argparse.Namespace not in torch.serialization.get_safe_globals()

    # --8<-- [start:undo]
    allowed_before = torch.serialization.get_safe_globals()
    torch.serialization.add_safe_globals([argparse.Namespace])
    try:
        model, args = load_detector(path)
    finally:
        # Put the list back as it was. clear_safe_globals() alone would also
        # drop the entries that torch registers itself (nested tensors...).
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(allowed_before)
    # --8<-- [end:undo]
    check(model, args)
    assert argparse.Namespace not in torch.serialization.get_safe_globals()
    assert set(torch.serialization.get_safe_globals()) == set(allowed_before)

    # The allowlist holds one class: anything else is still refused, even as the
    # value of an attribute of an allowed Namespace.
    class RunsCodeWhenLoaded:
        def __reduce__(self):
            return (print, ("this line ran while loading",))

    crafted = out_dir / "crafted.pt"
    crafted_args = argparse.Namespace(lr=RunsCodeWhenLoaded())
    torch.save({"model": trained.state_dict(), "args": crafted_args}, crafted)
    with torch.serialization.safe_globals([argparse.Namespace]):
        try:
            load_detector(crafted)
        except pickle.UnpicklingError as err:
            # PyTorch 2.6 names it builtins.print; 2.7 and later drop "builtins."
            # (pytorch/pytorch#146815)
            name = "print" if torch.__version__ >= "2.7" else "builtins.print"
            assert f"Unsupported global: GLOBAL {name} was not" in str(err)
        else:
            raise AssertionError("the allowlist let print through")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
