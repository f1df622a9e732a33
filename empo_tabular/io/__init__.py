"""Results that last: save_result / load_result for every result type, and the reference-export interop."""
from .reference import compare_with_reference, load_reference_export
from .results import load_result, save_result

__all__ = ["compare_with_reference", "load_reference_export", "load_result", "save_result"]
