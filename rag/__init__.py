"""Floor 3: retrieval-augmented answers from each retriever arm, with a local or any OpenAI-compatible LLM."""
