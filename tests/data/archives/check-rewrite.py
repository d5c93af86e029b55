#!/usr/bin/env python3
"""check-rewrite.py ORIG NEW PREFIX REMOVED: is NEW exactly ORIG without the
members named PREFIX or PREFIX/...?  Read with python's tarfile and zipfile
and a cpio reader of its own (never lethe's code), it checks:

- every kept member is there, in order, with the same name, type, mode,
  owner, times, size, link, pax records (xattrs once), sparse map, zip
  method, dates, extra fields and comments, and the same content; header
  bytes are identical (tar headers, cpio entries, zip local records);
- a kept hard link to a removed member holds that member's content (or
  links to the kept link that does);
- the removed members are gone: REMOVED of them, no name under PREFIX, and
  none of their content markers (OSDE-MARK) in the decompressed data;
- what is not a member is kept: archive comment, self-extractor stub, the
  number of gzip members; a crc cpio still checks (GNU cpio).

Member names are taken as GNU tar extracts them (b/../osde/x is osde/x).
Prints one line and exits 0 when all hold.
"""
import bz2
import io
import lzma
import subprocess
import sys
import tarfile
import zipfile
import zlib

orig_path, new_path, PREFIX, WANT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
MARK = PREFIX.upper().encode() + b'-MARK'
errors = []


def fail(msg):
    errors.append(msg)


def norm(name):
    parts = [p for p in name.split('/') if p not in ('', '.')]
    if '..' in parts:
        parts = parts[len(parts) - parts[::-1].index('..'):]
    return '/'.join(parts)


def removed(name):
    n = norm(name)
    return n == PREFIX or n.startswith(PREFIX + '/')


def gunzip(raw):
    """Every member of a gzip file (zero padding after them allowed)."""
    out, n = b'', 0
    while raw and raw.strip(b'\0'):
        d = zlib.decompressobj(31)
        out += d.decompress(raw)
        if not d.eof:
            raise ValueError('gzip member %d is cut short' % (n + 1))
        raw = d.unused_data
        n += 1
    return out, n


def gz_members(raw):
    return gunzip(raw)[1]


def decompress(raw):
    if raw[:2] == b'\x1f\x8b':
        return gunzip(raw)[0], 'gzip'
    if raw[:3] == b'BZh':
        return bz2.decompress(raw), 'bzip2'
    if raw[:6] == b'\xfd7zXZ\0' or raw[:3] == b'\x5d\0\0':
        return lzma.decompress(raw), 'lzma'
    for magic, tool in ((b'\x28\xb5\x2f\xfd', 'zstd'), (b'\x04\x22\x4d\x18', 'lz4'),
                        (b'\x1f\x9d', 'gzip')):	# gzip reads compress (.Z)
        if raw[:len(magic)] == magic:
            return subprocess.run([tool, '-dc'], input=raw, check=True,
                                  stdout=subprocess.PIPE).stdout, magic
    return raw, None


# ---- tar ----

def check_tar(od, nd):
    ot = list(tarfile.open(fileobj=io.BytesIO(od), ignore_zeros=True))
    nt = list(tarfile.open(fileobj=io.BytesIO(nd), ignore_zeros=True))
    kept = [m for m in ot if not removed(m.name)]
    gone = [m for m in ot if removed(m.name)]
    if len(gone) != WANT:
        fail('%d members removed, expected %d' % (len(gone), WANT))
    if any(removed(m.name) for m in nt):
        fail('a removed member is still listed')
    if [m.name for m in kept] != [m.name for m in nt]:
        fail('kept members differ: %s / %s' % ([m.name for m in kept],
                                               [m.name for m in nt]))
        return
    otf = tarfile.open(fileobj=io.BytesIO(od), ignore_zeros=True)
    ntf = tarfile.open(fileobj=io.BytesIO(nd), ignore_zeros=True)
    content = {}
    first_link = {}
    for m in ot:
        if m.isreg() and removed(m.name):
            content[m.name] = otf.extractfile(m).read()
    for a, b in zip(kept, nt):
        if a.islnk() and removed(a.linkname):
            # A kept hard link to a removed member: written as a file with
            # that content, further ones link to it.
            if a.linkname not in first_link:
                first_link[a.linkname] = a.name
                if not b.isreg() or ntf.extractfile(b).read() != content[a.linkname]:
                    fail('%s: not a file with its removed target\'s content' % a.name)
            elif not b.islnk() or b.linkname != first_link[a.linkname]:
                fail('%s: does not link to %s' % (a.name, first_link[a.linkname]))
            for f in ('mode', 'uid', 'gid', 'mtime', 'uname', 'gname'):
                if getattr(a, f) != getattr(b, f):
                    fail('%s: %s %r became %r' % (a.name, f, getattr(a, f), getattr(b, f)))
            continue
        for f in ('type', 'mode', 'uid', 'gid', 'uname', 'gname', 'mtime', 'size',
                  'linkname', 'devmajor', 'devminor', 'pax_headers', 'sparse'):
            if getattr(a, f, None) != getattr(b, f, None):
                fail('%s: %s %r became %r' % (a.name, f, getattr(a, f, None),
                                              getattr(b, f, None)))
        if od[a.offset:a.offset_data] != nd[b.offset:b.offset_data]:
            fail('%s: header bytes changed' % a.name)
        if a.isreg() and otf.extractfile(a).read() != ntf.extractfile(b).read():
            fail('%s: content changed' % a.name)


# ---- cpio (newc, crc, odc, bin) ----

