"""Visual question answering / instruction-following captioning (BLIP-2, InstructBLIP)."""
