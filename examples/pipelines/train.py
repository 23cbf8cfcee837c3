"""Fit y = 3x + 1 with PyTorch and save the weights where Vertex says the model goes.

AIP_MODEL_DIR is a gs:// URI (the pipeline's baseOutputDirectory + /model/); on customjobs
STORAGE_EMULATOR_HOST points google-cloud-storage at the server's buckets, on Vertex at GCS.
"""

import argparse
import io
import os

import torch
from google.cloud import storage

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=300)
epochs = parser.parse_args().epochs
torch.manual_seed(0)
x = torch.linspace(-1, 1, 64).unsqueeze(1)
y = 3 * x + 1
model = torch.nn.Linear(1, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(epochs):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
model_dir = os.environ["AIP_MODEL_DIR"]
bucket, _, prefix = model_dir.removeprefix("gs://").partition("/")
storage.Client().bucket(bucket).blob(prefix + "model.pt").upload_from_string(buffer.getvalue())
print(f"saved {model_dir}model.pt after {epochs} epochs, loss {loss.item():.6f}")
