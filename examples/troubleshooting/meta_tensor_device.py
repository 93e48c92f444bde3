"""Tensor on device meta is not on the expected device cpu!: a tensor was left on meta.

After building a model on the meta device and loading with `assign=True`, every
tensor that the state_dict did not hold is still a meta tensor, with no values:
a buffer registered with `persistent=False` (never saved), or a key missing under
`strict=False`. The load reports `<All keys matched successfully>` for the first;
the forward then fails. Find those tensors and give them values.
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
        # Normalisation constants: computed, not learned, so not saved.
        self.register_buffer("mean", torch.empty(10), persistent=False)
        self.register_buffer("std", torch.empty(10), persistent=False)
        self.init_buffers()

    def init_buffers(self):
        device = self.fc1.weight.device
        self.mean = torch.linspace(-1, 1, 10, device=device)
        self.std = torch.linspace(1, 2, 10, device=device)

    def forward(self, x):
        return self.fc2(self.fc1((x - self.mean) / self.std))


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
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict, assign=True)  # <All keys matched successfully>
    try:
        model(inputs)
    except RuntimeError as err:
        message = str(err)
        print(f"{type(err).__name__}: {message}")
    # --8<-- [end:error]
    assert "Tensor on device meta is not on the expected device" in message

    # --8<-- [start:fix]
    tensors = [*model.named_parameters(), *model.named_buffers()]
    print("still on meta:", [name for name, t in tensors if t.is_meta])
    model.init_buffers()  # compute the buffers that the file does not hold
    # --8<-- [end:fix]
    assert not any(t.is_meta for t in [*model.parameters(), *model.buffers()])
    with torch.no_grad():
        same = torch.equal(model(inputs), trained(inputs))
    print("same outputs as the saved model:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
