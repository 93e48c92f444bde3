"""How torch.export and torch.jit.trace run forward: on fake or on real tensors."""

import argparse
import logging
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

SEEN = []  # what forward saw, one entry each time Python ran it


# --8<-- [start:model]
class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        SEEN.append((type(x).__name__, x.sum().item()))  # a side effect, in Python
        return self.fc2(self.fc1(x))


# --8<-- [end:model]


class Branchy(nn.Module):
    """Takes a branch that depends on the input's values."""

    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device).eval()
    x = torch.randn(3, 10, device=device)
    real_sum = x.sum().item()

    # --8<-- [start:trace_and_export]
    SEEN.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated; .item() is traced as a constant
        torch.jit.trace(model, (x,))
    print("torch.jit.trace:", [(kind, type(value).__name__) for kind, value in SEEN])
    traced_seen = list(SEEN)

    SEEN.clear()
    # strict=False: run forward in Python (PyTorch 2.6 defaults to strict=True)
    exported = torch.export.export(model, (x,), strict=False)
    print(
        "torch.export.export:", [(kind, type(value).__name__) for kind, value in SEEN]
    )
    # --8<-- [end:trace_and_export]
    # jit.trace runs forward on the real input: once to record, twice to check it.
    assert [kind for kind, _ in traced_seen] == ["Tensor"] * 3, traced_seen
    assert all(value == real_sum for _, value in traced_seen)
    # export runs it once, on a FakeTensor: .item() gives a symbol, not a number.
    assert len(SEEN) == 1 and SEEN[0][0] == "FakeTensor", SEEN
    assert isinstance(SEEN[0][1], torch.SymFloat)
    with torch.no_grad():  # the exported program computes what the model does
        assert torch.allclose(exported.module()(x), model(x))
    SEEN.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(model, (x,), check_trace=False)  # no check: once only
    assert len(SEEN) == 1, SEEN

    # Quiet the warnings torch.export logs when it meets the data-dependent if.
    shapes_log = logging.getLogger("torch.fx.experimental.symbolic_shapes")
    level = shapes_log.level
    shapes_log.setLevel(logging.ERROR)
    # --8<-- [start:branch]
    positive = torch.ones(2, 3, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarning: the trace might be incorrect
        traced = torch.jit.trace(Branchy(), (positive,))
    negative = -positive
    same = torch.equal(traced(negative), Branchy()(negative))
    print("torch.jit.trace, then a negative input, right result:", same)
    try:
        torch.export.export(Branchy(), (positive,), strict=False)
    except Exception as err:
        error = err
    print(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    # --8<-- [end:branch]
    shapes_log.setLevel(level)
    assert not same and torch.equal(traced(negative), negative)  # the branch it saw
    assert isinstance(
        error, torch.fx.experimental.symbolic_shapes.GuardOnDataDependentSymNode
    )
    assert "Could not guard on data-dependent expression" in str(error)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
