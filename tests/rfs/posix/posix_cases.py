# POSIX behaviour cases, run by posix_suite_test.ts on a plain directory and on a replicated FUSE mount:
# each case prints what it observed (results and errno names, never inode numbers or absolute times)
# and the two outputs must be equal. `snapshot` prints the tree (what the secondary's copy is compared on).
# Usage: python3 posix_cases.py case <name> <dir>  |  python3 posix_cases.py list  |  snapshot <dir>
import ctypes, errno, json, os, stat, sys

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
out = []


def say(*a):
    out.append(" ".join(str(x) for x in a))


def err(f, *a, **k):
    """Runs f and returns 'ok' or the errno name it failed with."""
    try:
        r = f(*a, **k)
        return "ok" if r is None else r
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def write(p, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode=0o644):
    fd = os.open(p, flags, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(p):
    with open(p, "rb") as f:
        return f.read()


def renameat2(a, b, flags):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def mode(p):
    return oct(stat.S_IMODE(os.lstat(p).st_mode))


def case_create(d):
    p = f"{d}/f"
    say("excl new", err(lambda: os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640))))
    say("excl again", err(lambda: os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)))
    say("mode", mode(p), "size", os.stat(p).st_size)
    write(p, b"content", os.O_WRONLY)
    say("creat existing keeps", err(lambda: os.close(os.open(p, os.O_CREAT | os.O_WRONLY))), read(p))
    say("creat trunc", err(lambda: os.close(os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC))), read(p))
    say("open missing", err(lambda: os.open(f"{d}/missing", os.O_RDONLY)))
    say("create in missing dir", err(lambda: os.open(f"{d}/no/f", os.O_CREAT | os.O_WRONLY)))
    os.mkfifo(f"{d}/fifo", 0o600)
    say("fifo", stat.S_ISFIFO(os.lstat(f"{d}/fifo").st_mode), mode(f"{d}/fifo"))


def case_rename_over(d):
    write(f"{d}/a", b"A")
    write(f"{d}/b", b"B")
    say("file over file", err(os.rename, f"{d}/a", f"{d}/b"), read(f"{d}/b"), os.path.exists(f"{d}/a"))
    os.mkdir(f"{d}/d1"); os.mkdir(f"{d}/d2"); write(f"{d}/d1/x", b"x")
    say("dir over empty dir", err(os.rename, f"{d}/d1", f"{d}/d2"), sorted(os.listdir(f"{d}/d2")))
    os.mkdir(f"{d}/d3"); write(f"{d}/d3/y", b"y")
    say("dir over non-empty dir", err(os.rename, f"{d}/d2", f"{d}/d3"))
    say("file over dir", err(os.rename, f"{d}/b", f"{d}/d3"))
    say("dir over file", err(os.rename, f"{d}/d3", f"{d}/b"))
    say("dir into itself", err(os.rename, f"{d}/d3", f"{d}/d3/sub"))
    write(f"{d}/c", b"C")
    say("noreplace", err(renameat2, f"{d}/c", f"{d}/b", 1), read(f"{d}/b"))
    say("exchange", err(renameat2, f"{d}/c", f"{d}/b", 2), read(f"{d}/b"), read(f"{d}/c"))
    say("missing source", err(os.rename, f"{d}/nothing", f"{d}/b"))
    say("listing", sorted(os.listdir(d)))


def case_hard_links(d):
    write(f"{d}/a", b"one")
    say("link", err(os.link, f"{d}/a", f"{d}/b"), os.stat(f"{d}/a").st_nlink)
    write(f"{d}/b", b"two", os.O_WRONLY | os.O_TRUNC)
    say("seen through the other name", read(f"{d}/a"))
    say("link exists", err(os.link, f"{d}/a", f"{d}/b"))
    os.mkdir(f"{d}/dir")
    say("link to dir", err(os.link, f"{d}/dir", f"{d}/dir2"))
    os.unlink(f"{d}/a")
    say("after unlink", os.stat(f"{d}/b").st_nlink, read(f"{d}/b"))


