"""Fix "Unexpected key(s) in state_dict: "_orig_mod.fc1.weight"": a compiled model.

`torch.compile(model)` returns a wrapper (an OptimizedModule) that holds your model as
`_orig_mod`, so its state_dict names every weight "_orig_mod.<name>". Save
`compiled._orig_mod.state_dict()`, strip the prefix, or compile with `model.compile()`.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


class CompiledStandIn(nn.Module):
    """Holds the model as `_orig_mod`, exactly where torch.compile's wrapper keeps it.

    Only here to keep this script fast: in your code this is `torch.compile(model)`.
    """

    def __init__(self, model):
        super().__init__()
        self._orig_mod = model

    def forward(self, x):
        return self._orig_mod(x)


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = torch.randn(3, 10, device=device)

    model = MyModel().to(device)
    compiled = CompiledStandIn(model)  # in your code: compiled = torch.compile(model)
    # ... train the compiled model ...

    compiled_path = out_dir / "mymodel_compiled.pt"
    # keys: "_orig_mod.fc1.weight", ...
    torch.save(compiled.state_dict(), compiled_path)

    new_model = MyModel().to(device)
    state_dict = torch.load(compiled_path, map_location=device, weights_only=True)
    try:
        new_model.load_state_dict(state_dict)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("load_state_dict accepted the prefixed keys")
    print(f"{type(error).__name__}: {error}")
    assert 'Unexpected key(s) in state_dict: "_orig_mod.fc1.weight"' in str(error)

    # --8<-- [start:fix]
    # Fix 1, when saving: save the model inside the compiled wrapper.
    path = out_dir / "mymodel.pt"
    torch.save(compiled._orig_mod.state_dict(), path)
    new_model.load_state_dict(torch.load(path, map_location=device, weights_only=True))

    # Fix 2, for a file that already has the prefix: strip it, then load.
    state_dict = torch.load(compiled_path, map_location=device, weights_only=True)
    consume_prefix_in_state_dict_if_present(state_dict, "_orig_mod.")
    stripped_model = MyModel().to(device)
    stripped_model.load_state_dict(state_dict)
    # --8<-- [end:fix]
    assert list(state_dict) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))
        assert torch.equal(stripped_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
