#!/usr/bin/env bash
# tools/setup-python.sh — build the real Keras Python environments that the
# kbackend test-suite uses as an oracle.
#
# Usage: tools/setup-python.sh [--force] [--check] [ENV...]
#   ENV is one of: main (.venv), py37 (.venv-py37), py36 (.venv-py36),
#   keras2 (.venv-keras2), bare (.venv-bare), tools (.venv-tools: ruff, mypy,
#   build), gpu (.venv-gpu: CUDA builds of jax, torch and tensorflow for the
#   device forecast's tests; ~12 GB, ~15 min the first time); "all" or no
#   ENV = all seven. gpu is built once per machine, in
#   ${KBACKEND_LAB_CACHE:-~/.cache/kbackend-lab} under its spec hash, and the
#   checkout's .venv-gpu links there: a fresh clone reuses it.
#   The directory names (".venv-py37", ".venv") are accepted too.
#   --force  rebuild the named envs even if their stamp matches.
#   --check  only run the self-checks on the named envs (no build; fails if an
#            env is missing or its stamp is stale).
#
# Each env is created at the repo root from tools/requirements/<env>.txt (exact
# pins) with a pyenv interpreter. After a successful build + self-check the env
# gets .kbackend-setup-stamp holding a hash of its spec (python version, pip
# version, requirement files, recipe version). A rerun with a matching stamp is
# a no-op; a missing or different stamp (partial/failed/outdated env) means the
# env is deleted and rebuilt. System prerequisites (apt packages, the OpenMPI
# compat links for CNTK) are checked on every run; that check is cheap.
#
# Needs: Debian 12 as root (or sudo), pyenv interpreters under
# ${PYENV_ROOT:-$HOME/.pyenv}/versions (falls back to /root/.pyenv), network to
# PyPI + Debian. The torch pin is the CPU wheel in /opt/wheels.
set -Eeuo pipefail
trap 'printf "[setup-python] ERROR: command failed (status %s, line %s): %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REQ_DIR=$ROOT/tools/requirements
STAMP_NAME=.kbackend-setup-stamp
EDITABLE_STAMP_NAME=.kbackend-editable-stamp
# Bump when the build steps below change in a way that needs every env rebuilt.
RECIPE_VERSION=1
ALL_ENVS=(main py37 py36 keras2 bare tools gpu)

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
export DEBIAN_FRONTEND=noninteractive
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONUSERBASE VIRTUAL_ENV || true

T0=$(date +%s)
log() { printf '[setup-python %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf '[setup-python] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# per-env configuration

env_config() {   # sets ENV_DIR PY_VERSION PIP_VERSION
  case $1 in
    main)   ENV_DIR=.venv        PY_VERSION=3.11.7 PIP_VERSION=25.3 ;;
    py37)   ENV_DIR=.venv-py37   PY_VERSION=3.7.16 PIP_VERSION=24.0 ;;
    py36)   ENV_DIR=.venv-py36   PY_VERSION=3.6.15 PIP_VERSION=21.3.1 ;;
    keras2) ENV_DIR=.venv-keras2 PY_VERSION=3.11.7 PIP_VERSION=25.3 ;;
    bare)   ENV_DIR=.venv-bare   PY_VERSION=3.11.7 PIP_VERSION=25.3 ;;
    tools)  ENV_DIR=.venv-tools  PY_VERSION=3.11.7 PIP_VERSION=25.3 ;;
    gpu)    ENV_DIR=.venv-gpu    PY_VERSION=3.11.7 PIP_VERSION=25.3 ;;
    *) die "unknown env '$1' (expected one of: ${ALL_ENVS[*]} or all)" ;;
  esac
}

normalize_env() {   # ".venv-py37" / "venv-py37" / "py37" -> py37 ; ".venv" -> main
  local e=${1%/}
  e=${e#.}
  case $e in
    venv) echo main ;;
    venv-*) echo "${e#venv-}" ;;
    *) echo "$e" ;;
  esac
}

