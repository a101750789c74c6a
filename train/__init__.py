"""Fine-tuning on top of corpus' formats: training data, the trainer, its card."""
import corpus  # noqa: F401  (switches off every call home before models load)
