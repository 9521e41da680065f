#!/usr/bin/env bash
# make release: briefd for every target, one archive per target (the binary, README.md,
# config.example.yaml, LICENSE, and for Linux the systemd unit), and SHA256SUMS.
# Static (CGO_ENABLED=0), -trimpath, with the module version and commit Go stamps from the VCS (what
# `briefd version` prints). Archives carry the commit's time and no owner, so the same commit and Go give
# the same archives. TARGETS, OUT and GO may be set from outside.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
TARGETS=${TARGETS:-linux/amd64 linux/arm64 linux/loong64 windows/amd64 darwin/arm64}
OUT=${OUT:-dist}

version=$(git describe --tags --always --dirty)
epoch=$(git log -1 --format=%ct)
docs=(README.md config.example.yaml LICENSE)

rm -rf "$OUT"
mkdir -p "$OUT"
for t in $TARGETS; do
  os=${t%/*} arch=${t#*/}
  name=briefd-$version-$os-$arch
  dir=$OUT/$name
  exe=briefd
  [ "$os" = windows ] && exe=briefd.exe
  mkdir -p "$dir"
  echo "release: $name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -buildvcs=true -trimpath -o "$dir/$exe" ./cmd/briefd
  # Go stamps the commit only where .git is a folder: not in a git worktree, not from a tarball.
  if ! "$GO" version -m "$dir/$exe" | grep -q 'vcs.revision='; then
    echo "release: $dir/$exe carries no commit (build releases from a clone whose .git is a folder)" >&2
    exit 1
  fi
  cp "${docs[@]}" "$dir/"
  if [ "$os" = linux ]; then
    cp deploy/briefd.service "$dir/"
  fi
  if [ "$os" = windows ]; then # CRLF, for the Notepad of Windows Server 2016 and older Windows 10
    for f in "${docs[@]}"; do sed -i 's/\r$//; s/$/\r/' "$dir/$(basename "$f")"; done
  fi
  find "$dir" -exec touch -h -d "@$epoch" {} +
  if [ "$os" = windows ]; then
    (cd "$OUT" && find "$name" | LC_ALL=C sort | TZ=UTC zip -q -X -@ "$name.zip")
  else
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$OUT" -cf - "$name" | gzip -n -9 >"$OUT/$name.tar.gz"
  fi
  rm -rf "$dir"
done
(cd "$OUT" && sha256sum -- *.tar.gz *.zip >SHA256SUMS)
ls -l "$OUT"
