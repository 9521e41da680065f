#!/bin/sh
# Makes the zip fixtures in this folder with real tools: Info-ZIP zip 3.0 (as on Linux; it writes UTF-8
# names without the UTF-8 flag, as macOS Archive Utility does) and Python's zipfile (told to write CP936
# names without the flag, as Windows Explorer and WinRAR do on Chinese Windows). Run it from this folder;
# the tests do not run it. Then run `go test ./intake -run TestUnzipFixtures -update` and check the
# golden files.
set -eu
corpus=../../../pdfcheck/testdata/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f ./*.zip

mkdir -p "$tmp/src/报告"
cp "$corpus/valid-1page.pdf" "$tmp/src/报告/一中简报.pdf"
cp "$corpus/valid-cjk.pdf" "$tmp/src/总结.pdf"
touch -d '2026-01-05 08:00:00' "$tmp/src/报告/一中简报.pdf" "$tmp/src/总结.pdf" "$tmp/src/报告"
here=$(pwd)
(cd "$tmp/src" && LC_ALL=C.UTF-8 zip -q -X -r "$here/infozip-utf8-noflag.zip" 总结.pdf 报告)
(cd "$tmp/src" && zip -q -X -P 123456 "$here/infozip-zipcrypto.zip" 总结.pdf)

python3 - "$corpus" <<'PY'
import sys, zipfile, zlib, struct
corpus = sys.argv[1]
pdf1 = open(corpus + "/valid-1page.pdf", "rb").read()
pdf2 = open(corpus + "/valid-cjk.pdf", "rb").read()
date = (2026, 1, 5, 8, 0, 0)

class RawInfo(zipfile.ZipInfo):
    """A ZipInfo whose name is written as the given bytes, without the UTF-8 flag (bit 11)."""
    __slots__ = ("raw",)
    def _encodeFilenameFlags(self):
        return self.raw, self.flag_bits & ~0x800

def write(path, entries):
    """entries: (name, data, raw name bytes or None, extra bytes)"""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, raw, extra in entries:
            zi = RawInfo(name, date) if raw is not None else zipfile.ZipInfo(name, date)
            if raw is not None:
                zi.raw = raw
            zi.compress_type = zipfile.ZIP_STORED if name.endswith("/") else zipfile.ZIP_DEFLATED
            zi.create_system = 0  # MS-DOS, as Windows tools write
            if name.endswith("/"):
                zi.external_attr = 0x10
            zi.extra = extra
            z.writestr(zi, data)

cp = lambda s: s.encode("cp936")
# Windows Explorer / WinRAR on Chinese Windows: CP936 names, no UTF-8 flag. 誠 is D5 5C in CP936: its
# second byte is a backslash.
write("python-cp936.zip", [
    ("各校简报/", b"", cp("各校简报/"), b""),
    ("各校简报/一中简报.pdf", pdf1, cp("各校简报/一中简报.pdf"), b""),
    ("各校简报/誠信承诺书.pdf", pdf2, cp("各校简报/誠信承诺书.pdf"), b""),
    ("各校简报/Thumbs.db", b"\xd0\xcf\x11\xe0junk", cp("各校简报/Thumbs.db"), b""),
])
# Bandizip, 7-Zip for names outside the code page, Windows 11 Explorer: UTF-8 names with the flag.
write("python-utf8-flag.zip", [
    ("各校简报/一中简报.pdf", pdf1, None, b""),
    ("各校简报/二中简报.docx.pdf", pdf2, None, b""),
])
# A tool that could not write the name in the legacy encoding put "??" in the name and the real name in
# an Info-ZIP Unicode Path extra field (0x7075: version 1, CRC-32 of the name field, UTF-8 name).
def upath(raw, name):
    d = b"\x01" + struct.pack("<I", zlib.crc32(raw)) + name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(d)) + d
write("python-unicode-path.zip", [
    ("??.pdf", pdf1, b"??.pdf", upath(b"??.pdf", "通知.pdf")),
])
# macOS Archive Utility: UTF-8 names without the flag, resource forks under __MACOSX/, .DS_Store.
write("python-macos.zip", [
    ("月报/", b"", "月报/".encode(), b""),
    ("月报/三中月报.pdf", pdf1, "月报/三中月报.pdf".encode(), b""),
    ("月报/.DS_Store", b"\x00\x00\x00\x01Bud1", "月报/.DS_Store".encode(), b""),
    ("__MACOSX/", b"", b"__MACOSX/", b""),
    ("__MACOSX/月报/", b"", "__MACOSX/月报/".encode(), b""),
    ("__MACOSX/月报/._三中月报.pdf", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X", "__MACOSX/月报/._三中月报.pdf".encode(), b""),
])
PY
ls -l ./*.zip
