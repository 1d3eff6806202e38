using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Fugue.Hosting.Native;

/// <summary>Files and directories: opened, checked and prepared without following links another user could plant.</summary>
internal static unsafe partial class Posix
{
    private const int MFD_ALLOW_SEALING = 2, F_ADD_SEALS = 1033, F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4;

    /// <summary>
    /// An anonymous, close-on-exec shared-memory file of <paramref name="size"/> zero bytes (memfd_create), sealed at
    /// that size: a process that maps it (a worker, running the app's bugs) cannot shrink it under the others' maps,
    /// where every access past the end would fault.
    /// </summary>
    public static int CreateSharedMemory(string name, long size)
    {
        int fd;
        fixed (byte* n = Encoding.UTF8.GetBytes(name + "\0"))
        {
            fd = memfd_create(n, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        }
        if (fd < 0)
        {
            throw Error("memfd_create", errno_get());
        }
        if (ftruncate(fd, size) != 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        {
            int errno = errno_get();
            Close(fd);
            throw Error("sealing the shared memory", errno);
        }
        return fd;
    }

    /// <summary>Maps <paramref name="size"/> bytes of <paramref name="fd"/> read-write and shared with every process that maps it.</summary>
    public static void* MapShared(int fd, long size)
    {
        void* address = mmap(null, (size_t)(ulong)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        return address == MAP_FAILED ? throw Error("mmap", errno_get()) : address;
    }

    public static bool IsSocket(string path)
    {
        stat st;
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK;
        }
    }

    /// <summary>Whether two paths name the same file (device and inode), symlinks followed.</summary>
    public static bool SameFile(string a, string b)
    {
        stat sa, sb;
        byte[] pa = Encoding.UTF8.GetBytes(a + "\0"), pb = Encoding.UTF8.GetBytes(b + "\0");
        fixed (byte* x = pa, y = pb)
        {
            return LibC.stat(x, &sa) == 0 && LibC.stat(y, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
        }
    }

    /// <summary>
    /// Opens a log file for appending (created 0644), or fails naming the option and the path. A worker's user who can
    /// write into the directory must not make a root master write elsewhere or hang: the open follows no symlink and
    /// does not block (a FIFO would hold the master's loop in open(2)), and the file must be a regular file of this
    /// user's with one link (not one planted or hard-linked by another), or a character device, in a directory that not
    /// everyone may write.
    /// </summary>
    public static int OpenForAppend(string path, string option)
    {
        string Refused(string why) => $"Fugue:{option} = '{path}': {why}.";
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        byte[] dir = Encoding.UTF8.GetBytes((System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? "/") + "\0");
        fixed (byte* p = bytes, d = dir)
        {
            stat st;
            if (LibC.stat(d, &st) == 0 && (st.st_mode & 0x2) != 0 && (st.st_mode & 0x200) == 0)
            {
                throw new InvalidOperationException(Refused("its directory is writable by every user and has no sticky bit: anyone could replace the file"));
            }
            int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0x1A4 /* 0644 */);
            if (fd < 0)
            {
                throw new InvalidOperationException(Refused($"cannot be opened for writing: {new System.ComponentModel.Win32Exception(errno_get()).Message}"));
            }
            bool device = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR; // /dev/null, a terminal: only root makes one
            string? wrong = device ? null
                : (st.st_mode & S_IFMT) != S_IFREG ? "is not a regular file (nor a character device)"
                : (int)(uint)st.st_uid != EffectiveUid ? $"belongs to uid {(uint)st.st_uid}, not to this master's user (uid {EffectiveUid})"
                : st.st_nlink != 1 ? $"has {st.st_nlink} hard links (a log file has one)"
                : null;
            if (wrong is null && fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) != 0)
            {
                wrong = $"cannot be made blocking: {new System.ComponentModel.Win32Exception(errno_get()).Message}";
            }
            if (wrong is not null)
            {
                Close(fd);
                throw new InvalidOperationException(Refused(wrong));
            }
            return fd;
        }
    }

    /// <summary>
    /// The first <paramref name="max"/> bytes of a regular file, opened without following a symlink or blocking; null
    /// when it is not there or not a regular file (a link or a FIFO someone else put at a path the master reads).
    /// </summary>
    public static byte[]? ReadRegularFile(string path, int max)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
            if (fd < 0)
            {
                return null;
            }
            try
            {
                stat st;
                byte[] content = new byte[max];
                long n;
                fixed (byte* c = content)
                {
                    n = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? read(fd, c, max) : -1;
                }
                return n < 0 ? null : content[..(int)n];
            }
            finally
            {
                Close(fd);
            }
        }
    }

    /// <summary>
    /// Opens a file for reading and writing (created with <paramref name="mode"/>, 0644 unless given) without following
    /// a symlink at its last component; <paramref name="exclusive"/>: it must not exist yet.
    /// </summary>
    public static Microsoft.Win32.SafeHandles.SafeFileHandle OpenNoFollow(string path, bool exclusive, uint mode = 0x1A4)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_EXCL : 0), (mode_t)mode);
            return fd < 0 ? throw Error($"open({path})", errno_get()) : new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        }
    }

    /// <summary>Takes flock(LOCK_EX) without waiting; false when another open file holds it.</summary>
    public static bool TryLockExclusive(System.Runtime.InteropServices.SafeHandle file)
    {
        const int LOCK_EX = 2, LOCK_NB = 4, EWOULDBLOCK = 11;
        if (Libc.flock((int)file.DangerousGetHandle(), LOCK_EX | LOCK_NB) == 0)
        {
            return true;
        }
        int errno = LastError;
        return errno == EWOULDBLOCK ? false : throw Error("flock", errno);
    }

    /// <summary>
    /// Reopens <paramref name="path"/> and points every descriptor of this process that refers to the file
    /// <paramref name="fd"/> refers to (now renamed, say) at the new one.
    /// </summary>
    public static void Repoint(int fd, string path)
    {
        stat old;
        if (fstat(fd, &old) != 0)
        {
            throw Error("fstat", errno_get());
        }
        int fresh = OpenForAppend(path, "LogFile");
        try
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                if (int.TryParse(System.IO.Path.GetFileName(entry), out int candidate) && candidate != fresh && candidate > 0)
                {
                    stat st;
                    if (fstat(candidate, &st) == 0 && st.st_dev == old.st_dev && st.st_ino == old.st_ino)
                    {
                        Duplicate(fresh, candidate);
                    }
                }
            }
        }
        finally
        {
            Close(fresh);
        }
    }

    /// <summary>
    /// Makes <paramref name="path"/> a directory that only this user can enter (mode 0700), or checks that it is one:
    /// not a symlink, owned by this user; a mode wider than 0700 is narrowed. Anything else is an
    /// <see cref="IOException"/>: another user made it first (on a shared /tmp), and nothing in it can be trusted.
    /// </summary>
    public static void EnsurePrivateDirectory(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (mkdir(p, (mode_t)0x1C0u) != 0 && errno_get() != EEXIST)
            {
                throw Error($"mkdir({path})", errno_get());
            }
            stat st;
            if (lstat(p, &st) != 0)
            {
                throw Error($"lstat({path})", errno_get());
            }
            if ((st.st_mode & S_IFMT) != S_IFDIR)
            {
                throw new IOException($"{path} is not a directory (a symlink or a file is there)");
            }
            if ((int)(uint)st.st_uid != EffectiveUid)
            {
                throw new IOException($"{path} belongs to uid {(uint)st.st_uid}, not to this user (uid {EffectiveUid})");
            }
            if ((st.st_mode & 0x3F) != 0 && chmod(p, (mode_t)0x1C0u) != 0)
            {
                throw Error($"chmod({path})", errno_get());
            }
        }
    }

    /// <summary>The device and inode <paramref name="path"/> names (not following a symlink); null when nothing is there.</summary>
    public static (ulong Device, ulong Inode)? FileIdentity(string path) => Entry(path)?.Identity;

    /// <summary>What an open file is (fstat).</summary>
    public static FileEntry Entry(System.Runtime.InteropServices.SafeHandle file)
    {
        stat st;
        return fstat((int)file.DangerousGetHandle(), &st) == 0 ? EntryOf(st) : throw Error("fstat", errno_get());
    }

    /// <summary>What <paramref name="path"/> itself is (lstat: a symlink is not followed); null when nothing is there.</summary>
    public static FileEntry? Entry(string path)
    {
        stat st;
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            return lstat(p, &st) == 0 ? EntryOf(st) : null;
        }
    }

    private static FileEntry EntryOf(in stat st) => new((uint)st.st_uid, (uint)st.st_mode, (ulong)st.st_dev, (ulong)st.st_ino);

    /// <summary>
    /// Makes <paramref name="path"/> a directory (its parents too) of <paramref name="owner"/> (null: this process's),
    /// mode 0700, acting on the directory itself. A root master prepares directories for workers whose user may own a
    /// parent: each component is opened from the one before it without following a link (openat with O_NOFOLLOW), a
    /// missing one made there (mkdirat), so that no link planted anywhere on the path turns root's mkdir, chown and
    /// chmod onto /etc. A link above the last component is followed only when root or this process's user owns it
    /// (<c>/var/run -&gt; /run</c>); at the last component, never.
    /// </summary>
    public static void PrepareDirectory(string path, Credentials? owner)
    {
        int fd = OpenDirectoryAlong(System.IO.Path.GetFullPath(path), create: true);
        try
        {
            if (owner is not null && fchown(fd, owner.Uid, owner.Gid) != 0)
            {
                throw Error($"fchown({path})", errno_get());
            }
            if (fchmod(fd, (mode_t)0x1C0u) != 0)
            {
                throw Error($"fchmod({path})", errno_get());
            }
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>
    /// An O_PATH descriptor of the unix socket at <paramref name="path"/> itself, reached as <see cref="PrepareDirectory"/>
    /// reaches a directory (making nothing): connected to through <c>/proc/self/fd/N</c>, no link decides which socket
    /// that is.
    /// </summary>
    public static int OpenSocketNoFollow(string path)
    {
        const int O_PATH = 0x200000;
        string full = System.IO.Path.GetFullPath(path);
        int dir = OpenDirectoryAlong(System.IO.Path.GetDirectoryName(full) ?? "/", create: false);
        try
        {
            fixed (byte* p = Encoding.UTF8.GetBytes(System.IO.Path.GetFileName(full) + "\0"))
            {
                int fd = openat(dir, p, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
                if (fd < 0)
                {
                    throw Error($"open({full})", errno_get());
                }
                stat st;
                if (fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != S_IFSOCK)
                {
                    Close(fd);
                    throw new IOException($"{full} is not a socket (a link, or a file, is there)");
                }
                return fd;
            }
        }
        finally
        {
            Close(dir);
        }
    }

    private static int OpenDirectoryAlong(string path, bool create)
    {
        const int MaxLinks = 40, O_PATH = 0x200000;
        var rest = new Stack<string>();
        PushComponents(rest, path);
        int dir = OpenRoot();
        string walked = "";
        int links = 0;
        try
        {
            while (rest.TryPop(out string? name))
            {
                bool last = rest.Count == 0;
                byte[] bytes = Encoding.UTF8.GetBytes(name + "\0");
                fixed (byte* p = bytes)
                {
                    int next = openat(dir, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
                    int errno = next < 0 ? errno_get() : 0;
                    if (next >= 0)
                    {
                        Close(dir);
                        dir = next;
                        walked += "/" + name;
                        continue;
                    }
                    if (errno == ENOENT && create)
                    {
                        if (mkdirat(dir, p, (mode_t)0x1EDu) != 0 && errno_get() != EEXIST)
                        {
                            throw Error($"mkdir({walked}/{name})", errno_get());
                        }
                        rest.Push(name);
                        continue;
                    }
                    if (errno != ELOOP && errno != ENOTDIR)
                    {
                        throw Error($"open({walked}/{name})", errno);
                    }
                    // A link, or not a directory: only a link root or this user made, above the last component, is followed.
                    int at = openat(dir, p, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
                    stat st;
                    bool trustedLink = at >= 0 && fstat(at, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
                        && ((uint)st.st_uid == 0 || (int)(uint)st.st_uid == EffectiveUid);
                    if (at >= 0)
                    {
                        Close(at);
                    }
                    if (last || !trustedLink || ++links > MaxLinks)
                    {
                        throw new IOException($"{walked}/{name} is not a directory of its own (a symlink {(last ? "" : "another user made ")}or a file is there)");
                    }
                    byte[] target = new byte[4096];
                    long n;
                    fixed (byte* t = target)
                    {
                        n = (long)readlinkat(dir, p, t, (size_t)(ulong)target.Length);
                    }
                    if (n <= 0)
                    {
                        throw Error($"readlink({walked}/{name})", errno_get());
                    }
                    string linked = Encoding.UTF8.GetString(target, 0, (int)n);
                    if (linked.StartsWith('/'))
                    {
                        Close(dir);
                        dir = OpenRoot();
                        walked = "";
                    }
                    PushComponents(rest, linked);
                }
            }
            return dir;
        }
        catch
        {
            Close(dir);
            throw;
        }
    }

    private static int OpenRoot()
    {
        fixed (byte* root = "/\0"u8)
        {
            int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            return fd >= 0 ? fd : throw Error("open(/)", errno_get());
        }
    }

    /// <summary>Puts the names of <paramref name="path"/> (less "." and empty ones) on <paramref name="rest"/>, the first on top: what a walk one component at a time takes next, a link's target spliced in front.</summary>
    public static void PushComponents(Stack<string> rest, string path)
    {
        string[] names = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = names.Length - 1; i >= 0; i--)
        {
            if (names[i] != ".")
            {
                rest.Push(names[i]);
            }
        }
    }
}
