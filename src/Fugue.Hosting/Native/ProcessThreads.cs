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
    /// <paramref name="pid"/>. Passes over /proc/pid/task until one finds no thread it has not seen: a thread
    /// created meanwhile by a changed thread inherits the setting, one created by a thread not yet changed shows up
    /// in the next pass. <paramref name="call"/> names the syscall in errors.
    /// </summary>
    public static void ForEach(int pid, Func<int, int> apply, string call)
    {
        var done = new HashSet<int>();
        for (int pass = 0; pass < 10; pass++)
        {
            var fresh = Threads(pid, call).Where(done.Add).ToList();
            if (fresh.Count == 0)
            {
                return;
            }
            foreach (int tid in fresh)
            {
                // A thread that exited meanwhile (ESRCH) needs nothing.
                if (apply(tid) != 0 && Posix.LastError is int errno && errno != Libc.ESRCH)
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
