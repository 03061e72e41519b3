"""Local models: frame captioners (OCR, VLM), the episode describer, backends and the model manager."""
