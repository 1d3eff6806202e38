using System.Globalization;
using System.Runtime.InteropServices;

namespace Fugue.Hosting.Tests;

/// <summary>What /proc says about processes, and signals sent by pid.</summary>
internal static partial class ProcessTree
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    public static void Kill(int pid, int signal) => _ = SysKill(pid, signal);

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    public static int ParentOf(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    public static List<int> Children(int pid) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(n => n!.All(char.IsDigit))
            .Select(n => int.Parse(n!, CultureInfo.InvariantCulture))
            .Where(p => ParentOf(p) == pid && IsAlive(p))
            .ToList();

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
