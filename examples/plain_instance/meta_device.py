"""Skip the random initialisation: build on the meta device, load with assign=True."""

import argparse
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
    path = out_dir / "mymodel.pt"
    trained_model = MyModel().to(device)
    # ... train the model ...
    torch.save(trained_model.state_dict(), path)

    rng_state = torch.get_rng_state()
    # --8<-- [start:meta]
    with torch.device("meta"):
        model = MyModel()  # shapes only: no memory, no random numbers
    print("before loading:", model.fc1.weight.device)
    # --8<-- [end:meta]
    assert all(p.is_meta for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), rng_state)  # no random numbers drawn

    # Without assign=True, loading into a meta model does nothing but warn.
    with torch.device("meta"):
        copy_target = MyModel()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copy_target.load_state_dict(torch.load(path, weights_only=True))
    assert all(p.is_meta for p in copy_target.parameters())
    assert "is a no-op" in str(caught[0].message)

    # --8<-- [start:assign]
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    model.eval()
    print("after loading:", model.fc1.weight.device.type)
    # --8<-- [end:assign]
    assert not any(p.is_meta for p in model.parameters())
    assert model.fc1.weight.data_ptr() == state_dict["fc1.weight"].data_ptr()  # no copy
    assert all(p.device.type == torch.device(device).type for p in model.parameters())
    assert all(p.requires_grad for p in model.parameters())  # still trainable

    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        same = torch.equal(model(inputs), trained_model(inputs))
    print("same outputs as the saved model:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
