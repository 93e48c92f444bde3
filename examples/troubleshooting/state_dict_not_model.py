"""Fix "'collections.OrderedDict' object has no attribute 'eval'": not a model.

A file saved with `torch.save(model.state_dict(), path)` holds a dictionary of
tensors. `torch.load` gives back that dictionary, not a model: build the model from
its class, then load the dictionary into it. `load_state_dict` wants the dictionary
too, not the file's path.
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

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = torch.randn(3, 10, device=device)
    model = MyModel().to(device)
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)

    loaded = torch.load(path, map_location=device, weights_only=True)
    try:
        loaded.eval()  # `loaded` is the state_dict, not a model
    except AttributeError as err:
        error = err
    else:
        raise AssertionError("a state_dict has no .eval()")
    print(f"{type(error).__name__}: {error}")
    assert str(error) == "'collections.OrderedDict' object has no attribute 'eval'"

    new_model = MyModel().to(device)
    try:
        new_model.load_state_dict(str(path))  # the file's name, not its contents
    except TypeError as err:
        error = err
    else:
        raise AssertionError("load_state_dict took a path")
    print(f"{type(error).__name__}: {error}")
    assert str(error) == "Expected state_dict to be dict-like, got <class 'str'>."

    # --8<-- [start:fix]
    new_model = MyModel().to(device)  # build the model from its class
    state_dict = torch.load(path, map_location=device, weights_only=True)
    new_model.load_state_dict(state_dict)  # then load the weights into it
    new_model.eval()
    # --8<-- [end:fix]
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
