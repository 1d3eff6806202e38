using System.Diagnostics;
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
    private readonly List<LogEvent> _events = [];
    private readonly SemaphoreSlim _changed = new(0);
    private int _openStreams = 2;
    private bool _disposed;

    private readonly ProcessStartInfo _info;

    private MasterProcess(Process process, ProcessStartInfo info, string tempPath)
    {
        _process = process;
        _info = info;
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

    /// <summary>
    /// Starts an app (by name: TestApp, HelloWeb, TcpEcho) with Fugue settings in its environment. With
    /// <paramref name="activate"/>, under <c>systemd-socket-activate</c> with those arguments (<c>-l address</c>...): it
    /// execs the app, same pid, at the first connection.
    /// </summary>
    public static MasterProcess Start(string app, IDictionary<string, string>? env = null, string? arguments = null, string? fileName = null,
        string? workingDirectory = null, IReadOnlyList<string>? activate = null)
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
        info.Environment["Logging__Console__FormatterName"] = "json"; // one line per event, its arguments typed: see LogEvent
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
        if (env?.ContainsKey("Fugue__TempPath") != true) // given as null: the master's own default
        {
            info.Environment["Fugue__TempPath"] = temp;
        }
        if (activate is not null)
        {
            UnderSocketActivation(info, activate);
        }
        return new MasterProcess(Process.Start(info)!, info, temp);
    }

    /// <summary>
    /// systemd-socket-activate passes the app only the variables given with -E: all of them, here, but for the names
    /// it refuses (a '.', as in Logging__LogLevel__Microsoft.AspNetCore).
    /// </summary>
    private static void UnderSocketActivation(ProcessStartInfo info, IReadOnlyList<string> activate)
    {
        if (info.Arguments.Length > 0)
        {
            throw new ArgumentException("an activated app takes no arguments here", nameof(activate));
        }
        string app = info.FileName;
        info.FileName = "systemd-socket-activate";
        foreach (string argument in activate)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in info.Environment)
        {
            if (value is not null && !key.Contains('.', StringComparison.Ordinal))
            {
                info.ArgumentList.Add($"--setenv={key}={value}");
            }
        }
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(app);
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            Interlocked.Decrement(ref _openStreams);
        }
        else
        {
            var logged = LogEvent.Parse(line);
            lock (_lines)
            {
                _lines.Add(line);
                if (logged is not null)
                {
                    _events.Add(logged);
                }
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

    /// <summary>Every log event Fugue wrote in this cluster (the master's, its successors' and the workers').</summary>
    public IReadOnlyList<LogEvent> Events
    {
        get
        {
            lock (_lines)
            {
                return [.. _events.Where(e => e.IsFugue)];
            }
        }
    }

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

    /// <summary>The first URL of <paramref name="scheme"/> the master says it listens on.</summary>
    public string WaitForUrl(string scheme = "http") =>
        WaitForEvent(MasterEvents.Listening, e => e.Text("Url").StartsWith(scheme + "://", StringComparison.Ordinal)).Text("Url")
            .Replace("[::]", "[::1]", StringComparison.Ordinal);

    public LogEvent WaitForAllReady(int workers, int skip = 0) => WaitForEvent(MasterEvents.AllReady, e => e.Int("Count") == workers, skip);

    /// <summary>The worker pids the master logged as started in a slot or given one (a spare), by worker id (latest wins).</summary>
    public Dictionary<int, int> StartedWorkers()
    {
        var result = new Dictionary<int, int>();
        foreach (var e in Events.Where(e => e.Id is MasterEvents.WorkerStarted or MasterEvents.ReplacementStarted or MasterEvents.SparePromoted))
        {
            result[e.Int("WorkerId")] = e.Int("Pid");
        }
        return result;
    }

    public int CountLines(string pattern) => Lines.Count(l => Regex.IsMatch(l, pattern));

    /// <summary>Waits for an event Fugue logged with <paramref name="id"/> that <paramref name="where"/> accepts.</summary>
    public LogEvent WaitForEvent(int id, Func<LogEvent, bool>? where = null, int skip = 0) =>
        WaitFor(() => Events.Where(e => e.Id == id && (where is null || where(e))).Skip(skip).FirstOrDefault(), $"event {id}", null);

    /// <summary>Waits for an event Fugue logged with <paramref name="id"/> about the process <paramref name="pid"/>.</summary>
    public LogEvent WaitForEvent(int id, int pid, int skip = 0) => WaitForEvent(id, e => e.About(pid), skip);

    public int CountEvents(int id, Func<LogEvent, bool>? where = null) => Events.Count(e => e.Id == id && (where is null || where(e)));

    public int CountEvents(int id, int pid) => CountEvents(id, e => e.About(pid));

    public LogEvent WaitForRollDone(int generation) => WaitForEvent(MasterEvents.RollDone, e => e.Int("Generation") == generation);

    /// <summary>Waits for a new master to take over (from <paramref name="from"/>, if given); returns its pid.</summary>
    public int WaitForTakeOver(int? from = null) => WaitForEvent(MasterEvents.TookOver, e => from is null || e.Int("OldPid") == from).Int("Pid");

    /// <summary>Waits for the USR2 just sent to start a new master; returns its pid.</summary>
    public int WaitForSuccessor(int skip = 0) => WaitForEvent(MasterEvents.ReexecStarted, skip: skip).Int("NewPid");

    public void Signal(int signal) => ProcessTree.Kill(Pid, signal);

    /// <summary>
    /// Runs <c>&lt;app&gt; fugue &lt;arguments&gt;</c> with this master's environment (so its configuration), as the user
    /// <paramref name="asUid"/> if given; returns its exit code and output.
    /// </summary>
    public (int ExitCode, string Out, string Err) Fugue(string arguments, int? asUid = null)
    {
        string app = _info.FileName == "/bin/sh" || _info.FileName.EndsWith("setpriv", StringComparison.Ordinal) || _info.FileName.EndsWith("unshare", StringComparison.Ordinal)
            ? throw new InvalidOperationException("the client runs the app itself")
            : _info.FileName;
        var info = new ProcessStartInfo(asUid is null ? app : "/usr/bin/setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _info.WorkingDirectory,
            Arguments = asUid is int u ? $"--reuid={u} --regid={u} --clear-groups \"{app}\" fugue {arguments}" : $"fugue {arguments}",
        };
        foreach (var (key, value) in _info.Environment)
        {
            info.Environment[key] = value;
        }
        using var client = Process.Start(info)!;
        var output = client.StandardOutput.ReadToEndAsync();
        var error = client.StandardError.ReadToEndAsync();
        if (!client.WaitForExit(Deadline))
        {
            client.Kill();
            throw new TimeoutException($"fugue {arguments} did not answer within {Deadline.TotalSeconds}s. Output:\n{Output}");
        }
        return (client.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs <paramref name="check"/> now, after a HUP's roll, and after a USR2's handover (this master gone).</summary>
    public async Task AcrossReloadsAsync(Func<Task> check)
    {
        await check();
        Signal(1);
        WaitForRollDone(2);
        await check();
        Signal(12);
        WaitForTakeOver(Pid);
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
            .Concat(Events.Where(e => e.Id is MasterEvents.WorkerStarted or MasterEvents.ReplacementStarted or MasterEvents.Listening).Select(e => e.Int("Pid"))) // only pids this cluster started
            // Every process of this cluster inherits its own TempPath, a new master orphaned by a failed USR2 test too
            // (no descendant of Pid once the old master exits).
            .Concat(_info.Environment.TryGetValue("Fugue__TempPath", out string? own) && own == TempPath ? ProcessTree.WithEnvironment($"Fugue__TempPath={TempPath}") : [])
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
                || cmdline.Contains("HelloWeb", StringComparison.Ordinal) || cmdline.Contains("HelloAot", StringComparison.Ordinal)
                || cmdline.Contains("TcpEcho", StringComparison.Ordinal) || cmdline.Contains("FugueBlazorApp", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
