"""Readers of model descriptions users bring: Hugging Face config.json, safetensors and GGUF headers."""
