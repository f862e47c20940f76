"""Extraction with its language model in place: importing this module loads the model
(``language.load_model``). The archive import pool's forkserver preloads it, so every worker
it forks starts with the model loaded once, in pages the workers share; the importer's
parent, which imports extraction but never extracts, does not load it."""

from .language import load_model

load_model()