find_python() {   # find_python 3.11.7 -> path of that pyenv interpreter
  local v=$1 d
  for d in "${PYENV_ROOT:-}" "$HOME/.pyenv" /root/.pyenv; do
    [[ -n $d && -x $d/versions/$v/bin/python ]] && { echo "$d/versions/$v/bin/python"; return 0; }
  done
  die "Python $v not found (looked in \$PYENV_ROOT, ~/.pyenv, /root/.pyenv: versions/$v/bin/python)"
}

req_files() {   # requirement files of an env, in install order
  echo "$REQ_DIR/$1.txt"
  [[ -f $REQ_DIR/$1-nodeps.txt ]] && echo "$REQ_DIR/$1-nodeps.txt"
  return 0
}

spec_hash() {
  local env=$1 f
  env_config "$env"
  {
    echo "recipe=$RECIPE_VERSION env=$env dir=$ENV_DIR python=$PY_VERSION pip=$PIP_VERSION"
    while read -r f; do
      [[ -f $f ]] || die "missing requirement file $f"
      echo "== ${f##*/}"; cat "$f"
    done < <(req_files "$env")
  } | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------------------
# system prerequisites

SUDO=
[[ $(id -u) == 0 ]] || SUDO=sudo

# apt_installed PKG: whether dpkg has PKG installed.
apt_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# ensure_apt PKG... : install the Debian packages that are missing (no-op, and
# no apt-get update, when they are all installed already).
ensure_apt() {
  local p missing=()
  for p in "$@"; do
    apt_installed "$p" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "apt: installing ${missing[*]}"
  local aptlog
  aptlog=$(mktemp)
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
    cat "$aptlog" >&2; rm -f "$aptlog"
    die "apt-get failed for: ${missing[*]}"
  fi
  rm -f "$aptlog"
  for p in "${missing[@]}"; do
    apt_installed "$p" || die "apt package $p is still not installed"
  done
}

# CNTK 2.7 links libmpi.so.12 / libmpi_cxx.so.1 (OpenMPI 1.10) and ctypes-loads
# "libmpi.so.12" by name. Debian 12 has OpenMPI 4 (.so.40); compat links next to
# the real files, in the multiarch dir the loader searches by default, make
# CNTK load without LD_LIBRARY_PATH. (/usr/local/lib + ldconfig does not work:
# the ld.so cache is keyed by SONAME, which stays libmpi.so.40.)
ensure_mpi_compat() {
  ensure_apt libopenmpi3
  local real dir link target
  real=$(dpkg -L libopenmpi3 | grep -E '/libmpi\.so\.40$') || true
  real=${real%%$'\n'*}
  [[ -n $real && -e $real ]] || die "libopenmpi3 is installed but libmpi.so.40 was not found in it"
  dir=$(dirname "$real")
  for link in libmpi.so.12:libmpi.so.40 libmpi_cxx.so.1:libmpi_cxx.so.40; do
    target=${link#*:} link=${link%%:*}
    [[ -e $dir/$target ]] || die "$dir/$target missing (libopenmpi3 changed?)"
    if [[ $(readlink "$dir/$link" 2>/dev/null || true) != "$target" ]]; then
      log "linking $dir/$link -> $target"
      $SUDO ln -sfn "$target" "$dir/$link"
    fi
  done
}

system_prereqs() {   # cheap; run for every requested env, built or not
  case $1 in
    py36) ensure_mpi_compat ;;
    py37) ensure_apt g++ ;;   # Theano compiles its C code at import time
  esac
}

# ---------------------------------------------------------------------------
# building

# pip output, minus the per-package notes about the machine's local index dirs
# that lack a package ("Location 'file:///...' is ignored"). Keeps pip's status.
quiet_pip() {
  "$@" 2>&1 | { grep -v -e "is ignored: it is neither a file nor a directory" || true; }
}

pip_opts() {
  PIP_OPTS=(-q)
  [[ -d /opt/wheels ]] && PIP_OPTS+=(--find-links /opt/wheels)
  return 0
}

# The GPU-build environment is 12 GB and takes ~15 minutes to download and
# install: it is built once per machine in a cache outside the checkout,
# named by its spec hash, and the checkout's .venv-gpu links to it. Any
# checkout (CI's fresh clone too) whose spec has the same hash reuses it;
# another spec builds another one beside it.
SHARED_ENVS=" gpu "
LAB_CACHE=${KBACKEND_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kbackend-lab}
is_shared() { [[ $SHARED_ENVS == *" $1 "* ]]; }

