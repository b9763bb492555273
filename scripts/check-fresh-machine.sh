#!/usr/bin/env bash
# Checks README's two commands on a "fresh machine" made from this one, without touching it:
# in a private mount namespace, an overlay of / (changes kept in tmpfs, gone at the end) from
# which the project's system packages, pytest and the rustfmt/clippy components are removed;
# then a fresh clone runs scripts/demo.sh and scripts/test.sh, which must install all of it
# again through scripts/setup.sh. Crates are fetched afresh (a new CARGO_HOME).
#
#   sudo scripts/check-fresh-machine.sh [REPO [BRANCH [ctest arguments...]]]
#
# Needs root (mount namespaces, chroot) and apt access; REPO defaults to this checkout's
# repository, BRANCH to its current branch. Output: the log of both commands; exit status 0
# when both succeed.
set -euo pipefail
repo=${1:-$(git -C "$(dirname "$0")/.." rev-parse --path-format=absolute --git-common-dir)}
branch=${2:-$(git -C "$(dirname "$0")/.." rev-parse --abbrev-ref HEAD)}
shift $(( $# < 2 ? $# : 2 ))
[[ $(id -u) == 0 ]] || { echo "check-fresh-machine: needs root" >&2; exit 2; }
if [[ -z ${HC_IN_NAMESPACE:-} ]]; then
  HC_IN_NAMESPACE=1 exec unshare -m --propagation private "$0" "$repo" "$branch" "$@"
fi

r=$(mktemp -d /tmp/hc-fresh.XXXXXX)
trap 'umount -lR "$r" 2>/dev/null; rmdir "$r"' EXIT
mount -t tmpfs -o size=20g tmpfs "$r"
mkdir "$r/upper" "$r/work" "$r/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$r/upper,workdir=$r/work,redirect_dir=on" "$r/root"
mount -t proc proc "$r/root/proc"
mount --rbind /dev "$r/root/dev"
mount --rbind /sys "$r/root/sys"
mount -t tmpfs tmpfs "$r/root/tmp"
mkdir -p "$r/root/mnt/repo" && mount --bind "$repo" "$r/root/mnt/repo"
mapfile -t packages < <("$(dirname "$0")/setup.sh" --list)
keep="gcc git python3 binutils ca-certificates openssl"  # what a fresh machine has
remove=()
for p in "${packages[@]}"; do [[ " $keep " == *" $p "* ]] || remove+=("$p"); done

chroot "$r/root" /usr/bin/env -i HOME=/root TERM=dumb PATH="$PATH" \
  RUSTUP_HOME="${RUSTUP_HOME:-/root/.rustup}" CARGO_HOME=/root/fresh-cargo \
  BRANCH="$branch" REMOVE="${remove[*]}" CTEST_ARGS="$*" \
  RUSTUP_BIN="$(dirname "$(command -v rustup)")" /bin/bash -c '
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get remove --purge -y -qq $REMOVE cmake-data nginx-common >/dev/null
apt-get autoremove --purge -y -qq >/dev/null
python3 -m pip uninstall -y -q pytest 2>/dev/null || true
rustup component remove clippy rustfmt || true
mkdir -p "$CARGO_HOME/bin"
for t in cargo rustc rustup; do ln -sf "$RUSTUP_BIN/$t" "$CARGO_HOME/bin/$t"; done
export PATH=$CARGO_HOME/bin:$PATH
for c in cmake pkg-config nginx tinyproxy valgrind; do ! command -v $c; done
git clone --no-local -q -b "$BRANCH" /mnt/repo /root/fresh
cd /root/fresh && git log --oneline -1
time scripts/demo.sh
time scripts/setup.sh --check
time scripts/test.sh $CTEST_ARGS
'
