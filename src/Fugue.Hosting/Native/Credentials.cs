using System.Globalization;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Fugue.Hosting.Native;

/// <summary>
/// Whom a worker runs as: the User/Group options resolved to ids, with the user's supplementary groups. A worker
/// takes them on before any app code runs (supplementary groups, then gid, then uid); the master keeps its own.
/// </summary>
internal sealed unsafe record Credentials(uint Uid, uint Gid, IReadOnlyList<uint> Groups)
{
    /// <summary>Resolves names or numeric ids; null when nothing is asked for. Errors name the key and the value.</summary>
    public static Credentials? Resolve(string? user, string? group)
    {
        if (string.IsNullOrEmpty(user) && string.IsNullOrEmpty(group))
        {
            return null;
        }
        uint uid = LibC.getuid(), gid = LibC.getgid();
        string? userName = null;
        if (!string.IsNullOrEmpty(user))
        {
            var pw = uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? Libc.getpwuid(id) : Libc.getpwnam(user);
            if (pw is null)
            {
                if (!uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out id))
                {
                    throw new InvalidOperationException($"Fugue:User = '{user}': no such user.");
                }
                uid = id; // a numeric id with no passwd entry (containers): no supplementary groups
                gid = id;
            }
            else
            {
                uid = pw->Uid;
                gid = pw->Gid;
                userName = Marshal.PtrToStringUTF8((nint)pw->Name);
            }
        }
        if (!string.IsNullOrEmpty(group))
        {
            var gr = uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? null : Libc.getgrnam(group);
            if (gr is null && !uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out id))
            {
                throw new InvalidOperationException($"Fugue:Group = '{group}': no such group.");
            }
            gid = gr is null ? id : gr->Gid;
        }
        var groups = userName is null ? new List<uint> { gid } : GroupsOf(userName, gid);
        if (LibC.geteuid() != 0 && (uid != LibC.geteuid() || gid != LibC.getegid()))
        {
            string asked = string.IsNullOrEmpty(user) ? $"Fugue:Group = '{group}'" : $"Fugue:User = '{user}'";
            throw new InvalidOperationException($"{asked}: changing user or group needs root (the master runs as uid {LibC.geteuid()}).");
        }
        if (string.IsNullOrEmpty(user) && uid == 0)
        {
            // setgid alone leaves root root: the workers would have every power and only look unprivileged.
            throw new InvalidOperationException($"Fugue:Group = '{group}': without Fugue:User the workers keep uid 0 (root); set Fugue:User too.");
        }
        return new Credentials(uid, gid, groups);
    }

    private static List<uint> GroupsOf(string user, uint gid)
    {
        int count = 64;
        while (true)
        {
            uint[] groups = new uint[count];
            fixed (uint* p = groups)
            {
                int n = count;
                if (Libc.getgrouplist(user, gid, p, &n) >= 0)
                {
                    return [.. groups.Take(n)];
                }
                count = n > count ? n : count * 2;
            }
        }
    }

    /// <summary>
    /// The login variables of this user's account (HOME, USER, LOGNAME, and SHELL where the account names one), so that
    /// a worker does not keep the master's (root's HOME, where it can write nothing: ASP.NET Core's DataProtection key
    /// ring, user secrets and caches look there). None for a numeric uid with no account.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> AccountEnvironment()
    {
        var pw = Libc.getpwuid(Uid);
        if (pw is null)
        {
            return [];
        }
        string name = Marshal.PtrToStringUTF8((nint)pw->Name) ?? "";
        var env = new List<KeyValuePair<string, string>>
        {
            new("HOME", Marshal.PtrToStringUTF8((nint)pw->Dir) ?? "/"),
            new("USER", name),
            new("LOGNAME", name),
        };
        if (Marshal.PtrToStringUTF8((nint)pw->Shell) is { Length: > 0 } shell)
        {
            env.Add(new("SHELL", shell));
        }
        return env;
    }

    public static Credentials Parse(string value)
    {
        string[] parts = value.Split(':');
        return new Credentials(uint.Parse(parts[0], CultureInfo.InvariantCulture), uint.Parse(parts[1], CultureInfo.InvariantCulture),
            parts[2].Split('/', StringSplitOptions.RemoveEmptyEntries).Select(g => uint.Parse(g, CultureInfo.InvariantCulture)).ToList());
    }

    /// <summary>
    /// Becomes this user (supplementary groups, then gid, then uid) unless it is already, then no new privileges; and
    /// checks that root cannot be taken back.
    /// </summary>
    public void Apply()
    {
        if (LibC.getuid() != Uid || LibC.geteuid() != Uid || LibC.getgid() != Gid || LibC.getegid() != Gid)
        {
            Become();
        }
        // Nothing it runs regains what it gave up: no set-user-id program, no file capability.
        if (Libc.prctl(Libc.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        {
            throw Posix.Error("prctl(PR_SET_NO_NEW_PRIVS)", LibC.errno);
        }
        if (Uid != 0 && (LibC.setuid(0) == 0 || LibC.getuid() != Uid || LibC.geteuid() != Uid || LibC.getgid() != Gid || LibC.getegid() != Gid))
        {
            throw new InvalidOperationException($"the worker could not give up root for uid {Uid}, gid {Gid}: it stops rather than serve as root");
        }
    }

    private void Become()
    {
        uint[] groups = [.. Groups];
        fixed (uint* p = groups)
        {
            if (LibC.setgroups((size_t)(nuint)groups.Length, (gid_t*)p) != 0)
            {
                throw Posix.Error("setgroups", LibC.errno);
            }
        }
        if (LibC.setgid(Gid) != 0)
        {
            throw Posix.Error("setgid", LibC.errno);
        }
        if (LibC.setuid(Uid) != 0)
        {
            throw Posix.Error("setuid", LibC.errno);
        }
        // As a process started as this user is: the kernel made it undumpable at setuid, and so its /proc/self root's,
        // where it then could not even name itself (/proc/self/comm) for ps.
        if (Libc.prctl(Libc.PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
        {
            throw Posix.Error("prctl(PR_SET_DUMPABLE)", LibC.errno);
        }
    }
}