# env_dir ENV HASH: where ENV's files live (for a shared env, in the cache)
env_dir() {
  env_config "$1"
  if is_shared "$1"; then echo "$LAB_CACHE/${ENV_DIR#.}-${2:0:16}"; else echo "$ROOT/$ENV_DIR"; fi
}

# link_shared ENV HASH: point the checkout's ENV_DIR at the cached build
link_shared() {
  local target
  target=$(env_dir "$1" "$2")
  [[ -L $ROOT/$ENV_DIR && $(readlink "$ROOT/$ENV_DIR") == "$target" ]] && return 0
  rm -rf "$ROOT/$ENV_DIR"
  ln -s "$target" "$ROOT/$ENV_DIR"
}

build_env() {
  local env=$1 hash=$2 py f
  env_config "$env"
  local dir
  dir=$(env_dir "$env" "$hash")
  mkdir -p "$(dirname "$dir")"
  py=$(find_python "$PY_VERSION")
  log "$ENV_DIR: building with Python $PY_VERSION (rm -rf, venv, pip $PIP_VERSION, pinned requirements)"
  rm -rf "$dir"
  "$py" -m venv "$dir"
  local vpy=$dir/bin/python
  pip_opts
  # (the venv's bundled pip can be old: 18.1 for 3.6 crashes on PIP_NO_CACHE_DIR=1)
  quiet_pip env -u PIP_NO_CACHE_DIR "$vpy" -m pip install "${PIP_OPTS[@]}" "pip==$PIP_VERSION"
  quiet_pip "$vpy" -m pip install "${PIP_OPTS[@]}" -r "$REQ_DIR/$env.txt"
  if [[ -f $REQ_DIR/$env-nodeps.txt ]]; then
    quiet_pip "$vpy" -m pip install "${PIP_OPTS[@]}" --no-deps -r "$REQ_DIR/$env-nodeps.txt"
  fi
  pip_check "$env" "$vpy"
  if is_shared "$env"; then link_shared "$env" "$hash"; fi  # the self-check runs through the link
  self_check "$env"
  {
    echo "$hash"
    echo "# written by tools/setup-python.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); delete to force a rebuild"
  } > "$dir/$STAMP_NAME.tmp"
  mv "$dir/$STAMP_NAME.tmp" "$dir/$STAMP_NAME"
  log "$ENV_DIR: done"
}

pip_check() {
  local env=$1 vpy=$2 out bad
  out=$("$vpy" -m pip check 2>&1) && return 0
  # .venv: tf_keras is installed --no-deps (see requirements/main.txt); its
  # "requires tensorflow" complaint is expected, tensorflow-cpu provides it.
  bad=$(printf '%s\n' "$out" | grep -v -i -E '^tf-keras [0-9.]+ requires tensorflow, which is not installed\.$' || true)
  if [[ $env == main && -z $bad ]]; then return 0; fi
  printf '%s\n' "$out" >&2
  die "$env: pip check failed"
}

# editable install of the kbackend package into .venv, with its own stamp so a
# pyproject.toml that appears or changes later is picked up without a rebuild.
editable_install() {
  local dir=$ROOT/.venv pyproj=$ROOT/python/pyproject.toml h f
  if [[ ! -f $pyproj ]]; then
    log "note: python/pyproject.toml does not exist yet; skipping 'pip install -e python/'"
    rm -f "$dir/$EDITABLE_STAMP_NAME"
    return 0
  fi
  h=$(for f in pyproject.toml setup.cfg setup.py; do
        if [[ -f $ROOT/python/$f ]]; then echo "== $f"; cat "$ROOT/python/$f"; fi
      done | sha256sum | cut -d' ' -f1)
  [[ -f $dir/$EDITABLE_STAMP_NAME && $(cat "$dir/$EDITABLE_STAMP_NAME") == "$h" ]] && return 0
  log ".venv: pip install -e python/"
  rm -f "$dir/$EDITABLE_STAMP_NAME"
  pip_opts
  quiet_pip "$dir/bin/python" -m pip install "${PIP_OPTS[@]}" -e "$ROOT/python"
  echo "$h" > "$dir/$EDITABLE_STAMP_NAME"
}

