"""PyTorch eager twin of train_step_bench.cpp: torchvision ResNet-18 with a
1-channel conv1, AdamW, batch 32 of 1x64x64 in memory. Prints samples/s."""
import os
import time

import torch
import torchvision


def main():
    batch, size = int(os.environ.get("BENCH_BATCH", 32)), int(os.environ.get("BENCH_SIZE", 64))
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", 2)))
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=2)
    model.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01, foreach=False)
    x, y = torch.randn(batch, 1, size, size), torch.randint(0, 2, (batch,))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    warm_end = time.perf_counter() + 1.0
    while time.perf_counter() < warm_end:
        step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 5.0:
        step()
        n += 1
    print(f"{n * batch / (time.perf_counter() - start):.2f}")


if __name__ == "__main__":
    main()
