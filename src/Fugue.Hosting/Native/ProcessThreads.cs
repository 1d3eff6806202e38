using System.Globalization;

namespace Fugue.Hosting.Native;

/// <summary>
/// Applies a per-thread setting (CPU affinity, nice) to every thread of a process. Linux keeps both per thread, and
/// a new thread starts with the values of the thread that created it.
/// </summary>
internal static class ProcessThreads
{
    /// <summary>
    /// Calls <paramref name="apply"/> (a syscall on a thread id: 0 or -1 with errno) for every thread of
    /// <paramref name="pid"/> that <paramref name="has"/> says lacks the setting (it says true of a thread that is
    /// gone), and returns how many it changed. Passes over /proc/pid/task until one finds no thread it has not seen: a
    /// thread created meanwhile by a changed thread inherits the setting, one created by a thread not yet changed shows
    /// up in the next pass. One whose creation had begun before its creator was changed shows up only once made, which
    /// may be after the last pass: the caller passes again later (<c>ThreadSettings</c>). <paramref name="call"/> names
    /// the syscall in errors.
    /// </summary>
    public static int ForEach(int pid, Func<int, bool> has, Func<int, int> apply, string call)
    {
        var done = new HashSet<int>();
        int changed = 0;
        for (int pass = 0; pass < 10; pass++)
        {
            var fresh = Threads(pid, call).Where(done.Add).ToList();
            if (fresh.Count == 0)
            {
                return changed;
            }
            foreach (int tid in fresh.Where(tid => !has(tid)))
            {
                // A thread that exited meanwhile (ESRCH) needs nothing.
                if (apply(tid) == 0)
                {
                    changed++;
                }
                else if (Posix.LastError is int errno && errno != Libc.ESRCH)
                {
                    throw Posix.Error($"{call}({tid})", errno);
                }
            }
        }
        throw new IOException($"{call}: the threads of {pid} kept multiplying");
    }

    private static List<int> Threads(int pid, string call)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task").Select(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture)).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            throw Posix.Error($"{call}({pid})", Libc.ESRCH);
        }
    }
}
