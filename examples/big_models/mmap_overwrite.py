"""After torch.load(mmap=True), weights on the CPU are the file: do not overwrite it."""

import argparse
import os
import tempfile
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
    path = out_dir / "mymodel.pt"
    torch.save(MyModel().state_dict(), path)

    with torch.device("meta"):
        model = MyModel()
    state_dict = torch.load(path, mmap=True, map_location="cpu", weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    model.to(device)  # on a GPU this copies the weights; on the CPU it does nothing
    loaded = model.fc1.weight.detach().clone()

    # --8<-- [start:overwrite]
    other = MyModel()
    torch.save(other.state_dict(), path)  # rewrites the file the model is mapped from
    # --8<-- [end:overwrite]
    changed = not torch.equal(model.fc1.weight, loaded)
    print("rewriting the file in place changed the loaded model:", changed)
    on_cpu = torch.device(device).type == "cpu"
    assert changed == on_cpu
    if on_cpu:
        assert torch.equal(model.fc1.weight, other.fc1.weight)  # it now holds these

    loaded = model.fc1.weight.detach().clone()
    # --8<-- [start:replace]
    temp_path = path.with_name(path.name + ".tmp")
    torch.save(MyModel().state_dict(), temp_path)
    os.replace(temp_path, path)  # a new file takes the name; the mapped one lives on
    # --8<-- [end:replace]
    changed = not torch.equal(model.fc1.weight, loaded)
    print("replacing the file changed the loaded model:", changed)
    assert not changed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
