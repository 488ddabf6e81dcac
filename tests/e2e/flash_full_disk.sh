#!/usr/bin/env bash
# A sparse flash image on a full filesystem: `flash info` and `flash erase-partition` must end
# with a clean error (no SIGBUS from the mapped file) and leave every byte of the image as it
# was. The filesystem is a small tmpfs mounted in a private mount namespace (skipped where
# namespaces or mounts are not allowed).
. "$(dirname "$0")/lib.bash"

if [ "${1:-}" != --inside ]; then
    mkdir "$WORK/mnt"
    ns=(unshare --mount --propagation private)
    [ "$(id -u)" -eq 0 ] || ns=(unshare --user --map-root-user --mount --propagation private)
    if ! "${ns[@]}" mount -t tmpfs -o size=5m tmpfs "$WORK/mnt" 2>/dev/null; then
        echo "skipped: cannot mount a tmpfs in a private mount namespace"
        exit 77
    fi
    OTAKIT_INSIDE_WORK=$WORK "${ns[@]}" bash "$0" --inside
    exit $?
fi

# Inside the namespace: WORK is this process's own; the images are built in the parent's.
MNT=$OTAKIT_INSIDE_WORK/mnt
mount -t tmpfs -o size=5m tmpfs "$MNT" || fail "mount tmpfs"

pack_bootloader "$WORK/bl.bin"
head -c 3000 /dev/urandom >"$WORK/payload"
"$OTAKIT" image pack -o "$WORK/app.bin" --app --chip esp32 --payload "$WORK/payload" \
    --build-time 0 >/dev/null || fail "pack app"
"$OTAKIT" flash create "$WORK/full.bin" --size 4MB --table two_ota --bootloader "$WORK/bl.bin" \
    --app "factory=$WORK/app.bin" >/dev/null || fail "flash create"

# A sparse 4 MB image holding only the bootloader and the table (as `truncate` and `dd` make
# one); everything else is a hole that needs blocks when written, or read through a tmpfs map.
F=$MNT/flash.bin
truncate -s 4M "$F"
dd if="$WORK/full.bin" of="$F" bs=4096 skip=1 seek=1 count=8 conv=notrunc status=none
# Fill the filesystem.
dd if=/dev/zero of="$MNT/fill" bs=4096 status=none 2>/dev/null
[ "$(df --output=avail "$MNT" | tail -n 1 | tr -d ' ')" -eq 0 ] || fail "the tmpfs is not full"
before=$(sha "$F")

# flash info: reads only; it must not die on a hole it cannot get a page for.
"$OTAKIT" flash info "$F" >"$WORK/info.out" 2>"$WORK/info.err"
rc=$?
[ "$rc" -lt 128 ] || fail "flash info died with signal $((rc - 128)): $(cat "$WORK/info.err")"
expect_file_lacks "$WORK/info.err" 'Sanitizer|SIGBUS'
expect_file_has "$WORK/info.out" 'otadata'
[ "$(sha "$F")" = "$before" ] || fail "flash info changed the image"

# erase-partition: refused before any byte changes, with the reason.
"$OTAKIT" flash erase-partition "$F" --name otadata >"$WORK/erase.out" 2>"$WORK/erase.err"
rc=$?
[ "$rc" -eq 1 ] || fail "erase-partition: exit $rc, expected 1: $(cat "$WORK/erase.err")"
expect_file_lacks "$WORK/erase.err" 'Sanitizer|SIGBUS'
expect_file_has "$WORK/erase.err" 'No space left on device'
[ "$(sha "$F")" = "$before" ] || fail "erase-partition changed the image"

# With room again, the same erase works.
rm "$MNT/fill"
"$OTAKIT" flash erase-partition "$F" --name otadata >/dev/null 2>"$WORK/erase.err" ||
    fail "erase-partition with room: $(cat "$WORK/erase.err")"
[ "$(sha "$F")" != "$before" ] || fail "erase-partition with room changed nothing"
ok
echo "$CHECKS checks passed"
