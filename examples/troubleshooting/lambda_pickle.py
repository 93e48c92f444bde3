"""Fix "Can't pickle local object ... <lambda>": save the state_dict, not the model.

`torch.save(model)` pickles the whole model object, and Python's pickle cannot save
a lambda (or a function defined inside another function) stored on it. A state_dict
holds only tensors, so it saves whatever the model's attributes are.
"""

import argparse
import pickle
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn


class MyModelWithLambda(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.activation = lambda x: torch.clamp(x, min=0)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.activation(self.fc1(x)))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModelWithLambda().to(device)
    try:
        torch.save(model, out_dir / "mymodel_entire.pt")
    # Python 3.11 to 3.13 raise AttributeError; 3.14 raises pickle.PicklingError.
    except (AttributeError, pickle.PicklingError) as err:
        error = err
    else:
        raise AssertionError("torch.save pickled a lambda")
    print(f"{type(error).__name__}: {error}")
    # The words differ by Python: 3.13 says "get" where the others say "pickle".
    verb = "get" if sys.version_info[:2] == (3, 13) else "pickle"
    assert f"Can't {verb} local object" in str(error) and "<lambda>" in str(error)

    # --8<-- [start:fix]
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)  # tensors only: the lambda is not in it

    new_model = MyModelWithLambda().to(device)
    new_model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    # --8<-- [end:fix]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
