"""Errors raised for bad input. Each names the field it is about, so a form can show it there."""


class InputError(ValueError):
    """A value the user gave (or a file they chose) cannot be used. `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnknownNameError(InputError):
    """A model, format or GPU name that is not in the catalog."""


class ModelFileError(InputError):
    """A model file (GGUF, safetensors, config.json) that cannot be read."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(field, message)
