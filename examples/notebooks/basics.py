# %% [markdown]
# # The basics in one notebook
#
# The whole round trip, start to finish: train a small model on data that exists,
# save its `state_dict`, load it into a new instance, and check that the loaded
# model predicts exactly what the trained one did. Each step has its own page on
# this site; this notebook runs them one after the other.
#
# Download [basics.ipynb](basics.ipynb) for Jupyter (with the outputs below), or
# [basics.py](basics.py): VS Code and PyCharm run its `# %%` cells as a notebook,
# and `python basics.py` runs it whole.

# %%
import tempfile
from pathlib import Path

import torch
from torch import nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
out_dir = Path(tempfile.mkdtemp())  # where this notebook writes its files


# %% [markdown]
# ## The model
#
# Two fully connected layers (`nn.Linear`), 10 inputs → 5 → 1 output.


# %%
class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


# %% [markdown]
# ## Train it a little
#
# Many tutorials use `X_train` and `y_train` without defining them. Here they are:
# 64 random inputs and a target that depends on them.

# %%
X_train = torch.randn(64, 10, device=device)
y_train = X_train.sum(dim=1, keepdim=True)

model = MyModel().to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for _ in range(20):  # 20 steps of full-batch gradient descent
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(X_train), y_train)
    loss.backward()
    optimizer.step()
print(f"loss after training: {loss.item():.4f}")

# %% [markdown]
# ## Save the state_dict
#
# A dictionary from each parameter's name to its tensor: weights only, no code.

# %%
path = out_dir / "mymodel.pt"
torch.save(model.state_dict(), path)
for name, tensor in model.state_dict().items():
    print(name, tuple(tensor.shape))

# %% [markdown]
# ## Load it into a new instance
#
# Create the model from its class (its weights start random), then load the saved
# weights into it. `weights_only=True` loads tensors and plain data only, never code.

# %%
loaded_model = MyModel().to(device)
result = loaded_model.load_state_dict(torch.load(path, weights_only=True))
loaded_model.eval()
print(result)

# %% [markdown]
# ## Same predictions

# %%
X_new = torch.randn(3, 10, device=device)
with torch.no_grad():
    same = torch.equal(loaded_model(X_new), model(X_new))
print("same predictions:", same)
assert same

# %% [markdown]
# ## On a machine without a GPU
#
# A file saved from a GPU holds tensors tagged `cuda`. `map_location` puts them on
# the CPU (or any device) as they load.

# %%
cpu_state_dict = torch.load(path, map_location="cpu", weights_only=True)
cpu_model = MyModel()
cpu_model.load_state_dict(cpu_state_dict)
cpu_model.eval()
with torch.no_grad():
    close = torch.allclose(cpu_model(X_new.cpu()), model(X_new).cpu(), atol=1e-6)
print("same predictions on the CPU:", close)
assert close
