using Fugue.Hosting.Native;

namespace Fugue.Hosting.Master.Trust;

/// <summary>
/// Whether root may load a file, as OpenSSH's StrictModes decides: the file and every directory on its way from /
/// (through every symlink, each read where it stands rather than resolved at once) must be owned by root and writable
/// by no one else. Mode bits alone say nothing: the owner of a read-only file can make it writable at any time. A
/// sticky directory above (like /tmp) may be writable by all, since no one else can remove or rename what root keeps
/// there; the file, and every directory in a tree that is checked, may not.
/// </summary>
internal static class FileTrust
{
    private const int MaxLinks = 40;

    /// <summary>What makes <paramref name="path"/> untrusted; null when root alone can change it, or it does not exist.</summary>
    public static UntrustedFile? Check(string path) => Walk(path, out _);

    /// <summary>As <see cref="Check"/>, and for a directory everything below it (links followed, each target checked).</summary>
    public static UntrustedFile? CheckTree(string path) => Tree(path, new HashSet<string>(StringComparer.Ordinal));

    private static UntrustedFile? Tree(string path, HashSet<string> seen) =>
        Walk(path, out string? resolved) ?? (resolved is null ? null : Below(resolved, seen));

    /// <summary>What is inside <paramref name="directory"/> (itself judged already): each entry, each link's whole way.</summary>
    private static UntrustedFile? Below(string directory, HashSet<string> seen)
    {
        if (Posix.Entry(directory) is not { IsDirectory: true } || !seen.Add(directory))
        {
            return null;
        }
        foreach (string child in Entries(directory))
        {
            var below = Posix.Entry(child) switch
            {
                null => null,
                { IsLink: true } => Tree(child, seen),
                { IsDirectory: true } entry => Judge(child, entry, last: true) ?? Below(child, seen),
                { } entry => Judge(child, entry, last: true),
            };
            if (below is not null)
            {
                return below;
            }
        }
        return null;
    }

    /// <summary>Follows <paramref name="path"/> one component at a time, judging each entry it passes.</summary>
    private static UntrustedFile? Walk(string path, out string? resolved)
    {
        resolved = null;
        var rest = new Stack<string>();
        Posix.PushComponents(rest, path.StartsWith('/') ? path : Environment.CurrentDirectory + "/" + path);
        string current = "/";
        if (Posix.Entry(current) is { } root && Judge(current, root, last: rest.Count == 0) is { } untrustedRoot)
        {
            return untrustedRoot;
        }
        int links = 0;
        while (rest.TryPop(out string? name))
        {
            if (name == "..")
            {
                current = System.IO.Path.GetDirectoryName(current) ?? "/";
                continue;
            }
            string next = current == "/" ? "/" + name : current + "/" + name;
            if (Posix.Entry(next) is not { } entry)
            {
                return null;
            }
            if (entry.IsLink)
            {
                // The link itself is as safe as the directory it stands in, judged already; its target is judged next.
                if (++links > MaxLinks || new FileInfo(next).LinkTarget is not { } target)
                {
                    return new UntrustedFile(next, entry.Owner, entry.Permissions, "is a symbolic link that cannot be followed");
                }
                if (target.StartsWith('/'))
                {
                    current = "/";
                }
                Posix.PushComponents(rest, target);
                continue;
            }
            if (Judge(next, entry, last: rest.Count == 0) is { } untrusted)
            {
                return untrusted;
            }
            current = next;
        }
        resolved = current;
        return null;
    }

    private static UntrustedFile? Judge(string path, FileEntry entry, bool last) =>
        entry.Owner != 0 ? new UntrustedFile(path, entry.Owner, entry.Permissions, "is not owned by root")
        : entry.WritableByOthers && !(entry.IsDirectory && entry.Sticky && !last)
            ? new UntrustedFile(path, entry.Owner, entry.Permissions, "is writable by others than root")
        : null;

    /// <summary>The entries of <paramref name="directory"/> that match <paramref name="pattern"/>; none when it cannot be read.</summary>
    public static string[] Entries(string directory, string pattern = "*")
    {
        try
        {
            return Directory.GetFileSystemEntries(directory, pattern);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