def cpio_entries(d):
    out, pos = [], 0
    while True:
        m = d[pos:pos + 6]
        if m in (b'070701', b'070702'):
            f = [int(d[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
            mode, size, namesize, check = f[1], f[6], f[11], f[12]
            name = d[pos + 110:pos + 110 + namesize - 1]
            data = (pos + 110 + namesize + 3) & ~3
            end = (data + size + 3) & ~3
        elif m == b'070707':
            mode = int(d[pos + 18:pos + 24], 8)
            namesize, size = int(d[pos + 59:pos + 65], 8), int(d[pos + 65:pos + 76], 8)
            name = d[pos + 76:pos + 76 + namesize - 1]
            data = pos + 76 + namesize
            end = data + size
            check = None
        elif d[pos:pos + 2] in (b'\xc7\x71', b'\x71\xc7'):
            be = d[pos] == 0x71
            sh = lambda o: int.from_bytes(d[pos + o:pos + o + 2], 'big' if be else 'little')
            mode, namesize, size = sh(6), sh(20), sh(22) << 16 | sh(24)
            name = d[pos + 26:pos + 26 + namesize - 1]
            data = pos + 26 + namesize + (namesize & 1)
            end = data + size + (size & 1)
            check = None
        else:
            raise ValueError('no cpio header at %d' % pos)
        e = dict(name=name.decode('utf-8', 'surrogateescape'), raw=d[pos:end],
                 mode=mode, data=d[data:data + size], check=check)
        pos = end
        if e['name'] == 'TRAILER!!!':
            if d[pos:].strip(b'\0'):
                raise ValueError('data after the trailer')
            return out, e
        out.append(e)


def check_cpio(od, nd, crc):
    oe, otr = cpio_entries(od)
    ne, ntr = cpio_entries(nd)
    kept = [e for e in oe if not removed(e['name'])]
    gone = len(oe) - len(kept)
    if gone != WANT:
        fail('%d members removed, expected %d' % (gone, WANT))
    if [e['name'] for e in kept] != [e['name'] for e in ne]:
        fail('kept members differ')
        return
    for a, b in zip(kept, ne):
        if a['raw'] != b['raw']:
            fail('%s: its bytes changed' % a['name'])
    if otr['raw'] != ntr['raw']:
        fail('the trailer changed')
    if crc:
        for e in ne:
            if e['mode'] & 0o170000 == 0o100000 and sum(e['data']) & 0xffffffff != e['check']:
                fail('%s: crc checksum does not match' % e['name'])
        r = subprocess.run(['cpio', '--quiet', '--only-verify-crc', '-i'], input=nd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            fail('GNU cpio --only-verify-crc: %s' % r.stderr.decode(errors='replace'))
    r = subprocess.run(['cpio', '--quiet', '-it'], input=nd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if r.returncode != 0 or sorted(r.stdout.decode(errors='surrogateescape').split('\n')[:-1]) \
            != sorted(e['name'] for e in kept):
        fail('GNU cpio lists something else: %s' % r.stderr.decode(errors='replace'))


# ---- zip ----

ZFIELDS = ('date_time', 'compress_type', 'comment', 'extra', 'create_system',
           'create_version', 'extract_version', 'flag_bits', 'volume',
           'internal_attr', 'external_attr', 'CRC', 'compress_size', 'file_size')


def local_record(data, i):
    o = i.header_offset
    n, e = int.from_bytes(data[o + 26:o + 28], 'little'), int.from_bytes(data[o + 28:o + 30], 'little')
    return data[o:o + 30 + n + e + i.compress_size]


def check_zip(od, nd):
    zo, zn = zipfile.ZipFile(io.BytesIO(od)), zipfile.ZipFile(io.BytesIO(nd))
    kept = [i for i in zo.infolist() if not removed(i.filename)]
    gone = len(zo.infolist()) - len(kept)
    if gone != WANT:
        fail('%d members removed, expected %d' % (gone, WANT))
    if [i.filename for i in kept] != [i.filename for i in zn.infolist()]:
        fail('kept members differ')
        return
    for a, b in zip(kept, zn.infolist()):
        for f in ZFIELDS:
            if getattr(a, f) != getattr(b, f):
                fail('%s: %s %r became %r' % (a.filename, f, getattr(a, f), getattr(b, f)))
        if local_record(od, a) != local_record(nd, b):
            fail('%s: its local header or data changed' % a.filename)
        if zo.read(a) != zn.read(b):
            fail('%s: content changed' % a.filename)
    if zo.comment != zn.comment:
        fail('the archive comment changed')
    po = min(i.header_offset for i in zo.infolist())
    pn = min((i.header_offset for i in zn.infolist()), default=po)
    if od[:po] != nd[:pn]:
        fail('the bytes before the first member (a self-extractor stub) changed')
    if zn.testzip() is not None:
        fail('python zipfile finds a bad CRC')


def main():
    od, nd = open(orig_path, 'rb').read(), open(new_path, 'rb').read()
    if zipfile.is_zipfile(io.BytesIO(od)):
        check_zip(od, nd)
        plain = nd
    else:
        o, kind = decompress(od)
        n, kind2 = decompress(nd)
        if kind != kind2:
            fail('compression %s became %s' % (kind, kind2))
        if kind == 'gzip' and gz_members(od) != gz_members(nd):
            fail('gzip members: %d became %d' % (gz_members(od), gz_members(nd)))
        if o[:6] in (b'070701', b'070702', b'070707') or o[:2] in (b'\xc7\x71', b'\x71\xc7'):
            check_cpio(o, n, o[:6] == b'070702')
        else:
            check_tar(o, n)
        plain = n
    if MARK in plain:
        fail('removed content (%s) is still in the archive' % MARK.decode())
    if (PREFIX + '/').encode() in plain:
        fail('a removed member name is still in the archive')
    if errors:
        print('FAIL %s:\n  %s' % (orig_path, '\n  '.join(errors)))
        sys.exit(1)
    print('ok %s: %d removed, the rest kept exactly' % (orig_path.split('/')[-1], WANT))


main()
