"""Open-vocabulary object detection (OWL-ViT, OWLv2, Grounding DINO) through transformers."""
