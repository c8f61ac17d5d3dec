#!/usr/bin/env bash
# libseqattr as a user gets it: installs the build into a temporary prefix, builds
# examples/ against the installed CMake package alone (find_package(seqattr)), and checks
# that the installed example prints what the in-tree one prints, and that the installed
# command line runs.
#   tests/install/check_install.sh BUILD_DIR SOURCE_DIR TEST_DATA_DIR
set -euo pipefail
build=$1 source=$2 data=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
# Only the public headers are installed.
headers=$(cd "$tmp/prefix/include" && find . -type f | sort | tr '\n' ' ')
[[ "$headers" == "./seqattr/error.h ./seqattr/seqattr.h " ]] || {
  echo "installed headers: $headers"; exit 1; }
# LibTorch and the linker flags as the build found them (on the GPU machine LibTorch lives
# in Python's site-packages and the other libraries in a private prefix).
cached() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
cmake -S "$source/examples" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DTorch_DIR="$(cached Torch_DIR)" \
  -DCMAKE_EXE_LINKER_FLAGS="$(cached CMAKE_EXE_LINKER_FLAGS)" >/dev/null
cmake --build "$tmp/build" >/dev/null
args=("$data/mini_basset.pt" "$data/mini_basset.fa" deeplift_shap)
installed=$("$tmp/build/explain_fasta" "${args[@]}")
in_tree=$("$build/examples/explain_fasta" "${args[@]}")
if [[ "$installed" != "$in_tree" || -z "$installed" ]]; then
  echo "installed example printed:"; echo "$installed"
  echo "in-tree example printed:"; echo "$in_tree"
  exit 1
fi
"$tmp/prefix/bin/seqattr" --version
echo "install: the installed package builds examples/; its output equals the in-tree build's"
