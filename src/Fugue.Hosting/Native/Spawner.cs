using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace Fugue.Hosting.Native;

/// <summary>
/// Starts a child with posix_spawn so that it gets exactly stdin from /dev/null, stdout and stderr (the master's, or
/// the given ends) plus the listed descriptors, at 3, 4, 5...
/// Process.Start would leak every non-close-on-exec descriptor of the master and could not place them.
/// The child gets a process group of its own, so a Ctrl+C or a hang-up of the terminal (sent to the foreground group)
/// reaches the master only, which then drains the workers; it stays in the master's session, which the kernel's
/// autogroup scheduler (sched(7)) makes one scheduling group: a session of its own would give each worker as much CPU
/// as every other session of the machine together, and confine its nice to itself. Every signal is at its default
/// action, the signal mask empty. With a nice, the child starts at it from its first instruction: the calling thread
/// takes it for the call (posix_spawn has no attribute for it, and the child is cloned from the calling thread), so the
/// caller must be allowed to go back.
/// </summary>
internal static unsafe class Spawner
{
    /// <summary>Where the listed descriptors start: after stdin, stdout and stderr.</summary>
    public const int FirstInherited = 3;

    public static int Spawn(string path, IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment,
        IReadOnlyList<int> inheritedFds, string? workingDirectory, (int Stdout, int Stderr)? output = null, int? nice = null)
    {
        var strings = new List<nint>();
        void* actions = NativeMemory.AllocZeroed(Libc.SpawnStructSize);
        void* attr = NativeMemory.AllocZeroed(Libc.SpawnStructSize);
        try
        {
            Check(Libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            Check(Libc.posix_spawnattr_init(attr), "posix_spawnattr_init");

            byte* devNull = Utf8("/dev/null", strings);
            Check(Libc.posix_spawn_file_actions_addopen(actions, 0, devNull, Tmds.Linux.LibC.O_RDONLY, 0), "posix_spawn_file_actions_addopen");
            if (output is var (stdout, stderr))
            {
                Check(Libc.posix_spawn_file_actions_adddup2(actions, stdout, 1), "posix_spawn_file_actions_adddup2");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, stderr, 2), "posix_spawn_file_actions_adddup2");
            }

            // Two steps, so that no source is overwritten before it is copied: first every source to a number
            // above all of them, then down to FirstInherited + i. dup2 to a different number always clears close-on-exec.
            int scratch = Math.Max(inheritedFds.DefaultIfEmpty(0).Max(), FirstInherited + inheritedFds.Count) + 1;
            for (int i = 0; i < inheritedFds.Count; i++)
            {
                Check(Libc.posix_spawn_file_actions_adddup2(actions, inheritedFds[i], scratch + i), "posix_spawn_file_actions_adddup2");
            }
            for (int i = 0; i < inheritedFds.Count; i++)
            {
                Check(Libc.posix_spawn_file_actions_adddup2(actions, scratch + i, FirstInherited + i), "posix_spawn_file_actions_adddup2");
            }
            Check(Libc.posix_spawn_file_actions_addclosefrom_np(actions, FirstInherited + inheritedFds.Count), "posix_spawn_file_actions_addclosefrom_np");
            if (workingDirectory is not null)
            {
                byte* dir = Utf8(workingDirectory, strings);
                Check(Libc.posix_spawn_file_actions_addchdir_np(actions, dir), "posix_spawn_file_actions_addchdir_np");
            }

            sigset_t all, none;
            _ = LibC.sigfillset(&all);
            _ = LibC.sigemptyset(&none);
            Check(Libc.posix_spawnattr_setsigdefault(attr, &all), "posix_spawnattr_setsigdefault");
            Check(Libc.posix_spawnattr_setsigmask(attr, &none), "posix_spawnattr_setsigmask");
            Check(Libc.posix_spawnattr_setpgroup(attr, 0), "posix_spawnattr_setpgroup");
            Check(Libc.posix_spawnattr_setflags(attr,
                Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETPGROUP), "posix_spawnattr_setflags");

            byte** args = NullTerminated(argv, strings);
            byte** env = NullTerminated(environment.Select(kv => kv.Key + "=" + kv.Value).ToList(), strings);
            byte* file = Utf8(path, strings);
            int pid;
            int r;
            if (nice is int lent)
            {
                int own = Nice.OfCallingThread();
                Nice.SetCallingThread(lent);
                try
                {
                    r = Libc.posix_spawn(&pid, file, actions, attr, args, env);
                }
                finally
                {
                    Nice.SetCallingThread(own);
                }
            }
            else
            {
                r = Libc.posix_spawn(&pid, file, actions, attr, args, env);
            }
            if (r != 0)
            {
                throw Posix.Error($"posix_spawn({path})", r);
            }
            return pid;
        }
        finally
        {
            _ = Libc.posix_spawn_file_actions_destroy(actions);
            _ = Libc.posix_spawnattr_destroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            foreach (nint p in strings)
            {
                NativeMemory.Free((void*)p);
            }
        }
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw Posix.Error(call, result);
        }
    }

    private static byte* Utf8(string s, List<nint> owned)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        owned.Add((nint)p);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }

    private static byte** NullTerminated(IReadOnlyList<string> items, List<nint> owned)
    {
        byte** array = (byte**)NativeMemory.AllocZeroed((nuint)(items.Count + 1), (nuint)sizeof(byte*));
        owned.Add((nint)array);
        for (int i = 0; i < items.Count; i++)
        {
            array[i] = Utf8(items[i], owned);
        }
        return array;
    }
}
