"""TerraFusion narrator AI (legacy-contract.md section 3): assessment prose from a local Ollama."""
