"""Fix "Invalid magic number; corrupt file?": torch.load read a legacy-format start.

A file that is not a zip archive is read as torch.save's legacy format (PyTorch
1.5 and older, or _use_new_zipfile_serialization=False), which starts with a
pickled magic number. Another first value means the file came from pickle.dump,
not torch.save, or its start is damaged. Compare the first bytes; re-save a
pickle you trust with torch.save; get another copy of a damaged file.
"""

import argparse
import pickle
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    # On the CPU, so that the files below are the same whatever the device.
    state = {name: tensor.cpu() for name, tensor in model.state_dict().items()}

    legacy = out_dir / "mymodel_legacy.pt"  # as PyTorch 1.5 and older saved
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    damaged = out_dir / "mymodel_damaged.pt"  # the same, with its 6th byte changed
    data = bytearray(legacy.read_bytes())
    data[5] ^= 1
    damaged.write_bytes(data)
    pickled = out_dir / "mymodel.pkl"  # written by pickle, not torch.save
    with open(pickled, "wb") as f:
        pickle.dump(state, f)

    try:
        torch.load(damaged, map_location=device, weights_only=True)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("a damaged file loaded")
    print(f"{damaged.name}: {type(error).__name__}: {error}")
    assert str(error) == "Invalid magic number; corrupt file?"

    # The pickle.dump file: weights_only=True stops at its first opcode ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Detected pickle protocol 4"
        try:
            torch.load(pickled, map_location=device, weights_only=True)
        except pickle.UnpicklingError as err:
            error = err
        else:
            raise AssertionError("a pickle.dump file loaded")
    reason = next(line for line in str(error).splitlines() if "Unsupported" in line)
    print(f"{pickled.name}, weights_only=True: {type(error).__name__}: {reason}")
    # 149 is FRAME, of pickle protocol 4 and up. PyTorch 2.9 and later give the
    # reason a line of its own; 2.6 to 2.8 end the "Please file an issue" line with
    # it (pytorch/pytorch#159935).
    if torch.__version__ >= "2.9":
        assert reason == "Unsupported operand 149"
    else:
        assert reason.startswith("Please file an issue")
        assert reason.endswith("WeightsUnpickler error: Unsupported operand 149")
    # ... and weights_only=False (PyTorch before 2.6) at the magic number. (Safe
    # here only because this script wrote the file: it can run any code.)
    try:
        torch.load(pickled, map_location=device, weights_only=False)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("a pickle.dump file loaded")
    print(f"{pickled.name}, weights_only=False: {type(error).__name__}: {error}")
    assert str(error) == "Invalid magic number; corrupt file?"

    # --8<-- [start:check]
    magic = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)
    print("a legacy torch.save file starts with:", magic)
    for path in [legacy, damaged, pickled]:
        print(f"{path.name}:", path.read_bytes()[: len(magic)])
    # --8<-- [end:check]
    assert legacy.read_bytes().startswith(magic)
    assert not damaged.read_bytes().startswith(magic)
    assert not pickled.read_bytes().startswith(magic)
    loaded = torch.load(legacy, map_location=device, weights_only=True)
    assert all(torch.equal(loaded[k].cpu(), state[k]) for k in state)

    # --8<-- [start:fix]
    # pickle.load runs code from the file: only for a file you trust.
    with open(pickled, "rb") as f:
        state_dict = pickle.load(f)
    torch.save(state_dict, out_dir / "mymodel.pt")  # from now on, a torch.save file
    state_dict = torch.load(
        out_dir / "mymodel.pt", map_location=device, weights_only=True
    )
    # --8<-- [end:fix]
    new_model = MyModel().to(device)
    new_model.load_state_dict(state_dict)
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
