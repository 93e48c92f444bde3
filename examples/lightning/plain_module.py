"""Load the weights of a PyTorch Lightning checkpoint (.ckpt) into a plain nn.Module.

The script first trains a tiny LightningModule for three steps, so that Lightning
writes a real .ckpt. The loading part needs only torch: no Lightning, no
LightningModule.
"""

import argparse
import logging
import tempfile
from pathlib import Path

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no info lines


class MyModel(nn.Module):  # the plain model
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


class LitModel(L.LightningModule):  # Lightning trains it
    def __init__(self, lr=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.model = MyModel()  # the attribute name is the prefix in the file: "model."

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        return nn.functional.mse_loss(self(inputs), targets)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


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
    lit_model = LitModel()
    trainer.fit(lit_model, DataLoader(data, batch_size=4))
    path = trainer.checkpoint_callback.best_model_path
    print("Lightning wrote", Path(path).name)

    # --8<-- [start:load]
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    state_dict = {
        key.removeprefix("model."): value
        for key, value in checkpoint["state_dict"].items()
    }
    model = MyModel().to(device)
    model.load_state_dict(state_dict)
    model.eval()
    # --8<-- [end:load]
    print("in the file:", list(checkpoint["state_dict"]))
    print("loaded:", list(state_dict))
    assert list(state_dict) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]

    lit_model.to(device).eval()
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        same = torch.equal(model(inputs), lit_model(inputs))
    print("same outputs as the LightningModule:", same)
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