def case_symlinks(d):
    write(f"{d}/t", b"target")
    os.symlink("t", f"{d}/l")
    os.symlink("missing", f"{d}/dangling")
    os.symlink("/" + "x" * 200, f"{d}/abs")
    say("readlink", os.readlink(f"{d}/l"), os.readlink(f"{d}/abs")[:5])
    say("islink", os.path.islink(f"{d}/l"), "through", read(f"{d}/l"))
    say("dangling", err(os.stat, f"{d}/dangling"), os.path.lexists(f"{d}/dangling"))
    say("nofollow", err(os.open, f"{d}/l", os.O_RDONLY | os.O_NOFOLLOW))
    say("symlink exists", err(os.symlink, "t", f"{d}/l"))
    write(f"{d}/l", b"via link", os.O_WRONLY | os.O_TRUNC)
    say("write via link", read(f"{d}/t"))
    os.rename(f"{d}/l", f"{d}/l2")
    say("renamed link", os.readlink(f"{d}/l2"))


def case_sparse(d):
    p = f"{d}/s"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
    os.pwrite(fd, b"start", 0)
    os.pwrite(fd, b"end", 10 << 20)
    os.fsync(fd)
    os.close(fd)
    st = os.stat(p)
    say("size", st.st_size, "sparse", st.st_blocks * 512 < (1 << 20))
    fd = os.open(p, os.O_RDONLY)
    say("hole reads zeros", os.pread(fd, 8, 5 << 20) == b"\0" * 8)
    say("seek data", err(os.lseek, fd, 4096, os.SEEK_DATA), "seek hole", err(os.lseek, fd, 0, os.SEEK_HOLE))
    os.close(fd)
    os.truncate(p, 20 << 20)
    say("extended sparse", os.stat(p).st_size, os.stat(p).st_blocks * 512 < (1 << 20))


def case_truncate(d):
    p = f"{d}/t"
    write(p, b"0123456789")
    os.truncate(p, 4)
    say("shrink", read(p))
    os.truncate(p, 8)
    say("grow", read(p))
    fd = os.open(p, os.O_RDWR)
    os.ftruncate(fd, 2)
    os.write(fd, b"ab")  # the offset stays at 0
    os.close(fd)
    say("ftruncate then write", read(p))
    say("truncate missing", err(os.truncate, f"{d}/missing", 0))
    os.mkdir(f"{d}/dir")
    say("truncate dir", err(os.truncate, f"{d}/dir", 0))
    say("negative", err(os.truncate, p, -1))


def case_o_append(d):
    p = f"{d}/log"
    write(p, b"head\n")
    a = os.open(p, os.O_WRONLY | os.O_APPEND)
    b = os.open(p, os.O_WRONLY | os.O_APPEND)
    for i in range(5):
        os.write(a, f"a{i}\n".encode())
        os.write(b, f"b{i}\n".encode())
    os.pwrite(a, b"pwrite-appends\n", 0)  # Linux: pwrite on O_APPEND appends
    os.close(a); os.close(b)
    say("content", read(p).decode().split("\n"))
    c = os.open(p, os.O_RDWR | os.O_APPEND)
    os.lseek(c, 0, os.SEEK_SET)
    os.write(c, b"tail\n")
    say("lseek ignored", read(p).decode().endswith("tail\n"), os.lseek(c, 0, os.SEEK_CUR) == os.stat(p).st_size)
    os.close(c)


