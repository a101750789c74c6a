"""Training precision, one rule for both trainers: what `auto` means on this device, and what a device refuses."""

from __future__ import annotations

from corpus.errors import RagtuneError

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
PRECISION_HELP = (
    "auto: bf16 on CUDA (fp16 without bf16) and on CPUs that multiply bf16 natively (AVX512-BF16, AMX), else fp32; "
    "fp16 needs CUDA"
)


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slower."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def resolve_precision(precision: str, device: str) -> str:
    """auto: bf16 on CUDA (fp16 where bf16 is missing) and on CPUs with native bf16, fp32 elsewhere. On 2 CPU cores
    bf16 makes a step 1.5x faster (benchmarks/bench_training_forward.py); weights and optimizer stay fp32."""
    import torch

    if precision not in PRECISIONS:
        raise RagtuneError(f"unknown precision '{precision}' (choose one of: {', '.join(PRECISIONS)})")
    on_cuda = device.startswith("cuda")
    if precision == "auto":
        if on_cuda:
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16" if cpu_has_bf16() else "fp32"
    if precision == "fp16" and not on_cuda:
        raise RagtuneError(f"--precision fp16 needs a CUDA device; on {device} use fp32 or bf16")
    return precision
