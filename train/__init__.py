"""Fine-tuning on top of corpus' formats: training data, the trainer, its card."""
