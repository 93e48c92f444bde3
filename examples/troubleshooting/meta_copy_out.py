"""Cannot copy out of meta tensor; no data!: .to() met a tensor still on meta.

`model.to(device)` copies every tensor, and a meta tensor has no values to copy.
After a meta-device build and `load_state_dict(..., assign=True)`, the tensors
the file did not hold (buffers registered with `persistent=False`) are still on
meta. The message suggests `to_empty()`, but after a load that throws away the
loaded weights: give the leftover tensors their values instead.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)
        # Computed, not learned, so not saved.
        self.register_buffer("scale", torch.empty(5), persistent=False)
        self.init_buffers()

    def init_buffers(self):
        self.scale = torch.full((5,), 0.5, device=self.fc1.weight.device)

    def forward(self, x):
        return self.fc2(self.fc1(x) * self.scale)


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel.pt"
    trained = MyModel().to(device)
    torch.save(trained.state_dict(), path)
    inputs = torch.randn(3, 10, device=device)

    # --8<-- [start:error]
    with torch.device("meta"):
        model = MyModel()
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    try:
        model.to(device)
    except NotImplementedError as err:
        message = str(err)
        print(f"{type(err).__name__}: {message}")
    # --8<-- [end:error]
    assert message.startswith("Cannot copy out of meta tensor; no data!")
    assert model.scale.is_meta

    # --8<-- [start:to-empty]
    model.to_empty(device=device)  # what the message suggests
    kept = model.fc1.weight.data_ptr() == state_dict["fc1.weight"].data_ptr()
    print("the model still holds the loaded weights:", kept)
    # --8<-- [end:to-empty]
    assert not kept  # new, uninitialised tensors in place of every loaded one

    # --8<-- [start:fix]
    with torch.device("meta"):
        model = MyModel()
    model.load_state_dict(state_dict, assign=True)
    model.init_buffers()  # give the tensors left on meta their values
    model.to(device)
    # --8<-- [end:fix]
    with torch.no_grad():
        same = torch.equal(model(inputs), trained(inputs))
    print("same outputs as the saved model:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
