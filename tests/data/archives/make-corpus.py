#!/usr/bin/env python3
"""make-corpus.py: builds the archive corpus of tests/e2e/0703 and 0704.

    tests/data/archives/make-corpus.py [OUTDIR]   (default: beside this file)

good/     real backups made here by GNU tar, bsdtar, GNU cpio, Info-ZIP and
          python's tarfile and zipfile, in their formats and variants.  Each
          holds members under osde/ (to remove) and tulsa/ (to keep); lethe
          must remove the first and keep the second exactly.
refused/  hostile, damaged or ambiguous archives lethe must refuse by name,
          leaving them byte-identical, in bounded time.

expect.tsv lists every archive: good ones with the number of members osde/**
removes, refused ones with a phrase their refusal must contain.  The
archives are committed (a few KiB each); this script is how they were made
and can be re-run (tool versions may change some bytes, not the cases).
Needs: tar, bsdtar, cpio, zip, gzip, bzip2, xz, zstd, lz4, setfattr.
"""
import io
import os
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else HERE
GOOD, BAD = os.path.join(OUT, 'good'), os.path.join(OUT, 'refused')
TMP = None
rows = []


def sh(cmd, cwd=None):
    subprocess.run(cmd, shell=True, check=True, cwd=cwd)


def good(name, removed):
    rows.append('good\t%s\t%d' % (name, removed))


def bad(name, phrase):
    rows.append('refused\t%s\t%s' % (name, phrase))


def tree(root, future=True, sparse=True, xattr=False, fifo=False, long=True,
         old=True):
    """Two districts' files: osde/ (5 members) and tulsa/ (kept)."""
    rnd = random.Random(7)
    os.makedirs(os.path.join(root, 'osde/scores'))
    os.makedirs(os.path.join(root, 'tulsa/notes'))
    w = lambda p, b: open(os.path.join(root, p), 'wb').write(b)
    rows = lambda mark, n: b''.join(b'%s,student %d,grade %d\n' % (mark, i, i % 12)
                                    for i in range(n))
    w('osde/roster.csv', rows(b'OSDE-MARK-roster', 150))
    w('osde/scores/term1.csv', b'OSDE-MARK-term1,Amara Okafor,93\n')
    w('osde/scores/blob.bin', b'OSDE-MARK-blob' + rnd.randbytes(6000))
    w('tulsa/roster.csv', rows(b'TULSA-KEEP-roster', 200))
    w('tulsa/notes/plain.txt', b'TULSA-KEEP-plain\n')
    w('tulsa/blob.bin', b'TULSA-KEEP-blob' + rnd.randbytes(9000))
    w('tulsa/Zo\u00eb.csv', b'TULSA-KEEP-utf8\n')
    os.symlink('roster.csv', os.path.join(root, 'tulsa/roster-link'))
    os.chmod(os.path.join(root, 'tulsa/roster.csv'), 0o640)
    if long:
        d = os.path.join(root, 'tulsa', 'd' * 80)
        os.makedirs(d)
        open(os.path.join(d, 'f' * 90 + '.txt'), 'wb').write(b'TULSA-KEEP-long\n')
    if sparse:
        with open(os.path.join(root, 'tulsa/sparse.img'), 'wb') as f:
            f.truncate(1 << 20)
            f.seek(300000)
            f.write(b'TULSA-KEEP-sparse')
    if fifo:
        os.mkfifo(os.path.join(root, 'tulsa/fifo'))
    if xattr:
        sh("setfattr -n user.district -v tulsa '%s/tulsa/notes/plain.txt'" % root)
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            p = os.path.join(dp, n)
            os.utime(p, (1700000000, 1700000000), follow_symlinks=False)
    if old:
        w('tulsa/notes/old.txt', b'TULSA-KEEP-1960\n')
        os.utime(os.path.join(root, 'tulsa/notes/old.txt'), (-300000000,) * 2)
    if future:
        w('tulsa/notes/future.txt', b'TULSA-KEEP-2255\n')
        os.utime(os.path.join(root, 'tulsa/notes/future.txt'), (9000000000,) * 2)
    for d in ('osde', 'osde/scores', 'tulsa', 'tulsa/notes'):
        os.utime(os.path.join(root, d), (1700000000, 1700000000))


OSDE = 5	# osde, osde/roster.csv, osde/scores, .../term1.csv, .../blob.bin