# ---------------------------------------------------------------------------
# self-checks: import keras in the env and compare the reported backend.
# They run with a throwaway HOME (so the real ~/.keras is never touched), a
# throwaway Theano compile dir, in a throwaway cwd, with the Keras variables
# of the caller removed.

CHECK_TMP=
cleanup() { [[ -n $CHECK_TMP ]] && rm -rf "$CHECK_TMP"; return 0; }
trap cleanup EXIT

# run_py ENV_DIR VAR=VALUE... -- CODE : runs CODE in a clean environment;
# its stdout goes to stdout, stderr to $CHECK_TMP/stderr.
run_py() {
  local dir=$1; shift
  local vars=()
  while [[ $1 != -- ]]; do vars+=("$1"); shift; done
  shift
  local home
  home=$(mktemp -d "$CHECK_TMP/home.XXXXXX")
  (cd "$home" && env -u KERAS_HOME -u KERAS_BACKEND -u TF_USE_LEGACY_KERAS \
      -u KERAS_NNX_ENABLED -u LD_LIBRARY_PATH -u LD_PRELOAD -u THEANO_FLAGS \
      HOME="$home" THEANO_FLAGS="base_compiledir=$home/theano" \
      "${vars[@]}" "$ROOT/$dir/bin/python" -c "$1") 2>"$CHECK_TMP/stderr"
}

# expect_backend ENV_DIR EXPECTED [VAR=VALUE...]
expect_backend() {
  local dir=$1 want=$2; shift 2
  local got t0 t1
  t0=$(date +%s%N)
  if ! got=$(run_py "$dir" "$@" -- 'import keras; print(keras.__version__, keras.backend.backend())'); then
    cat "$CHECK_TMP/stderr" >&2
    die "$dir: 'import keras' failed (${*:-no variables})"
  fi
  t1=$(date +%s%N)
  got=$(printf '%s\n' "$got" | tail -n1)
  [[ ${got##* } == "$want" ]] || { cat "$CHECK_TMP/stderr" >&2; die "$dir: expected backend $want, got '$got' (${*:-no variables})"; }
  log "  ok  $dir ${*:-(no variables)}: keras ${got% *} -> ${got##* } (import $(( (t1 - t0) / 1000000 )) ms)"
}

# expect_py ENV_DIR WHAT CODE [VAR=VALUE...] : CODE must exit 0
expect_py() {
  local dir=$1 what=$2 code=$3; shift 3
  local out
  if ! out=$(run_py "$dir" "$@" -- "$code"); then
    printf '%s\n' "$out"; cat "$CHECK_TMP/stderr" >&2
    die "$dir: self-check failed: $what"
  fi
  log "  ok  $dir: $what${out:+ ($out)}"
}

self_check() {
  local env=$1
  env_config "$env"
  [[ -n $CHECK_TMP ]] || CHECK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kbackend-setup.XXXXXX")
  log "$ENV_DIR: self-check"
  case $env in
    main)
      expect_py "$ENV_DIR" "versions consistent" '
from importlib.metadata import version, PackageNotFoundError
v = {d: version(d) for d in ("keras", "tensorflow-cpu", "tf_keras", "jax", "jaxlib", "torch")}
assert v["keras"].split(".")[0] == "3", v
assert v["tensorflow-cpu"].split(".")[:2] == v["tf_keras"].split(".")[:2], v
assert v["jax"] == v["jaxlib"], v
assert v["torch"].endswith("+cpu"), v
try:
    version("tensorflow"); raise SystemExit("the full tensorflow wheel got installed next to tensorflow-cpu")
except PackageNotFoundError:
    pass
print(" ".join("%s=%s" % kv for kv in v.items()))'
      expect_backend "$ENV_DIR" tensorflow
      expect_backend "$ENV_DIR" jax KERAS_BACKEND=jax
      expect_backend "$ENV_DIR" torch KERAS_BACKEND=torch
      expect_py "$ENV_DIR" "tf.keras is tf_keras with TF_USE_LEGACY_KERAS=1" '
import tensorflow as tf, tf_keras
assert tf.keras.__name__.startswith("tf_keras"), tf.keras.__name__
print(tf.keras.__name__, tf.keras.backend.backend())' TF_USE_LEGACY_KERAS=1
      ;;
    py37)
      expect_backend "$ENV_DIR" theano KERAS_BACKEND=theano
      expect_backend "$ENV_DIR" tensorflow KERAS_BACKEND=tensorflow
      ;;
    py36)
      expect_backend "$ENV_DIR" cntk KERAS_BACKEND=cntk
      ;;
    keras2)
      expect_backend "$ENV_DIR" tensorflow
      expect_backend "$ENV_DIR" tensorflow KERAS_BACKEND=jax   # Keras 2.15 ignores it
      ;;
    bare)
      expect_py "$ENV_DIR" "no backend library installed; 'import keras' fails on tensorflow" '
