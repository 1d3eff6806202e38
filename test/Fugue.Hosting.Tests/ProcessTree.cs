using System.Globalization;
using System.Runtime.InteropServices;

namespace Fugue.Hosting.Tests;

/// <summary>What /proc says about processes, and signals sent by pid.</summary>
internal static partial class ProcessTree
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    /// <summary>The environment a process started with, one "NAME=value" each.</summary>
    public static string[] Environ(int pid) => File.ReadAllText($"/proc/{pid}/environ").Split('\0');

    public static void Kill(int pid, int signal) => _ = SysKill(pid, signal);

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => State(pid) is not ('Z' or '?');

    /// <summary>
    /// The fields of /proc/pid/stat after the command name (which may hold spaces and parentheses): [0] state, [1] ppid,
    /// [2] pgrp, [3] session, [4] tty_nr, [11] utime, [12] stime, [16] nice, [19] starttime. Throws IOException when
    /// there is no such process.
    /// </summary>
    public static string[] StatFields(int pid) => FieldsAfterName(File.ReadAllText($"/proc/{pid}/stat"));

    private static string[] FieldsAfterName(string stat) => stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

    /// <summary>The state letter of /proc/pid/stat (R, S, T, Z...); '?' when there is no such process.</summary>
    public static char State(int pid)
    {
        try
        {
            return StatFields(pid)[0][0];
        }
        catch (IOException)
        {
            return '?';
        }
    }

    public static int ParentOf(int pid)
    {
        try
        {
            return int.Parse(StatFields(pid)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>The thread ids of a process (/proc/pid/task).</summary>
    public static List<int> Threads(int pid) =>
        Directory.GetDirectories($"/proc/{pid}/task").Select(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture)).ToList();

    /// <summary>A thread's nice: the 19th field of its stat (17th after the name in parentheses); null once it is gone.</summary>
    public static int? Nice(int pid, int tid) => ThreadStat(pid, tid, 16);

    /// <summary>A thread's scheduling policy (0 SCHED_OTHER, 5 SCHED_IDLE): the 41st field of its stat; null once it is gone.</summary>
    public static int? Policy(int pid, int tid) => ThreadStat(pid, tid, 38);

    /// <summary>
    /// <paramref name="read"/> (<see cref="Nice"/>, <see cref="Policy"/>) of every thread of <paramref name="pid"/> that
    /// is there (one that ends meanwhile, e.g. a retiring pool thread, is left out).
    /// </summary>
    public static List<int> OfEveryThread(int pid, Func<int, int, int?> read) => Threads(pid).Select(tid => read(pid, tid)).OfType<int>().ToList();

    private static int? ThreadStat(int pid, int tid, int afterName)
    {
        try
        {
            return int.Parse(FieldsAfterName(File.ReadAllText($"/proc/{pid}/task/{tid}/stat"))[afterName], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The live (not zombie) children of a process.</summary>
    public static long RssKiB(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            System.Globalization.CultureInfo.InvariantCulture);

    public static List<int> Children(int pid) => AllChildren(pid).Where(IsAlive).ToList();

    private static IEnumerable<int> AllChildren(int pid) => All().Where(p => ParentOf(p) == pid);

    /// <summary>Every process on the machine.</summary>
    private static IEnumerable<int> All() =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(n => n!.All(char.IsDigit))
            .Select(n => int.Parse(n!, CultureInfo.InvariantCulture));

    /// <summary>The processes whose environment holds <paramref name="entry"/> (<c>NAME=value</c>), among those this user may read.</summary>
    public static List<int> WithEnvironment(string entry) => All().Where(pid =>
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains(entry);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // gone meanwhile, or another user's
        }
    }).ToList();

    /// <summary>Zombies anywhere below a process: children that exited and nobody reaped.</summary>
    public static List<int> Zombies(int pid)
    {
        var zombies = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.Count > 0)
        {
            foreach (int child in AllChildren(queue.Dequeue()))
            {
                if (State(child) == 'Z')
                {
                    zombies.Add(child);
                }
                queue.Enqueue(child);
            }
        }
        return zombies;
    }

    public static List<int> Descendants(int pid)
    {
        var result = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.Count > 0)
        {
            foreach (int child in Children(queue.Dequeue()))
            {
                result.Add(child);
                queue.Enqueue(child);
            }
        }
        return result;
    }

    /// <summary>Socket inodes open in a process, by descriptor number.</summary>
    public static Dictionary<int, string> Fds(int pid)
    {
        var result = new Dictionary<int, string>();
        foreach (string fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                result[int.Parse(Path.GetFileName(fd), CultureInfo.InvariantCulture)] = new FileInfo(fd).LinkTarget ?? "";
            }
            catch (IOException)
            {
            }
        }
        return result;
    }
}
