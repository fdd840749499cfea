"""Load one GGUF file in the real llama.cpp (llama-cpp-python's ctypes bindings) and create a context
for each of several settings, CPU only (n_gpu_layers = 0), printing llama.cpp's own log to stderr.

Run in a subprocess by tests/llama_cpp_logs.py, because the C library writes to file descriptor 2:

    python tests/llama_cpp_run.py MODEL.gguf '[{"n_ctx": 4096, "n_ubatch": 512, "flash_attn": "off"}, ...]'

Each context's log lines follow a marker line `=== case K ===` on stderr, the model's load lines
come before the first marker. Settings: n_ctx (total cells, as llama.cpp's --ctx-size), n_batch,
n_ubatch, flash_attn (on/off/auto), n_seq_max, kv_unified, swa_full, type_k/type_v (ggml type names).
"""
import json
import sys


def main(path: str, cases: list) -> None:
    import llama_cpp
    from llama_cpp import _logger

    _logger.set_verbose(True)
    llama_cpp.llama_backend_init()
    mparams = llama_cpp.llama_model_default_params()
    mparams.n_gpu_layers = 0
    # no repacked copies of the weights in CPU "extra" buffers (AMX, AArch64 repack): those depend on the
    # test machine's CPU; without them the CPU keeps the mapped file, as it does beside a GPU
    mparams.use_extra_bufts = False
    model = llama_cpp.llama_model_load_from_file(path.encode(), mparams)
    if not model:
        raise SystemExit(f"llama.cpp could not load {path}")
    fa = {"on": llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED, "off": llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED,
          "auto": llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO}
    for k, case in enumerate(cases):
        sys.stderr.write(f"=== case {k} ===\n")
        sys.stderr.flush()
        p = llama_cpp.llama_context_default_params()
        p.n_ctx = case["n_ctx"]
        p.n_batch = case.get("n_batch", 2048)
        p.n_ubatch = case.get("n_ubatch", 512)
        p.n_seq_max = case.get("n_seq_max", 1)
        p.kv_unified = case.get("kv_unified", True)
        p.swa_full = case.get("swa_full", False)
        p.flash_attn_type = fa[case.get("flash_attn", "auto")]
        p.n_threads = p.n_threads_batch = 1
        for key in ("type_k", "type_v"):
            if key in case:
                setattr(p, key, getattr(llama_cpp, f"GGML_TYPE_{case[key].upper()}"))
        ctx = llama_cpp.llama_init_from_model(model, p)
        if not ctx:
            sys.stderr.write("=== context failed ===\n")
            continue
        llama_cpp.llama_free(ctx)
        sys.stderr.flush()
    llama_cpp.llama_model_free(model)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
