# Shared by the scripts: paths and small helpers. Source, don't run.
MEDTRAIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MEDTRAIN_VENV="${MEDTRAIN_VENV:-$MEDTRAIN_ROOT/.venv}"
MEDTRAIN_BUILD="${MEDTRAIN_BUILD:-$MEDTRAIN_ROOT/build}"
MEDTRAIN_PY="$MEDTRAIN_VENV/bin/python"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
