"""What a PyTorch Lightning .ckpt holds, and loading its weights without Lightning.

Trains a tiny LightningModule for three steps (Lightning writes the .ckpt), prints what
the checkpoint holds, then loads the weights in a new Python process in which
`import lightning` fails, with torch.load(weights_only=True).
"""

import argparse
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no info lines


class MyModel(nn.Module):
    def __init__(self, hidden=5):
        super().__init__()
        self.fc1 = nn.Linear(10, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


class LitModel(L.LightningModule):
    def __init__(self, hidden=5, lr=0.01):
        super().__init__()
        self.save_hyperparameters()  # goes into the .ckpt as "hyper_parameters"
        self.model = MyModel(hidden)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        return nn.functional.mse_loss(self(inputs), targets)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


# --8<-- [start:loader]
# Another program, in plain PyTorch: it runs in a new Python process.
LOADER = """
import sys

sys.modules["lightning"] = None  # from here on, `import lightning` fails
sys.modules["pytorch_lightning"] = None

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self, hidden=5):
        super().__init__()
        self.fc1 = nn.Linear(10, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


path, device, inputs_path, outputs_path = sys.argv[1:]
checkpoint = torch.load(path, map_location=device, weights_only=True)
state_dict = {
    key.removeprefix("model."): value
    for key, value in checkpoint["state_dict"].items()
}
model = MyModel(hidden=checkpoint["hyper_parameters"]["hidden"]).to(device)
model.load_state_dict(state_dict)
model.eval()

inputs = torch.load(inputs_path, map_location=device, weights_only=True)
with torch.no_grad():
    torch.save(model(inputs), outputs_path)
"""
# --8<-- [end:loader]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    data = TensorDataset(torch.randn(16, 10), torch.randn(16, 1))
    trainer = L.Trainer(
        accelerator="cpu" if device == "cpu" else "gpu",  # gpu: CUDA or MPS
        devices=1,
        max_steps=3,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=out_dir,  # the .ckpt goes to out_dir/checkpoints/
    )
    lit_model = LitModel(hidden=5, lr=0.01)
    data_loader = DataLoader(data, batch_size=4)
    trainer.fit(lit_model, data_loader)
    path = trainer.checkpoint_callback.best_model_path

    # --8<-- [start:keys]
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    print(list(checkpoint))
    print("state_dict:", list(checkpoint["state_dict"]))
    print("hyper_parameters:", checkpoint["hyper_parameters"])
    print("epoch:", checkpoint["epoch"], "| global_step:", checkpoint["global_step"])
    print("pytorch-lightning_version:", checkpoint["pytorch-lightning_version"])
    print("optimizer_states[0]:", list(checkpoint["optimizer_states"][0]))
    print("lr_schedulers:", checkpoint["lr_schedulers"])
    print("loops:", list(checkpoint["loops"]))
    print("callbacks:", list(checkpoint["callbacks"]))
    # --8<-- [end:keys]
    assert list(checkpoint) == [
        "epoch",
        "global_step",
        "pytorch-lightning_version",
        "state_dict",
        "loops",
        "callbacks",
        "optimizer_states",
        "lr_schedulers",
        "hparams_name",
        "hyper_parameters",
    ]
    lit_state = lit_model.state_dict()
    assert list(checkpoint["state_dict"]) == list(lit_state)
    assert all(k.startswith("model.") for k in checkpoint["state_dict"])
    assert checkpoint["hyper_parameters"] == {"hidden": 5, "lr": 0.01}
    assert type(checkpoint["hyper_parameters"]) is dict
    assert checkpoint["hparams_name"] == "kwargs"
    assert (checkpoint["epoch"], checkpoint["global_step"]) == (0, 3)
    assert checkpoint["pytorch-lightning_version"] == L.__version__
    assert len(checkpoint["optimizer_states"]) == 1  # one per optimizer
    adam_state = checkpoint["optimizer_states"][0]["state"]
    assert [int(s["step"]) for s in adam_state.values()] == [3, 3, 3, 3]
    assert checkpoint["lr_schedulers"] == []
    assert list(checkpoint["loops"]) == [
        "fit_loop",
        "validate_loop",
        "test_loop",
        "predict_loop",
    ]
    assert [k.split("{")[0] for k in checkpoint["callbacks"]] == ["ModelCheckpoint"]
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []

    # --8<-- [start:weights]
    trainer.save_checkpoint(out_dir / "weights.ckpt", weights_only=True)
    print(list(torch.load(out_dir / "weights.ckpt", weights_only=True)))
    # --8<-- [end:weights]
    weights = torch.load(
        out_dir / "weights.ckpt", map_location="cpu", weights_only=True
    )
    assert set(checkpoint) - set(weights) == {
        "optimizer_states",
        "lr_schedulers",
        "callbacks",
    }
    assert all(
        torch.equal(weights["state_dict"][k], v.cpu()) for k, v in lit_state.items()
    )

    # It still rebuilds the LightningModule, but cannot resume training.
    rebuilt = LitModel.load_from_checkpoint(
        out_dir / "weights.ckpt", map_location="cpu"
    )
    assert all(
        torch.equal(rebuilt.state_dict()[k], v.cpu()) for k, v in lit_state.items()
    )
    resume = L.Trainer(
        accelerator="cpu",
        max_steps=4,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=out_dir,
    )
    try:
        resume.fit(LitModel(), data_loader, ckpt_path=out_dir / "weights.ckpt")
    except KeyError as err:
        assert "checkpoint contains only the model" in str(err)
    else:
        raise AssertionError("resumed from a weights-only checkpoint")

    # With Adam, the optimizer state is twice the size of the weights (two averages).
    adam_numel = sum(
        t.numel() for s in adam_state.values() for k, t in s.items() if k != "step"
    )
    assert adam_numel == 2 * sum(t.numel() for t in lit_state.values())

    # --8<-- [start:run]
    inputs_path, outputs_path = out_dir / "inputs.pt", out_dir / "outputs.pt"
    inputs = torch.randn(3, 10)
    torch.save(inputs, inputs_path)
    loader = [sys.executable, "-c", LOADER, path, device, inputs_path, outputs_path]
    subprocess.run(loader, check=True)
    # --8<-- [end:run]
    outputs = torch.load(outputs_path, map_location=device, weights_only=True)
    lit_model.to(device).eval()
    with torch.no_grad():
        same = torch.equal(outputs, lit_model(inputs.to(device)))
    print("same outputs, loaded without Lightning:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
