"""What a saved state_dict holds: parameter names and tensors, no code."""

import argparse
import pickletools
import tempfile
import zipfile
from collections import OrderedDict
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
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)

    # --8<-- [start:open]
    state_dict = torch.load(path, weights_only=True)
    print(type(state_dict))
    for name, tensor in state_dict.items():
        print(name, type(tensor).__name__, tuple(tensor.shape))
    # --8<-- [end:open]
    assert type(state_dict) is OrderedDict
    assert list(state_dict) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(type(tensor) is torch.Tensor for tensor in state_dict.values())

    # --8<-- [start:metadata]
    print(dict(state_dict._metadata))
    # --8<-- [end:metadata]
    assert state_dict._metadata == model.state_dict()._metadata
    assert dict(state_dict._metadata) == {
        "": {"version": 1},
        "fc1": {"version": 1},
        "fc2": {"version": 1},
    }

    # --8<-- [start:call]
    x = torch.randn(3, 10, device=device)
    try:
        state_dict(x)
    except TypeError as err:
        print(f"{type(err).__name__}: {err}")
        assert "'collections.OrderedDict' object is not callable" in str(err)
    else:
        raise AssertionError("a state_dict cannot run")
    # --8<-- [end:call]

    # --8<-- [start:zip]
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            print(member.filename, member.file_size)
        pickled = archive.read("mymodel/data.pkl")
    # --8<-- [end:zip]
    records = [name.removeprefix("mymodel/") for name in archive.namelist()]
    tensors = ["data/0", "data/1", "data/2", "data/3"]
    # Two more records since 2.7, after data.pkl (pytorch/pytorch#143879, #147788)
    if torch.__version__ >= "2.7":
        assert records == [
            "data.pkl",
            ".format_version",
            ".storage_alignment",
            "byteorder",
            *tensors,
            "version",
            ".data/serialization_id",
        ]
    else:  # 2.6
        assert records == [
            "data.pkl",
            "byteorder",
            *tensors,
            "version",
            ".data/serialization_id",
        ]

    # --8<-- [start:globals]
    python_names = [
        arg for opcode, arg, _ in pickletools.genops(pickled) if opcode.name == "GLOBAL"
    ]
    print(python_names)
    # --8<-- [end:globals]
    assert "collections OrderedDict" in python_names
    assert b"MyModel" not in pickled and b"forward" not in pickled
    assert b"_metadata" in pickled and b"version" in pickled

    # --8<-- [start:instance]
    new_model = MyModel().to(device)  # the code: layers and forward()
    new_model.load_state_dict(state_dict)  # the data: the tensors from the file
    same = torch.equal(new_model(x), model(x))
    print("class + file, same outputs as the saved model:", same)
    # --8<-- [end:instance]
    assert same

    # load_state_dict hands each module its entry of _metadata, as the
    # local_metadata argument of its _load_from_state_dict (and of load hooks).
    received = {}

    def record(module, state_dict, prefix, local_metadata, *args):
        received[prefix.removesuffix(".")] = dict(local_metadata)

    for module in new_model.modules():
        module.register_load_state_dict_pre_hook(record)
    new_model.load_state_dict(state_dict)
    assert received == dict(state_dict._metadata)
    # A dict built from the state_dict has no _metadata: each module then gets an
    # empty entry, and these layers load it all the same.
    received.clear()
    new_model.load_state_dict(dict(state_dict.items()))
    assert received == {"": {}, "fc1": {}, "fc2": {}}
    assert torch.equal(new_model(x), model(x))

    # The version lets a layer load a file from an older release of its class:
    # nn.BatchNorm1d is at version 2, which added num_batches_tracked, and fills
    # it in for a version 1 file that lacks it.
    batch_norm = nn.BatchNorm1d(5)
    assert batch_norm.state_dict()._metadata[""] == {"version": 2}
    old_file = batch_norm.state_dict()
    del old_file["num_batches_tracked"]
    try:
        nn.BatchNorm1d(5).load_state_dict(old_file)
    except RuntimeError as err:
        assert 'Missing key(s) in state_dict: "num_batches_tracked"' in str(err)
    else:
        raise AssertionError("a version 2 file without num_batches_tracked loaded")
    old_file._metadata[""]["version"] = 1
    nn.BatchNorm1d(5).load_state_dict(old_file)  # strict: no missing key now


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