def gnu_tars(src):
    for fmt, flags in (('gnu', ''), ('oldgnu', ''), ('posix', '--xattrs')):
        out = os.path.join(GOOD, 'gnutar-%s.tar' % fmt)
        sh('tar --format=%s -S %s -cf %s -C %s osde tulsa' % (fmt, flags, out, src))
        good(os.path.basename(out), OSDE)
    for comp, ext in (('-z', 'tar.gz'), ('-j', 'tar.bz2'), ('-J', 'tar.xz'),
                      ('--zstd', 'tar.zst'), ('-I lz4', 'tar.lz4'),
                      ('-I "xz --format=lzma"', 'tar.lzma')):
        out = os.path.join(GOOD, 'gnutar-gnu.%s' % ext)
        sh('tar --format=gnu -S %s -cf %s -C %s osde tulsa' % (comp, out, src))
        good(os.path.basename(out), OSDE)
    # ustar and v7 cannot hold long names, old or far times: a subset.
    sub = os.path.join(src, '..', 'sub')
    os.makedirs(sub)
    tree(sub, future=False, sparse=False, long=False, old=False)
    for fmt in ('ustar', 'v7'):
        out = os.path.join(GOOD, 'gnutar-%s.tar' % fmt)
        sh('tar --format=%s -cf %s -C %s osde tulsa' % (fmt, out, sub))
        good(os.path.basename(out), OSDE)


def concatenated(src):
    p1 = os.path.join(TMP, 'p1.tar')
    p2 = os.path.join(TMP, 'p2.tar')
    sh('tar --format=gnu -cf %s -C %s osde/roster.csv tulsa/roster.csv' % (p1, src))
    sh('tar --format=posix -cf %s -C %s osde/scores tulsa/notes' % (p2, src))
    a, b = open(p1, 'rb').read(), open(p2, 'rb').read()
    open(os.path.join(GOOD, 'concatenated.tar'), 'wb').write(a + b)
    good('concatenated.tar', 4)
    gz = lambda d: (lambda o: o.compress(d) + o.flush())(
        zlib.compressobj(6, zlib.DEFLATED, 31))
    open(os.path.join(GOOD, 'concatenated.tar.gz'), 'wb').write(gz(a) + gz(b))
    good('concatenated.tar.gz', 4)
    # gzip's member split inside a member, then zero padding (tape blocks).
    whole = open(os.path.join(GOOD, 'gnutar-gnu.tar'), 'rb').read()
    open(os.path.join(GOOD, 'two-members-padded.tar.gz'), 'wb').write(
        gz(whole[:7000]) + gz(whole[7000:]) + bytes(3000))
    good('two-members-padded.tar.gz', OSDE)
    os.remove(p1)
    os.remove(p2)


def hard_links(src):
    d = os.path.join(TMP, 'hl')
    os.makedirs(os.path.join(d, 'osde'))
    os.makedirs(os.path.join(d, 'tulsa'))
    # Kept under tulsa's names, so not marked as removed content.
    open(os.path.join(d, 'osde/shared.csv'), 'wb').write(b'SHARED-kept-by-tulsa\n')
    os.link(os.path.join(d, 'osde/shared.csv'), os.path.join(d, 'tulsa/copy.csv'))
    os.link(os.path.join(d, 'osde/shared.csv'), os.path.join(d, 'tulsa/copy2.csv'))
    open(os.path.join(d, 'tulsa/kept.csv'), 'wb').write(b'TULSA-KEEP-kept\n')
    os.link(os.path.join(d, 'tulsa/kept.csv'), os.path.join(d, 'tulsa/kept2.csv'))
    open(os.path.join(d, 'osde/own.csv'), 'wb').write(b'OSDE-MARK-own\n')
    os.link(os.path.join(d, 'osde/own.csv'), os.path.join(d, 'osde/own2.csv'))
    for fmt in ('gnu', 'posix'):
        out = os.path.join(GOOD, 'hardlinks-%s.tar' % fmt)
        sh('tar --format=%s -cf %s -C %s osde tulsa' % (fmt, out, d))
        good(os.path.basename(out), 4)
    shutil.rmtree(d)


