using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Fugue.Hosting.Tests;

/// <summary>
/// A Fugue master started by a test, with its output captured line by line. Disposing it kills the master and
/// every process below it, whatever state the test left them in.
/// </summary>
internal sealed partial class MasterProcess : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _changed = new(0);
    private int _openStreams = 2;
    private bool _disposed;

    private MasterProcess(Process process, string tempPath)
    {
        _process = process;
        TempPath = tempPath;
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) => Signal();
    }

    public int Pid => _process.Id;

    /// <summary>This master's own TempPath (its control socket), removed with it.</summary>
    public string TempPath { get; }

    public Process Process => _process;

    /// <summary>Starts an app (by name: TestApp, HelloWeb, TcpEcho) with Fugue settings in its environment.</summary>
    public static MasterProcess Start(string app, IDictionary<string, string>? env = null, string? arguments = null, string? fileName = null,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName ?? Apps.Executable(app))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Apps.Directory(app),
        };
        if (arguments is not null)
        {
            info.Arguments = arguments;
        }
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        info.Environment["Logging__LogLevel__Default"] = "Information";
        info.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        info.Environment["Fugue__Workers"] = "2";
        info.Environment["Fugue__Listen__0"] = "http://127.0.0.1:0";
        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment["DOTNET_TieredPGO"] = "0";
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }
        var temp = Directory.CreateTempSubdirectory("fugue-test-").FullName;
        if (!info.Environment.ContainsKey("Fugue__TempPath"))
        {
            info.Environment["Fugue__TempPath"] = temp;
        }
        return new MasterProcess(Process.Start(info)!, temp);
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            Interlocked.Decrement(ref _openStreams);
        }
        else
        {
            lock (_lines)
            {
                _lines.Add(line);
            }
        }
        Signal();
    }

    /// <summary>Wakes the waiters; the readers may still deliver a line after Dispose, which then goes nowhere.</summary>
    private void Signal()
    {
        lock (_changed)
        {
            if (!_disposed)
            {
                _changed.Release();
            }
        }
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public string Output => string.Join('\n', Lines);

    /// <summary>Waits until a line matches; fails with the whole output when the deadline passes first.</summary>
    public string WaitForLine(string pattern, TimeSpan? deadline = null, int skip = 0)
    {
        var regex = new Regex(pattern);
        return WaitFor(() => Lines.Where(l => regex.IsMatch(l)).Skip(skip).FirstOrDefault(), $"a line matching /{pattern}/", deadline);
    }

    public T WaitFor<T>(Func<T?> probe, string what, TimeSpan? deadline = null)
    {
        var stopwatch = Stopwatch.StartNew();
        var limit = deadline ?? Deadline;
        while (true)
        {
            var value = probe();
            if (value is not null && !(value is bool b && !b))
            {
                return value;
            }
            var left = limit - stopwatch.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Waited {limit.TotalSeconds}s for {what}. Output:\n{Output}");
            }
            _changed.Wait(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>The first http URL the master says it listens on.</summary>
    public string WaitForUrl(string scheme = "http")
    {
        string line = WaitForLine($"listening on {scheme}://");
        return UrlPattern().Match(line).Groups[1].Value.Replace("[::]", "[::1]", StringComparison.Ordinal);
    }

    public void WaitForAllReady(int workers) => WaitForLine($"All {workers} workers ready");

    /// <summary>The worker pids the master logged as started, by worker id (latest start wins).</summary>
    public Dictionary<int, int> StartedWorkers()
    {
        var result = new Dictionary<int, int>();
        foreach (var line in Lines)
        {
            var m = StartedPattern().Match(line);
            if (m.Success)
            {
                result[int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)] = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }
        return result;
    }

    public int CountLines(string pattern) => Lines.Count(l => Regex.IsMatch(l, pattern));

    /// <summary>The pattern of a line the master logged with event <paramref name="id"/>, optionally about one child.</summary>
    public static string Event(int id, int? pid = null) => $@"\[{id}\] " + (pid is int p ? $@".*\(pid {p}\)" : "");

    /// <summary>Waits for a line the master logged with event <paramref name="id"/> (and about <paramref name="pid"/>).</summary>
    public string WaitForEvent(int id, int? pid = null, int skip = 0) => WaitForLine(Event(id, pid), skip: skip);

    public int CountEvents(int id, int? pid = null) => CountLines(Event(id, pid));

    public void Signal(int signal) => ProcessTree.Kill(Pid, signal);

    /// <summary>Runs <paramref name="check"/> now, after a HUP's roll, and after a USR2's handover (this master gone).</summary>
    public async Task AcrossReloadsAsync(Func<Task> check)
    {
        await check();
        Signal(1);
        WaitForLine("Rolling restart to generation 2 done");
        await check();
        Signal(12);
        WaitForLine(@"Master \d+ took over");
        if (!WaitForExit())
        {
            throw new TimeoutException($"The old master {Pid} did not exit after the USR2. Output:\n{Output}");
        }
        await check();
    }

    /// <summary>
    /// Waits for the master to exit, then (briefly) for the rest of its output: workers share its stdout and may
    /// keep the pipe open a moment longer.
    /// </summary>
    public bool WaitForExit(TimeSpan? deadline = null)
    {
        if (!_process.WaitForExit(deadline ?? Deadline))
        {
            return false;
        }
        var drain = Stopwatch.StartNew();
        while (Volatile.Read(ref _openStreams) > 0 && drain.Elapsed < TimeSpan.FromSeconds(5))
        {
            _changed.Wait(TimeSpan.FromMilliseconds(50));
        }
        return true;
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Every process of this cluster, ever: the master, its descendants, and every master and worker it logged
    /// (a new master from USR2 is not a descendant once the old one has exited).
    /// </summary>
    private IEnumerable<int> AllPids() =>
        new[] { Pid }
            .Concat(ProcessTree.Descendants(Pid))
            .Concat(Lines.SelectMany(l => AnyPid().Matches(l)).Select(m => int.Parse(m.Groups[1].Value + m.Groups[2].Value, CultureInfo.InvariantCulture))) // only pids this cluster started
            .Distinct();

    public void Dispose()
    {
        var ours = AllPids().Where(pid => pid != Environment.ProcessId && ProcessTree.IsAlive(pid) && IsOurs(pid)).ToList();
        foreach (int pid in ours)
        {
            ProcessTree.Kill(pid, 9);
        }
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit(TimeSpan.FromSeconds(30));
        WaitFor(() => ours.All(pid => !ProcessTree.IsAlive(pid)) ? (bool?)true : null, "every process of the cluster to be gone", TimeSpan.FromSeconds(30));
        _process.Dispose();
        lock (_changed)
        {
            _disposed = true;
            _changed.Dispose();
        }
        Directory.Delete(TempPath, recursive: true);
    }

    /// <summary>A pid from the log is only killed if it still runs one of the test apps (pids are reused).</summary>
    private static bool IsOurs(int pid)
    {
        try
        {
            string cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains("Fugue.Hosting.TestApp", StringComparison.Ordinal) || cmdline.Contains("Fugue.Hosting.WebApp", StringComparison.Ordinal)
                || cmdline.Contains("HelloWeb", StringComparison.Ordinal)
                || cmdline.Contains("TcpEcho", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"Worker \d+ \(pid (\d+)\) started|Master (\d+) listening")]
    private static partial Regex AnyPid();

    [GeneratedRegex(@"listening on (\S+)")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"Worker (\d+) \(pid (\d+)\) started")]
    private static partial Regex StartedPattern();
}
