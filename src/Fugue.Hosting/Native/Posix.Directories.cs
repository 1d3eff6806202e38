using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Fugue.Hosting.Native;

/// <summary>Directories walked one component at a time, without following a link another user could plant.</summary>
internal static unsafe partial class Posix
{
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
