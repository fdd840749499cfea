"""What an engine's rules decide for one scenario: each GPU's share, the host's share, the engine's
own figures and the log lines it will print.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Share:
    """Bytes one GPU, or the host (system RAM), holds. `compute` is the engine's compute buffer
    (llama.cpp, Ollama) or activation peak (vLLM); `output` the logits buffer kept on the host."""

    weights: int = 0
    kv_cache: int = 0
    state: int = 0
    compute: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.state + self.compute + self.output


@dataclass(frozen=True)
class EnginePlan:
    gpus: tuple  # Share per GPU
    host: Share
    caches: tuple = ()  # (label, cells, layers, bytes) per cache, as the engine prints them
    fields: dict = field(default_factory=dict, compare=False)  # the engine's own figures (JSON "engine")
    log: tuple = ()  # the log lines the engine will print
    notes: tuple = ()  # approximations and engine behaviour worth a warning
    capacity_fraction: float = 1.0  # share of a GPU's usable memory the engine allows itself
    overhead_bytes: object = None  # per-GPU overhead the engine's own rules fix (None: the profile's)
    fits: object = None  # the engine's own verdict where its pools decide beyond the GPU's headroom (None: headroom)