def as_user(uid, gid, f):
    """Runs f in a child with the given ids; returns what it returned (or the errno name)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups([]); os.setgid(gid); os.setuid(uid)
            res = err(f)
        except Exception as e:
            res = repr(e)
        os.write(w, json.dumps(res).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    os.waitpid(pid, 0)
    return json.loads(data)


def case_permissions(d):
    os.chmod(d, 0o777)
    write(f"{d}/ro", b"x", mode=0o444)
    os.chmod(f"{d}/ro", 0o444)
    say("ro mode", mode(f"{d}/ro"))
    say("nobody writes ro", as_user(65534, 65534, lambda: os.open(f"{d}/ro", os.O_WRONLY)))
    say("nobody reads ro", as_user(65534, 65534, lambda: read(f"{d}/ro").decode()))
    write(f"{d}/secret", b"s", mode=0o600)
    os.chmod(f"{d}/secret", 0o600)
    say("nobody reads 600", as_user(65534, 65534, lambda: read(f"{d}/secret")))
    os.chown(f"{d}/secret", 1234, 5678)
    st = os.stat(f"{d}/secret")
    say("chown", st.st_uid, st.st_gid)
    say("nobody creates", as_user(65534, 65534, lambda: write(f"{d}/by_nobody", b"n")))
    st = os.stat(f"{d}/by_nobody")
    say("owner of new file", st.st_uid, st.st_gid, mode(f"{d}/by_nobody"))
    write(f"{d}/suid", b"#!/bin/sh\n", mode=0o755)
    os.chmod(f"{d}/suid", 0o4755)
    os.chmod(f"{d}", 0o777)
    os.chmod(f"{d}/suid", 0o4777)
    say("nobody appends to suid", as_user(65534, 65534, lambda: write(f"{d}/suid", b"x", os.O_WRONLY | os.O_APPEND)))
    say("suid dropped", mode(f"{d}/suid"))
    os.mkdir(f"{d}/sgid", 0o2775)
    os.chmod(f"{d}/sgid", 0o2775)
    os.chown(f"{d}/sgid", 0, 4321)
    os.mkdir(f"{d}/sgid/sub")
    write(f"{d}/sgid/file", b"f")
    say("setgid dir inherits", os.stat(f"{d}/sgid/sub").st_gid, mode(f"{d}/sgid/sub"), os.stat(f"{d}/sgid/file").st_gid)
    os.mkdir(f"{d}/sticky_test")
    os.chmod(f"{d}/sticky_test", 0o1777)
    write(f"{d}/sticky_test/root_file", b"r")
    say("sticky: nobody removes root's file", as_user(65534, 65534, lambda: os.unlink(f"{d}/sticky_test/root_file")))
    old = os.umask(0o077)
    os.mkdir(f"{d}/umasked")
    write(f"{d}/umasked_file", b"u", mode=0o666)
    os.umask(old)
    say("umask", mode(f"{d}/umasked"), mode(f"{d}/umasked_file"))


def case_timestamps(d):
    p = f"{d}/t"
    write(p, b"x")
    os.utime(p, ns=(1_000_000_123, 2_000_000_456))
    st = os.stat(p)
    say("explicit", st.st_atime_ns, st.st_mtime_ns)
    os.utime(p, ns=(st.st_atime_ns, 1_600_000_000_999_999_999))
    say("mtime only", os.stat(p).st_mtime_ns)
    before = os.stat(p).st_mtime_ns
    write(p, b"y", os.O_WRONLY | os.O_APPEND)
    say("write moves mtime", os.stat(p).st_mtime_ns > before)
    os.symlink("t", f"{d}/l")
    os.utime(f"{d}/l", ns=(3_000_000_000, 4_000_000_000), follow_symlinks=False)
    say("symlink times", os.lstat(f"{d}/l").st_mtime_ns, os.stat(p).st_mtime_ns != 4_000_000_000)
    os.mkdir(f"{d}/dir")
    os.utime(f"{d}/dir", ns=(5_000_000_000, 6_000_000_000))
    say("dir times", os.stat(f"{d}/dir").st_mtime_ns)
    say("utime missing", err(os.utime, f"{d}/missing", ns=(1, 1)))


def case_xattrs(d):
    p = f"{d}/x"
    write(p, b"x")
    os.setxattr(p, "user.a", b"1")
    os.setxattr(p, "user.b", b"\0binary\xff" * 100)
    say("list", sorted(os.listxattr(p)))
    say("get", os.getxattr(p, "user.a"), len(os.getxattr(p, "user.b")))
    say("create existing", err(os.setxattr, p, "user.a", b"2", os.XATTR_CREATE))
    say("replace missing", err(os.setxattr, p, "user.c", b"2", os.XATTR_REPLACE))
    say("replace", err(os.setxattr, p, "user.a", b"22", os.XATTR_REPLACE), os.getxattr(p, "user.a"))
    say("get missing", err(os.getxattr, p, "user.zz"))
    os.removexattr(p, "user.b")
    say("after remove", sorted(os.listxattr(p)), err(os.removexattr, p, "user.b"))
    os.mkdir(f"{d}/dir")
    os.setxattr(f"{d}/dir", "user.d", b"dir value")
    say("on dir", os.getxattr(f"{d}/dir", "user.d"))
    say("empty value", err(os.setxattr, p, "user.empty", b""), os.getxattr(p, "user.empty"))


def case_long_names(d):
    n255 = "n" * 255
    say("255 bytes", err(write, f"{d}/{n255}", b"x"), os.path.exists(f"{d}/{n255}"))
    say("256 bytes", err(write, f"{d}/{'n' * 256}", b"x"))
    u = "é" * 127 + "x"  # 255 bytes of UTF-8
    say("255 bytes utf-8", err(write, f"{d}/{u}", b"u"), read(f"{d}/{u}"))
    say("256 bytes utf-8", err(write, f"{d}/{'é' * 128}", b"u"))
    say("dir 255", err(os.mkdir, f"{d}/{'d' * 255}"))
    say("rename to 255", err(os.rename, f"{d}/{u}", f"{d}/{'r' * 255}"))
    say("symlink 255", err(os.symlink, "target", f"{d}/{'s' * 255}"))
    say("names", sorted(len(x.encode()) for x in os.listdir(d)))


def case_deep_trees(d):
    p = d
    for i in range(60):
        p = f"{p}/level{i:02d}"
        os.mkdir(p)
    write(f"{p}/bottom", b"deep")
    say("bottom", read(f"{p}/bottom"), len(p) - len(d))
    for r, dirs, files in os.walk(f"{d}/level00"):
        pass
    say("walk depth", sum(1 for _ in os.walk(f"{d}/level00")))
    os.rename(f"{d}/level00", f"{d}/moved")
    say("after moving the top", read(f"{d}/moved" + p[len(d) + len("/level00"):] + "/bottom"))
    wide = f"{d}/wide"
    os.mkdir(wide)
    for i in range(300):
        write(f"{wide}/f{i:03d}", str(i).encode())
    say("wide", len(os.listdir(wide)), read(f"{wide}/f299"))
    say("rmdir non-empty", err(os.rmdir, wide))


def case_unlink_open(d):
    p = f"{d}/u"
    write(p, b"before")
    fd = os.open(p, os.O_RDWR)
    os.unlink(p)
    os.pwrite(fd, b"after unlink", 0)
    say("still readable", os.pread(fd, 12, 0), os.path.exists(p), os.fstat(fd).st_nlink)
    os.close(fd)
    write(p, b"new file")
    say("new file", read(p))
    say("unlink dir", err(os.unlink, d))
    say("rmdir file", err(os.rmdir, p))


# Entries whose times were set explicitly and not changed since: the only times both copies share
# (a write's mtime is the moment each node applied it).
EXPLICIT_TIMES = ("timestamps/l", "timestamps/dir")

CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}


def snapshot(root):
    """path -> type, mode, owner, size, content hash, link target, nlink, xattrs, sparse; times only when asked."""
    import hashlib
    tree = {}
    for dirpath, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            e = {"mode": oct(st.st_mode), "owner": f"{st.st_uid}:{st.st_gid}"}
            if stat.S_ISLNK(st.st_mode):
                e["target"] = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                e.update(size=st.st_size, nlink=st.st_nlink, sha=hashlib.sha256(read(p)).hexdigest()[:16],
                         sparse=st.st_blocks * 512 < st.st_size - (1 << 20))
            if not stat.S_ISLNK(st.st_mode):
                e["xattrs"] = {k: os.getxattr(p, k).hex() for k in sorted(os.listxattr(p)) if k.startswith("user.")}
            if rel.endswith(EXPLICIT_TIMES):
                e["mtime"] = st.st_mtime_ns
            tree[rel] = e
    return tree


if __name__ == "__main__":
    if sys.argv[1] == "list":
        print("\n".join(CASES))
    elif sys.argv[1] == "snapshot":
        print(json.dumps(snapshot(sys.argv[2]), sort_keys=True, indent=0))
    else:
        name, d = sys.argv[2], sys.argv[3]
        os.umask(0o022)
        os.mkdir(d)
        CASES[name](d)
        print("\n".join(out))
