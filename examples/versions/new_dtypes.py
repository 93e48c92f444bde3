"""What a torch.save file needs from the PyTorch that loads it: the names it pickles.

A file refers to Python names (functions, classes, dtypes) that the loading PyTorch
must have. A float32 state_dict needs names that PyTorch has had for years; a
float8 tensor needs names that only newer releases have.
"""

import argparse
import pickletools
import tempfile
import zipfile
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


# --8<-- [start:names]
def names_needed(path):
    """The Python names that loading a torch.save (zip) file looks up."""
    with zipfile.ZipFile(path) as archive:
        pickle_record = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        pickled = archive.read(pickle_record)
    return sorted(
        {
            arg.replace(" ", ".")
            for opcode, arg, _ in pickletools.genops(pickled)
            if opcode.name == "GLOBAL"
        }
    )


# --8<-- [end:names]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)

    # --8<-- [start:compare]
    torch.save(model.state_dict(), out_dir / "float32.pt")
    float8_state = {
        k: v.cpu().to(torch.float8_e4m3fn) for k, v in model.state_dict().items()
    }
    torch.save(float8_state, out_dir / "float8.pt")
    print("float32:", names_needed(out_dir / "float32.pt"))
    print("float8: ", names_needed(out_dir / "float8.pt"))
    # --8<-- [end:compare]
    assert names_needed(out_dir / "float32.pt") == [
        "collections.OrderedDict",
        "torch.FloatStorage",
        "torch._utils._rebuild_tensor_v2",
    ]
    assert names_needed(out_dir / "float8.pt") == [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v3",
        "torch.float8_e4m3fn",
        "torch.storage.UntypedStorage",
    ]
    # This PyTorch has them all, and loads both files with weights_only=True.
    for name in ["float32.pt", "float8.pt"]:
        loaded = torch.load(out_dir / name, map_location="cpu", weights_only=True)
        assert loaded.keys() == model.state_dict().keys()
    assert loaded["fc1.weight"].dtype == torch.float8_e4m3fn
    assert torch.equal(
        loaded["fc1.weight"].view(torch.uint8),
        float8_state["fc1.weight"].view(torch.uint8),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
