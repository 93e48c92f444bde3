"""What load_state_dict returns: <All keys matched successfully> or _IncompatibleKeys.

`load_state_dict` returns the keys it could not match. With the default
`strict=True` any such key raises an error; with `strict=False` nothing is raised,
so a file whose names all differ loads nothing at all, silently. Check the result.
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
    # ... train the model wrapped in nn.DataParallel, save the wrapper's weights ...
    path = out_dir / "mymodel_wrapped.pt"
    torch.save(nn.DataParallel(model).state_dict(), path)  # "module.fc1.weight", ...

    new_model = MyModel().to(device)
    random_weights = {k: v.clone() for k, v in new_model.state_dict().items()}
    # --8<-- [start:silent]
    state_dict = torch.load(path, map_location=device, weights_only=True)
    result = new_model.load_state_dict(state_dict, strict=False)  # raises nothing
    print(result)
    # --8<-- [end:silent]
    assert result.missing_keys == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    after = new_model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in random_weights.items())  # no change

    # --8<-- [start:check]
    state_dict = {name.removeprefix("module."): t for name, t in state_dict.items()}
    result = new_model.load_state_dict(state_dict)  # strict=True: raises if any differ
    print(result)
    # --8<-- [end:check]
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
