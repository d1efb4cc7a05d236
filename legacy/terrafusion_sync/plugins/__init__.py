"""Job plugins of the sync service; each module exposes `router` (an APIRouter with its own prefix)."""