def bsdtar(src):
    for fmt, ext, n in (('pax', 'tar', OSDE), ('ustar', 'tar', OSDE),
                        ('newc', 'cpio', OSDE), ('odc', 'cpio', OSDE),
                        ('zip', 'zip', OSDE)):
        out = os.path.join(GOOD, 'bsdtar-%s.%s' % (fmt, ext))
        sub = src if fmt == 'pax' else os.path.join(src, '..', 'sub')
        sh('bsdtar --format %s -cf %s -C %s osde tulsa' % (fmt, out, sub))
        good(os.path.basename(out), n)
    out = os.path.join(GOOD, 'bsdtar-pax.tgz')
    sh('bsdtar --format pax -czf %s -C %s osde tulsa' % (out, src))
    good('bsdtar-pax.tgz', OSDE)
    out = os.path.join(GOOD, 'bsdtar-ustar.tar.Z')	# compress (.Z)
    sh('bsdtar --format ustar -cZf %s -C %s osde tulsa' % (
        out, os.path.join(src, '..', 'sub')))
    good('bsdtar-ustar.tar.Z', OSDE)


def gnu_cpio(src):
    sub = os.path.join(src, '..', 'sub')
    for fmt in ('newc', 'crc', 'odc', 'bin', 'hpodc', 'hpbin'):
        out = os.path.join(GOOD, 'cpio-%s.cpio' % fmt)
        sh('find osde tulsa | cpio --quiet -o -H %s > %s' % (fmt, out), cwd=sub)
        good(os.path.basename(out), OSDE)
    fsub = os.path.join(TMP, 'fifo')
    tree(fsub, future=False, sparse=False, long=False, fifo=True, old=False)
    out = os.path.join(GOOD, 'cpio-bin-fifo.cpio')
    sh('find osde tulsa | cpio --quiet -o -H bin > %s' % out, cwd=fsub)
    good('cpio-bin-fifo.cpio', OSDE)
    sh('find osde tulsa | cpio --quiet -o -H newc | gzip -n > %s' %
       os.path.join(GOOD, 'cpio-newc.cpio.gz'), cwd=sub)
    good('cpio-newc.cpio.gz', OSDE)
    shutil.rmtree(fsub)


def infozip(src):
    sub = os.path.join(TMP, 'z')
    tree(sub, future=False, sparse=False, old=False)
    # A pre-1980 file: its DOS date is clamped to 1980, its UT extra is not.
    open(os.path.join(sub, 'tulsa/notes/1975.txt'), 'wb').write(b'TULSA-KEEP-1975\n')
    os.utime(os.path.join(sub, 'tulsa/notes/1975.txt'), (160000000,) * 2)
    for name, flags in (('deflate', '-r -y'), ('store', '-r -y -0'),
                        ('bzip2', '-r -y -Z bzip2')):
        out = os.path.join(GOOD, 'infozip-%s.zip' % name)
        sh('zip -q %s %s osde tulsa' % (flags, out), cwd=sub)
        good(os.path.basename(out), OSDE)
    out = os.path.join(GOOD, 'infozip-comments.zip')
    sh('zip -q -r -y %s osde tulsa' % out, cwd=sub)
    sh("printf 'backup of 2026-05-01\\n' | zip -q -z %s" % out)
    sh("printf 'kept entry comment\\n' | zip -q -c %s tulsa/roster.csv" % out)
    good('infozip-comments.zip', OSDE)
    # A self-extractor: a stub, then the zip, offsets adjusted (zip -A).
    stub = b'#!/bin/sh\necho "self-extracting backup"; exit 0\n' + bytes(400)
    z = open(out, 'rb').read()
    sfx = os.path.join(GOOD, 'infozip-sfx.zip')
    open(sfx, 'wb').write(stub + z)
    sh('zip -q -A %s' % sfx)
    good('infozip-sfx.zip', OSDE)
    shutil.rmtree(sub)


def py_tar(src):
    # python's tarfile stores holes as data: no sparse file here.
    tree(os.path.join(src, '..', 'py'), sparse=False, xattr=True)
    for fmt, name in ((tarfile.GNU_FORMAT, 'gnu'), (tarfile.PAX_FORMAT, 'pax'),
                      (tarfile.USTAR_FORMAT, 'ustar')):
        out = os.path.join(GOOD, 'pytar-%s.tar' % name)
        kw = {'pax_headers': {'comment': 'nightly backup'}} \
            if fmt == tarfile.PAX_FORMAT else {}
        base = os.path.join(src, '..', 'py' if fmt != tarfile.USTAR_FORMAT
                            else 'sub')
        with tarfile.open(out, 'w', format=fmt, **kw) as t:
            t.add(os.path.join(base, 'osde'), 'osde')
            t.add(os.path.join(base, 'tulsa'), 'tulsa')
        good(os.path.basename(out), OSDE)
    # Names as GNU tar extracts them: b/../osde/x.csv is osde/x.csv.
    out = os.path.join(GOOD, 'pytar-dotdot.tar')
    with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:
        for name, data in (('tulsa/a.csv', b'TULSA-KEEP-a\n'),
                           ('b/../osde/dotdot.csv', b'OSDE-MARK-dotdot\n'),
                           ('./osde/dot.csv', b'OSDE-MARK-dot\n'),
                           ('/osde/abs.csv', b'OSDE-MARK-abs\n')):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1700000000
            t.addfile(ti, io.BytesIO(data))
    good('pytar-dotdot.tar', 3)


