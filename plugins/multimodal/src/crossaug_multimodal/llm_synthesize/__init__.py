"""LLM-teacher synthesis (LLaVA, GPT4Tools, T-SciQ): recipe ``llm-synthesize``, its templates and checks."""

from .checks import MalformedOutput, check_output, extract_json, to_turns
from .recipe import DEFAULT_TEMPLATES, LLMSynthesize
from .symbolic import format_boxes, format_captions
from .templates import BUILTIN, SynthesisTemplate, load_all, load_templates

__all__ = ["LLMSynthesize", "DEFAULT_TEMPLATES", "SynthesisTemplate", "load_templates", "load_all", "BUILTIN",
           "MalformedOutput", "check_output", "extract_json", "to_turns", "format_boxes", "format_captions"]
