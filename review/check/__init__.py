"""The pre-submit check: per patch, compose the extracted rules with a preset, explore, fuzz, NFC claims."""
