"""Legacy TerraFusion API gateway (Flask 2.2), re-created from legacy-contract.md section 2.

Start it with `python3 -m terrafusion_gateway` (cwd and PYTHONPATH = legacy/); it listens on
HOST/PORT. `terrafusion_gateway.app.create_app()` builds the Flask app from the environment.
"""
