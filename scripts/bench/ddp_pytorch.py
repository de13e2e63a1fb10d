"""PyTorch DDP twin of a medtrain data-parallel run, for dist_scaling.sh:
torchvision ResNet-18 with a 1-channel conv1, AdamW, BENCH_BATCH images of
1 x BENCH_SIZE^2 per rank held in memory, gloo backend, one thread per rank.
Launched by torchrun; rank 0 prints the median step time in seconds."""
import os
import statistics
import time

import torch
import torch.distributed as dist
import torchvision


def main():
    batch, size = int(os.environ.get("BENCH_BATCH", 16)), int(os.environ.get("BENCH_SIZE", 64))
    steps = int(os.environ.get("BENCH_STEPS", 30))
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", 1)))
    dist.init_process_group("gloo")
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=2)
    model.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(ddp.parameters(), lr=1e-3, weight_decay=0.01)
    x, y = torch.randn(batch, 1, size, size), torch.randint(0, 2, (batch,))
    times = []
    for i in range(steps + 3):
        start = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ddp(x), y).backward()
        opt.step()
        if i >= 3:  # warm-up steps left out
            times.append(time.perf_counter() - start)
    if dist.get_rank() == 0:
        print(f"{statistics.median(times):.5f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
