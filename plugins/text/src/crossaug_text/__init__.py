"""crossaug text plugin: EDA, token replacement, WordNet culture graph and code-switching,
LLM caption rewriting and back-translation.

Importing the package is cheap (no torch, no WordNet load); each step lives in the
module named for its method (``crossaug_text.eda``, ``crossaug_text.code_switch``, ...).
"""

__version__ = "0.1.0"