import importlib.util, sys
from importlib.metadata import version
present = [m for m in ("tensorflow", "jax", "jaxlib", "torch", "openvino") if importlib.util.find_spec(m)]
assert not present, present
try:
    import keras
except ModuleNotFoundError as e:
    assert e.name == "tensorflow", e
else:
    raise SystemExit("import keras unexpectedly worked")
print("keras", version("keras"))'
      ;;
    gpu)
      expect_py "$ENV_DIR" "CUDA builds installed" '
from importlib.metadata import version
v = {d: version(d) for d in ("keras", "jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda12-pjrt", "torch", "tensorflow")}
assert v["jax"] == v["jaxlib"] == v["jax-cuda12-plugin"] == v["jax-cuda12-pjrt"], v
assert "+" not in v["torch"], v
print(" ".join("%s=%s" % kv for kv in v.items()))'
      expect_backend "$ENV_DIR" jax KERAS_BACKEND=jax
      expect_backend "$ENV_DIR" torch KERAS_BACKEND=torch
      ;;
    tools)
      expect_py "$ENV_DIR" "ruff, mypy and build run" '
import subprocess, sys
for tool in (["-m", "ruff", "--version"], ["-m", "mypy", "--version"], ["-m", "build", "--version"]):
    subprocess.run([sys.executable] + tool, check=True, stdout=subprocess.DEVNULL)
import setuptools, wheel
print("setuptools", setuptools.__version__)'
      ;;
  esac
}

# ---------------------------------------------------------------------------
# main

FORCE=0 CHECK_ONLY=0 ENVS=()
for a in "$@"; do
  case $a in
    --force) FORCE=1 ;;
    --check) CHECK_ONLY=1 ;;
    -h|--help) sed -n '2,/^set -Eeuo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $a" ;;
    all) ENVS+=("${ALL_ENVS[@]}") ;;
    *) e=$(normalize_env "$a"); env_config "$e"; ENVS+=("$e") ;;
  esac
done
((${#ENVS[@]})) || ENVS=("${ALL_ENVS[@]}")

# One run at a time per checkout (e.g. parallel test jobs calling this).
LOCK=${TMPDIR:-/tmp}/kbackend-setup-python-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12).lock
exec 9>"$LOCK"
flock 9

for env in "${ENVS[@]}"; do
  env_config "$env"
  hash=$(spec_hash "$env")
  dir=$(env_dir "$env" "$hash")
  current=
  [[ -f $dir/$STAMP_NAME ]] && current=$(head -n1 "$dir/$STAMP_NAME")
  fresh=0
  if [[ $current == "$hash" ]] && "$dir/bin/python" -c '' 2>/dev/null; then fresh=1; fi
  if ((fresh)) && is_shared "$env"; then link_shared "$env" "$hash"; fi
  system_prereqs "$env"
  if ((CHECK_ONLY)); then
    ((fresh)) || die "$ENV_DIR is missing or out of date; run tools/setup-python.sh $env"
    self_check "$env"
  elif ((fresh && !FORCE)); then
    log "$ENV_DIR: up to date"
  else
    build_env "$env" "$hash"
  fi
  if [[ $env == main ]] && ((!CHECK_ONLY)); then editable_install; fi
done
log "all done: ${ENVS[*]}"
