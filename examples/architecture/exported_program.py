"""torch.export: save the architecture with the weights, run it without the class."""

import argparse
import subprocess
import sys
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


# --8<-- [start:use_model]
# A separate program: it never defines (or imports) MyModel.
USE_MODEL = """
import sys

import torch

model = torch.export.load(sys.argv[1]).module()
x = torch.load(sys.argv[2], weights_only=True)
with torch.no_grad():
    torch.save(model(x), sys.argv[3])
"""
# --8<-- [end:use_model]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device).eval()
    # ... train the model ...

    # --8<-- [start:export]
    example_input = torch.randn(3, 10, device=device)
    batch = torch.export.Dim("batch")  # any batch size, not only 3
    exported = torch.export.export(
        model, (example_input,), dynamic_shapes={"x": {0: batch}}
    )
    path = out_dir / "mymodel.pt2"
    torch.export.save(exported, path)
    # --8<-- [end:export]

    # --8<-- [start:run]
    x = torch.randn(7, 10, device=device)  # a batch size the export never saw
    torch.save(x, out_dir / "x.pt")
    script = out_dir / "use_model.py"
    script.write_text(USE_MODEL)
    subprocess.run(
        [sys.executable, script, path, out_dir / "x.pt", out_dir / "y.pt"], check=True
    )
    y = torch.load(out_dir / "y.pt", weights_only=True)
    # --8<-- [end:run]
    with torch.no_grad():
        expected = model(x)
    print("new process:", tuple(y.shape), "equal:", torch.equal(y, expected))
    assert y.device == expected.device
    assert torch.equal(y, expected)

    # --8<-- [start:eval]
    loaded = torch.export.load(path).module()
    try:
        loaded.eval()  # the mode is fixed at export: export in eval mode
    except NotImplementedError as err:
        print(f"{type(err).__name__}: {err}")
        assert "eval() is not supported" in str(err)
    else:
        raise AssertionError("the exported module accepted .eval()")
    # --8<-- [end:eval]
    assert isinstance(loaded, torch.fx.GraphModule)  # not a MyModel

    # --8<-- [start:static]
    static = torch.export.export(model, (example_input,))  # no dynamic_shapes
    torch.export.save(static, out_dir / "static.pt2")
    static_model = torch.export.load(out_dir / "static.pt2").module()
    try:
        static_model(torch.randn(4, 10, device=device))
    except (AssertionError, RuntimeError) as err:  # which one depends on the release
        print(f"{type(err).__name__}: {err}")
        error = err
    else:
        raise AssertionError("a static export accepted a new batch size")
    # --8<-- [end:static]
    # 2.9 and later: a guard that the program runs first (pytorch/pytorch#161178)
    if torch.__version__ >= "2.9":
        assert isinstance(error, AssertionError)
        assert "Guard failed: x.size()[0] == 3" in str(error)
    else:  # PyTorch 2.6 to 2.8: a check of the inputs before the program runs
        assert type(error) is RuntimeError
        expected = "Expected input at *args[0].shape[0] to be equal to 3, but got 4"
        assert expected in str(error)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