def py_zip(src):
    sub = os.path.join(src, '..', 'sub')
    files = []
    for dp, dns, fns in os.walk(sub):
        dns.sort()
        for f in sorted(fns):
            p = os.path.join(dp, f)
            if not os.path.islink(p):
                files.append((p, os.path.relpath(p, sub)))
    n = sum(1 for _, a in files if a.startswith('osde/'))
    for name, ct in (('deflate', zipfile.ZIP_DEFLATED), ('lzma', zipfile.ZIP_LZMA),
                     ('bzip2', zipfile.ZIP_BZIP2)):
        out = os.path.join(GOOD, 'pyzip-%s.zip' % name)
        with zipfile.ZipFile(out, 'w', ct) as z:
            z.comment = b'archive comment'
            for p, a in files:
                z.write(p, a)
        good(os.path.basename(out), n)
    # Written to a pipe: data descriptors after each member; and zip64.
    buf = io.BytesIO()

    class Pipe(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            return buf.write(b)
    with zipfile.ZipFile(Pipe(), 'w', zipfile.ZIP_DEFLATED) as z:
        for p, a in files:
            with open(p, 'rb') as f, z.open(a, 'w') as w:
                w.write(f.read())
    open(os.path.join(GOOD, 'pyzip-stream.zip'), 'wb').write(buf.getvalue())
    good('pyzip-stream.zip', n)
    out = os.path.join(GOOD, 'pyzip-zip64.zip')
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        for p, a in files:
            with open(p, 'rb') as f, z.open(a, 'w', force_zip64=True) as w:
                w.write(f.read())
    good('pyzip-zip64.zip', n)


# ---- refused ----

def gzip_quine():
    """296 bytes that gunzip to themselves (a stored/copy deflate quine,
    the CRC-32 solved as a fixed point over GF(2))."""
    def L(n, final=0):
        return bytes([final]) + struct.pack('<HH', n, n ^ 0xffff)

    class Bits:
        def __init__(s):
            s.out, s.acc, s.n = bytearray(), 0, 0

        def put(s, v, n):
            for i in range(n):
                s.acc |= ((v >> i) & 1) << s.n
                s.n += 1
                if s.n == 8:
                    s.out.append(s.acc)
                    s.acc = s.n = 0

        def huff(s, code, n):
            for i in reversed(range(n)):
                s.put((code >> i) & 1, 1)

    def lit(s, sym):	# fixed Huffman codes of RFC 1951, 3.2.6
        if sym <= 143:
            s.huff(0x30 + sym, 8)
        elif sym <= 255:
            s.huff(0x190 + sym - 144, 9)
        elif sym <= 279:
            s.huff(sym - 256, 7)
        else:
            s.huff(0xc0 + sym - 280, 8)
    lens = [(257, 3, 0), (258, 4, 0), (259, 5, 0), (260, 6, 0), (261, 7, 0),
            (262, 8, 0), (263, 9, 0), (264, 10, 0), (265, 11, 1), (266, 13, 1),
            (267, 15, 1), (268, 17, 1), (269, 19, 2), (270, 23, 2), (271, 27, 2),
            (272, 31, 2), (273, 35, 3), (274, 43, 3), (275, 51, 3), (276, 59, 3)]
    dists = [(0, 1, 0), (1, 2, 0), (2, 3, 0), (3, 4, 0), (4, 5, 1), (5, 7, 1),
             (6, 9, 2), (7, 13, 2), (8, 17, 3), (9, 25, 3), (10, 33, 4),
             (11, 49, 4), (12, 65, 5), (13, 97, 5)]

    def copy(s, n, d):
        c = [x for x in lens if x[1] <= n][-1]
        lit(s, c[0])
        s.put(n - c[1], c[2])
        c = [x for x in dists if x[1] <= d][-1]
        s.huff(c[0], 5)
        s.put(d - c[1], c[2])

    def R(x, final=0):	# repeat the last x bytes, in exactly 5 bytes
        s = Bits()
        if x in (65, 66):
            s.put(0, 1); s.put(1, 2); copy(s, x, x); lit(s, 256)
            s.put(final, 1); s.put(1, 2); lit(s, 256)
        else:
            s.put(final, 1); s.put(1, 2); copy(s, x // 2, x)
            copy(s, x - x // 2, x); lit(s, 256)
        assert s.n == 0 and len(s.out) == 5
        return bytes(s.out)
    H = b'\x1f\x8b\x08\x08\0\0\0\0\0\x03rg\0'
    M2 = b'\x1f\x8b\x08\x08\0\0\0\0\0\x03' + b'recursive-gzip-padding-member!!\0' \
        + b'\x03\x00' + bytes(8)

    def F(crc, size):
        S = struct.pack('<II', crc, size) + M2
        a, b = len(H) + 5, len(S) + 5
        prog = (L(a) + H + L(a) + R(a) + L(5) + R(a) + L(5) + L(5) + L(20) + R(a)
                + L(5) + L(5) + L(20) + R(20) + L(20) + R(20) + L(20) + R(20) + L(20)
                + R(20) + L(20) + R(20) + L(0) + L(0) + L(b) + R(20) + L(0) + L(0)
                + L(b) + R(b, 1) + S + R(b, 1))
        return H + prog + S
    n = len(F(0, 0))
    c0 = zlib.crc32(F(0, n))
    cols = [zlib.crc32(F(1 << i, n)) ^ c0 for i in range(32)]
    rows_ = [[sum(((cols[i] >> bit) & 1) << i for i in range(32)) ^ (1 << bit),
              (c0 >> bit) & 1] for bit in range(32)]
    piv, rank = [], 0
    for col in range(32):
        pr = next((r for r in range(rank, 32) if (rows_[r][0] >> col) & 1), None)
        if pr is None:
            continue
        rows_[rank], rows_[pr] = rows_[pr], rows_[rank]
        for r in range(32):
            if r != rank and (rows_[r][0] >> col) & 1:
                rows_[r][0] ^= rows_[rank][0]
                rows_[r][1] ^= rows_[rank][1]
        piv.append(col)
        rank += 1
    x = sum(rows_[r][1] << piv[r] for r in range(rank))
    f = F(x, n)
    assert zlib.decompressobj(31).decompress(f) == f
    return f


def refused(src):
    w = lambda n, b: open(os.path.join(BAD, n), 'wb').write(b)
    w('recursive.gz', gzip_quine())
    bad('recursive.gz', 'gzip inside gzip')
    # libarchive 3.6's own hang: a gzip whose content is a gzip header
    # whose file name runs on for 600 MiB.
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    hdr = b'\x1f\x8b\x08\x08\0\0\0\0\0\x03'
    body = inner.compress(hdr)
    chunk = b'A' * (1 << 20)
    for _ in range(600):
        body += inner.compress(chunk)
    body += inner.flush()
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    w('nested-name.gz', outer.compress(body) + outer.flush())
    bad('nested-name.gz', 'gzip inside gzip')
    # 1 GiB of zeros in a few KiB of bzip2.
    sh("head -c 1G /dev/zero | bzip2 -9 > %s" % os.path.join(BAD, 'bomb.tar.bz2'))
    bad('bomb.tar.bz2', 'times its size')
    whole = open(os.path.join(GOOD, 'gnutar-gnu.tar'), 'rb').read()
    offs = [m.offset for m in tarfile.open(fileobj=io.BytesIO(whole))]
    w('cut-in-member.tar', whole[:offs[3] + 700])
    bad('cut-in-member.tar', 'truncated')
    w('cut-at-member.tar', whole[:offs[4]])
    bad('cut-at-member.tar', 'without the end-of-archive marker')
    w('junk-after-end.tar', whole + b'junk\n')
    bad('junk-after-end.tar', 'junk after the end')
    tgz = open(os.path.join(GOOD, 'gnutar-gnu.tar.gz'), 'rb').read()
    w('cut.tar.gz', tgz[:len(tgz) * 2 // 3])
    bad('cut.tar.gz', 'gzip')
    w('gzip-junk.tar.gz', tgz + b'garbage')
    bad('gzip-junk.tar.gz', 'neither gzip nor zero padding')
    crc = bytearray(open(os.path.join(GOOD, 'cpio-crc.cpio'), 'rb').read())
    i = crc.find(b'TULSA-KEEP-roster')
    crc[i] ^= 0x20
    w('bad-checksum.cpio', bytes(crc))
    bad('bad-checksum.cpio', 'checksum')
    newc = open(os.path.join(GOOD, 'cpio-newc.cpio'), 'rb').read()
    w('two-cpios.cpio', newc + newc)
    bad('two-cpios.cpio', 'after its cpio trailer')
    w('cut.cpio', newc[:newc.find(b'TRAILER!!!') - 110])
    bad('cut.cpio', 'without the cpio trailer')
    zp = open(os.path.join(GOOD, 'infozip-deflate.zip'), 'rb').read()
    w('no-central-directory.zip', zp[:zp.find(b'PK\x01\x02')])
    bad('no-central-directory.zip', 'no central directory')
    # Two central entries for one local member (the overlapping zip bomb).
    cd = zp.find(b'PK\x01\x02')
    eocd = zp.rfind(b'PK\x05\x06')
    first = zp[cd:cd + 46 + sum(struct.unpack('<HHH', zp[cd + 28:cd + 34]))]
    e = bytearray(zp[eocd:])
    n_ent, cd_size = struct.unpack('<H', e[10:12])[0], struct.unpack('<I', e[12:16])[0]
    e[8:12] = struct.pack('<HH', n_ent + 1, n_ent + 1)
    e[12:16] = struct.pack('<I', cd_size + len(first))
    w('overlapping.zip', zp[:eocd] + first + bytes(e))
    bad('overlapping.zip', 'overlap')
    sh('cd %s && zip -q -r -P secret %s osde tulsa' % (
        os.path.join(src, '..', 'sub'), os.path.join(BAD, 'encrypted.zip')))
    bad('encrypted.zip', 'encrypted')
    for name, member, phrase in (('escape.tar', '../osde/x.csv', "out of the archive's root"),
                                 ('ambiguous.tar', 'a/b/../osde/x.csv', 'different names')):
        with tarfile.open(os.path.join(BAD, name), 'w', format=tarfile.PAX_FORMAT) as t:
            for n in ('tulsa/a.csv', member):
                ti = tarfile.TarInfo(n)
                ti.size, ti.mtime = 4, 1700000000
                t.addfile(ti, io.BytesIO(b'data'))
        bad(name, phrase)
    d = os.path.join(TMP, 'split')
    os.makedirs(os.path.join(d, 'osde'))
    os.makedirs(os.path.join(d, 'tulsa'))
    open(os.path.join(d, 'tulsa/a'), 'wb').write(b'SHARED\n')
    os.link(os.path.join(d, 'tulsa/a'), os.path.join(d, 'osde/b'))
    sh('find tulsa osde | cpio --quiet -o -H newc > %s' %
       os.path.join(BAD, 'split-link-set.cpio'), cwd=d)
    bad('split-link-set.cpio', 'hard-linked across')
    sh('tar --format=gnu -g %s/snar -cf %s -C %s .' % (
        d, os.path.join(BAD, 'incremental.tar'), d))
    bad('incremental.tar', 'incremental directory listing')
    shutil.rmtree(d)
    with tarfile.open(os.path.join(BAD, 'global-path.tar'), 'w',
                      format=tarfile.PAX_FORMAT,
                      pax_headers={'path': 'tulsa/renamed.csv'}) as t:
        for n in ('tulsa/a.csv', 'osde/b.csv'):
            ti = tarfile.TarInfo(n)
            ti.size, ti.mtime = 4, 1700000000
            t.addfile(ti, io.BytesIO(b'data'))
    bad('global-path.tar', 'global pax header')


def main():
    global TMP
    for d in (GOOD, BAD):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    TMP = tmp = tempfile.mkdtemp(prefix='lethe-corpus.')
    try:
        src = os.path.join(tmp, 'src')
        os.makedirs(src)
        tree(src, xattr=True)
        gnu_tars(src)
        concatenated(src)
        hard_links(src)
        bsdtar(src)
        gnu_cpio(src)
        infozip(src)
        py_tar(src)
        py_zip(src)
        refused(src)
    finally:
        shutil.rmtree(tmp)
    with open(os.path.join(OUT, 'expect.tsv'), 'w') as f:
        f.write('# kind\tarchive\tremoved members (good) or refusal phrase\n')
        f.write('\n'.join(rows) + '\n')


main()
