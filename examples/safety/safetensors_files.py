"""safetensors: a file of tensors and text that cannot run code, loaded to a device."""

import argparse
import json
import tempfile
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
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
    # ... train the model ...

    # --8<-- [start:save]
    path = out_dir / "mymodel.safetensors"
    metadata = {"epochs": "10", "config": json.dumps({"hidden": 5})}  # str -> str
    save_file(model.state_dict(), path, metadata=metadata)
    # --8<-- [end:save]

    # --8<-- [start:metadata]
    with safe_open(path, framework="pt") as f:
        saved_metadata = f.metadata()  # a dict, in no particular order
        names = sorted(f.keys())
    print(names)
    print(saved_metadata["epochs"], json.loads(saved_metadata["config"]))
    # --8<-- [end:metadata]
    assert saved_metadata == metadata
    assert names == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]

    # --8<-- [start:load]
    state_dict = load_file(path, device=device)  # straight to the device
    loaded = MyModel().to(device)
    loaded.load_state_dict(state_dict)
    # --8<-- [end:load]
    assert all(t.device.type == torch.device(device).type for t in state_dict.values())
    x = torch.randn(4, 10, device=device)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))

    # --8<-- [start:not_str]
    try:
        save_file(
            model.state_dict(), out_dir / "wrong.safetensors", metadata={"epochs": 10}
        )
    except TypeError as err:
        print(f"{type(err).__name__}: {err}")
        assert "'int' object is not an instance of 'str'" in str(err)
    else:
        raise AssertionError("metadata with an int value was saved")
    # --8<-- [end:not_str]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
