"""Legacy TerraFusion sync service (FastAPI), re-created per /work/shared/legacy-contract.md section 1."""
