"""Without assign=True, loading into a model on the meta device does nothing."""

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
    trained = MyModel().to(device)
    path = out_dir / "mymodel.pt"
    torch.save(trained.state_dict(), path)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # --8<-- [start:forgot]
        with torch.device("meta"):
            model = MyModel()
        state_dict = torch.load(path, map_location=device, weights_only=True)
        result = model.load_state_dict(state_dict)  # assign=True forgotten
        print(result)
        # --8<-- [end:forgot]
    print(f"{caught[0].category.__name__}: {caught[0].message}")
    on_meta = [name for name, p in model.named_parameters() if p.is_meta]
    print("still on meta:", on_meta)
    assert not result.missing_keys and not result.unexpected_keys
    assert caught[0].category is UserWarning and "is a no-op" in str(caught[0].message)
    no_op_warnings = [w for w in caught if "is a no-op" in str(w.message)]
    assert len(no_op_warnings) == len(on_meta)  # one warning for each parameter
    assert on_meta == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
