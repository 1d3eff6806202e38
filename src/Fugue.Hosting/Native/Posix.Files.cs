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
}
