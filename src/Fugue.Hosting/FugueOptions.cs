
namespace Fugue.Hosting;

/// <summary>
/// Settings of a Fugue cluster, bound from the <c>Fugue</c> configuration section (appsettings.json,
/// <c>Fugue__Workers=8</c> in the environment, <c>--Fugue:Workers=8</c> on the command line) and then from the
/// delegate given to <c>UseFugue</c>.
/// </summary>
public sealed class FugueOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Fugue";

    /// <summary>False runs the app as one ordinary process, as if <c>UseFugue</c> had not been called.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How many worker processes the master keeps running; 0 keeps only the sockets open. Default: <c>WEB_CONCURRENCY</c>
    /// from the environment (the convention of Gunicorn, Uvicorn and Heroku) if set, else one per CPU this process may
    /// use (its affinity mask and its cgroup's CPU quota, as <see cref="Environment.ProcessorCount"/> counts them).
    /// </summary>
    public int Workers { get; set; } = DefaultWorkers;

    /// <summary>
    /// How many spare workers the master keeps started, warmed up (<see cref="WarmUpPath"/>) and ready but not
    /// accepting, besides <see cref="Workers"/>. When a worker dies, a ready spare takes its slot at once and starts
    /// accepting, instead of a new process that starts, on CPUs the load keeps busy, while the others carry its share;
    /// then another spare starts. Each costs a worker's memory, not its CPU. Spares start once every slot has served,
    /// and not during a rolling restart or a re-exec: each generation has its own. A spare's
    /// <see cref="IFugue.WorkerId"/> is 0 until it takes a slot. Default 0.
    /// </summary>
    public int SpareWorkers { get; set; }

    /// <summary>The most <see cref="SpareWorkers"/> there may be: each holds a worker's memory.</summary>
    internal const int MaxSpareWorkers = 8;

    /// <summary>The environment variable that sets the default of <see cref="Workers"/>.</summary>
    internal const string ConcurrencyVariable = "WEB_CONCURRENCY";

    /// <summary><c>WEB_CONCURRENCY</c> if it holds a whole number of 1 or more, else the usable CPUs.</summary>
    internal static int DefaultWorkers => Concurrency(Environment.GetEnvironmentVariable(ConcurrencyVariable)) ?? Environment.ProcessorCount;

    /// <summary>A <c>WEB_CONCURRENCY</c> value as a worker count; null unless a whole number of 1 or more.</summary>
    internal static int? Concurrency(string? value) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= 1 ? n : null;

    /// <summary>
    /// Addresses the master binds and hands to every worker: <c>http://host:port</c>, <c>https://host:port</c>
    /// (IPv4, <c>[IPv6]</c>, <c>localhost</c>, <c>*</c>; port 0 picks a free port) or <c>unix:/path</c>.
    /// Empty: the app's own URLs (<c>urls</c>, <c>ASPNETCORE_URLS</c>, <c>--urls</c>, <c>http_ports</c>), else http://localhost:5000.
    /// </summary>
    public IList<string> Listen { get; } = new List<string>();

    /// <summary>The workers' current directory. Default: the master's.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>
    /// The user the workers run as (a name or a numeric uid), with its supplementary groups; the master keeps its own,
    /// so it can bind port 80 and still serve from unprivileged workers. Needs a root master. Default: the master's.
    /// </summary>
    public string? User { get; set; }

    /// <summary>The workers' group (a name or a numeric gid). Default: the primary group of <see cref="User"/>.</summary>
    public string? Group { get; set; }

    /// <summary>
    /// Where the master and the workers write (their stdout and stderr; the master relays the workers' lines whole).
    /// Reopened on USR1. Default: none, the master's own stdout and stderr.
    /// </summary>
    public string? LogFile { get; set; }

    /// <summary>Where the master's own output goes, when it should not go to <see cref="LogFile"/>. Reopened on USR1.</summary>
    public string? MasterLogFile { get; set; }

    /// <summary>
    /// The directory under which each user's private directory <c>fugue-&lt;uid&gt;</c> is made: the master's default
    /// control socket (<see cref="ControlSocket"/>) and the workers' own sockets are there. Default: the system temporary
    /// directory; for a master running as root, <c>/run</c>, where only root can make it (under a shared <c>/tmp</c>, any
    /// user could make <c>fugue-0</c> first, and the master would refuse to start).
    /// </summary>
    public string? TempPath { get; set; }

    /// <summary>
    /// The master's control socket, which <c>&lt;app&gt; fugue status</c> (and reload, reexec, scale, stop,
    /// reopen-logs) talks to: the same path across USR2 (the new master takes it over). Default:
    /// <c>&lt;TempPath&gt;/fugue-&lt;uid&gt;/&lt;application name&gt;.sock</c> (<c>/run/fugue-0/...</c> for root), in a
    /// directory only the master's user can enter. Read when the master starts.
    /// </summary>
    public string? ControlSocket { get; set; }

    /// <summary>
    /// Where every worker of every generation keeps the one ASP.NET Core DataProtection key ring (cookies, antiforgery
    /// tokens, TempData), unless the app configures DataProtection's persistence itself. Default: with <see cref="User"/>
    /// or <see cref="Group"/>, <c>/var/lib/fugue/&lt;app&gt;/DataProtection-Keys</c>, made by the master for the workers'
    /// user (mode 0700); otherwise ASP.NET Core's own <c>$HOME/.aspnet/DataProtection-Keys</c>. Read when the master
    /// starts.
    /// </summary>
    public string? DataProtectionKeysPath { get; set; }

    /// <summary>The master's pid file: written once it serves, locked against a second master, removed on exit. Default: none.</summary>
    public string? PidFile { get; set; }

    /// <summary>
    /// How long any starting worker may take to become ready, and a new master (USR2) twice that. A late replacement
    /// (rolling restart) or new master abandons the change and the old ones keep serving; a late worker starting in its
    /// own slot is killed, and its slot backs off as after a crash. Default 60 s.
    /// </summary>
    public TimeSpan WorkerBootTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A worker that sends no heartbeat for this long (deadlock, thread-pool starvation, <c>kill -STOP</c>) is
    /// SIGKILLed and replaced. Workers send one every quarter of it or of <see cref="MasterPingInterval"/>,
    /// whichever is shorter. Default 60 s.
    /// </summary>
    public TimeSpan WorkerTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many slots a rolling restart (HUP) replaces at a time. Default 1.</summary>
    public int RollingRestartBatch { get; set; } = 1;

    /// <summary>How often a worker checks that its master is still there. Default 30 s.</summary>
    public TimeSpan MasterPingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a stopping worker may drain in-flight requests before the master kills it. Default 30 s.</summary>
    public TimeSpan WorkerKillTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a stopping worker keeps serving, answering HTTP/1.x with <c>Connection: close</c> so that keep-alive
    /// clients leave cleanly, before Kestrel stops. Default 1 s; must be less than <see cref="WorkerKillTimeout"/>.
    /// </summary>
    public TimeSpan LameDuckPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether the workers spread connections evenly: a worker holding more open connections than the least busy one
    /// waits up to 5 ms before its next accept, through a table of counts in shared memory. Without it, a burst of
    /// keep-alive connections goes to whichever worker wakes first. Default true; read when the master starts.
    /// </summary>
    public bool BalanceConnections { get; set; } = true;

    /// <summary>
    /// Whether the workers count their requests (by status class, in flight, duration) for the master's metrics and
    /// <c>fugue status</c>. Default true; a HUP applies it to the workers it starts.
    /// </summary>
    public bool CountRequests { get; set; } = true;

    /// <summary>
    /// Whether the metrics carry a series per serving worker for its requests (<c>fugue.worker.requests</c>,
    /// <c>fugue.worker.requests.in_flight</c>, tagged <c>fugue.worker.id</c>) beside the cluster's totals. Default
    /// false; read when the master starts.
    /// </summary>
    public bool PerWorkerMetrics { get; set; }

    /// <summary>
    /// Pins each worker, once it is ready, to its own share of the CPUs the master may run on, as nginx's
    /// <c>worker_cpu_affinity auto</c>: with at least as many workers as CPUs, worker i runs on CPU (i - 1) mod n;
    /// with fewer, on its own contiguous block of them. It starts on all of them, so that its runtime is sized
    /// for all of them and its start-up is as fast as unpinned. Worth it when the workers own the machine; leave it
    /// off when other busy processes share these CPUs, since a pinned worker cannot move away from them.
    /// Default false.
    /// </summary>
    public bool CpuAffinity { get; set; }

    /// <summary>
    /// A path (e.g. <c>/</c>) that a worker replacing a serving one (rolling restart, the first workers of a new
    /// master after USR2, or a crashed worker's replacement while another worker serves requests) requests
    /// <see cref="WarmUpRequests"/> times from itself, over a private loopback socket,
    /// before it accepts from the shared sockets and reports ready: the JIT work of its first requests happens while
    /// the old worker still carries the load, instead of in the clients' requests. Only GET requests, over plain HTTP.
    /// Every answer must be 2xx: a round with another answer is retried, and the worker is not ready meanwhile.
    /// Workers started when no other serves (first start, or the last one died) do not warm up: there the capacity is
    /// needed now; nor does a crashed worker's replacement when the others have served nothing for a second, since no
    /// client waits for it.
    /// Default: none, no warm-up.
    /// </summary>
    public string? WarmUpPath { get; set; }

    /// <summary>
    /// How many requests a warm-up round makes (8 at a time). A spare (<see cref="SpareWorkers"/>), or a replacement that
    /// starts on idle CPU time (<see cref="ReplacementIdleTime"/>), sends rounds until one in which the JIT compiled
    /// nothing, for at most a quarter of <see cref="WorkerBootTimeout"/>; any other worker sends one. Default 200.
    /// </summary>
    public int WarmUpRequests { get; set; } = 200;

    /// <summary>
    /// Routes each SignalR connection (hubs, connection handlers, Blazor Server circuits) to the worker that answered
    /// its negotiate request, so that SignalR's default clients work with several workers: the token the client sends
    /// back names that worker, and a worker that accepts a connection asking for another worker's token passes the
    /// connection to it. Only when the app maps hubs and runs more than one worker; plain-HTTP endpoints only (behind
    /// a proxy that terminates TLS). Default true.
    /// </summary>
    public bool HubAffinity { get; set; } = true;

    /// <summary>The default <see cref="ReadinessTag"/>.</summary>
    public const string DefaultReadinessTag = "ready";

    /// <summary>
    /// When the app registers health checks, a worker is ready (for the master: to take its slot, to end a HUP's
    /// replacement or a USR2's handover) only once the checks with this tag report Healthy (all checks, when none has
    /// it), retried until <see cref="WorkerBootTimeout"/>. Default <c>ready</c>.
    /// </summary>
    public string ReadinessTag { get; set; } = DefaultReadinessTag;

    /// <summary>
    /// How much lower (in nice steps, 0 to 19) the priority of a worker replacing a serving one (rolling restart, or
    /// the first workers of a new master after USR2) is while it starts and warms up; the master gives it the serving
    /// workers' priority back when it is ready, or after half of <see cref="WorkerBootTimeout"/> if it is not ready by
    /// then. A starting .NET process needs a quarter of a second of CPU or more, which would otherwise be taken from
    /// the workers serving meanwhile. Needs a master allowed to raise priority
    /// (root, CAP_SYS_NICE or RLIMIT_NICE); elsewhere replacements start at normal priority. 0 turns it off.
    /// Default 10; read when the master starts.
    /// </summary>
    public int ReplacementNice { get; set; } = 10;

    /// <summary>
    /// How long a replacement worker (rolling restart, recycle, spare) first runs idle, getting only the CPU time no
    /// serving thread wants, before it continues at <see cref="ReplacementNice"/>; it gets the serving priority when it
    /// is ready, as with <see cref="ReplacementNice"/> alone. Idle is a cgroup with <c>cpu.idle</c> (Linux 5.15 or later)
    /// that the master makes beside its own, when it may (root on cgroup v1; on v2 a cgroup delegated to it, such as
    /// systemd's <c>Delegate=yes</c>, holding no other processes, into a leaf of which it moves itself); else the idle
    /// scheduling class (SCHED_IDLE), which serves apps published with Native AOT only: CoreCLR starts each new thread in
    /// the class its creator had when the runtime first asked, the idle one, for the worker's life, so a master on
    /// CoreCLR without a group ignores this with a warning. For CPUs with time to spare. Applies when
    /// <see cref="ReplacementNice"/> does, to workers only. Default zero: off; read when the master starts.
    /// </summary>
    public TimeSpan ReplacementIdleTime { get; set; }

    /// <summary>
    /// A worker that has served this many requests (counted from its first accept; warm-up requests do not count) is
    /// recycled: a replacement takes its slot first (a ready spare, or a new worker once it is ready), then it drains.
    /// Gunicorn's <c>max_requests</c>. Default 0: off.
    /// </summary>
    public int MaxRequests { get; set; }

    /// <summary>
    /// Each worker adds a random number of requests from 0 to this to <see cref="MaxRequests"/>, so that workers
    /// started together are not recycled together. Default 0.
    /// </summary>
    public int MaxRequestsJitter { get; set; }

    /// <summary>
    /// A worker that has run this long is recycled, a replacement first (<see cref="MaxRequests"/>). Default: zero, off.
    /// </summary>
    public TimeSpan MaxLifetime { get; set; }

    /// <summary>Each worker adds a random time from zero to this to <see cref="MaxLifetime"/>. Default: zero.</summary>
    public TimeSpan MaxLifetimeJitter { get; set; }

    /// <summary>
    /// A worker younger than this is not recycled: its reason waits until it is this old, so that no setting can make a
    /// slot recycle in a loop. Default 10 s.
    /// </summary>
    public TimeSpan MinLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A worker whose private dirty memory (the pages only it has written: managed heap, native allocations, stacks;
    /// <c>Private_Dirty</c> plus <c>Swap</c> of <c>/proc/&lt;pid&gt;/smaps_rollup</c>) stays above this many bytes for
    /// two samples in a row, five seconds apart, is recycled, a replacement first. Code, mapped files and memory shared
    /// with other processes do not count: they are not the worker's to give back. Default 0: off.
    /// </summary>
    public long MemoryLimit { get; set; }

    /// <summary>
    /// How long a request may run. At the deadline its <c>RequestAborted</c> is cancelled (504 if nothing was written),
    /// as ASP.NET Core's request timeouts do; one still running <see cref="RequestTimeoutGrace"/> later makes its worker
    /// hung: the worker reports it (from a thread of its own), and the master takes it out of service at once (a ready
    /// spare or a new worker takes its slot), has its runtime write every thread's managed stacks to a file in
    /// <see cref="StacksPath"/> (named in the log) while that request still runs, and lets its other requests finish for
    /// up to <see cref="WorkerKillTimeout"/>. An endpoint's own <c>[RequestTimeout]</c> or <c>WithRequestTimeout</c> sets
    /// its deadline instead; WebSockets and other upgraded connections, <c>text/event-stream</c> responses, SignalR hubs
    /// and Blazor circuits, and endpoints with <c>[DisableRequestTimeout]</c> have none. Default: zero, off.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; }

    /// <summary>
    /// How long a request cancelled at its <see cref="RequestTimeout"/> may go on before its worker is hung: an app that
    /// honours <c>RequestAborted</c> ends it well within this and keeps its worker. Default: 5 seconds.
    /// </summary>
    public TimeSpan RequestTimeoutGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where workers' stacks are written (a request past <see cref="RequestTimeout"/>, a worker killed for
    /// <see cref="WorkerTimeout"/>, <c>fugue stacks N</c>): by each worker's own runtime, as the workers' user. Default:
    /// with <see cref="User"/>, <c>/var/lib/fugue/&lt;app&gt;/stacks</c>; otherwise <c>&lt;app&gt;-stacks</c> beside the
    /// default control socket, in <c>&lt;TempPath&gt;/fugue-&lt;uid&gt;/</c>. Made by the master for the workers' user (mode 0700) when first
    /// needed. Read when the master starts.
    /// </summary>
    public string? StacksPath { get; set; }

    /// <summary>
    /// How many stacks reports <see cref="StacksPath"/> keeps: before each capture the oldest are removed, so that with
    /// the new one at most this many remain. 0 keeps them all. Default 20. Read when the master starts.
    /// </summary>
    public int StacksKept { get; set; } = 20;

    /// <summary>How many workers may be recycled at once (replacements starting). Default 1.</summary>
    public int RecycleConcurrency { get; set; } = 1;

    /// <summary>
    /// After this many failed starts in a row in one slot (workers that exited or were killed before they were ready,
    /// or within a second of it: a crash at start, a boot timeout), the master stops the cluster and exits with status
    /// 1, so that systemd's <c>Restart=</c> or Kubernetes sees a failed service instead of one that backs off forever.
    /// A worker that served restarts at once and ends the run. Default 10; 0: never.
    /// </summary>
    public int MaxRestarts { get; set; } = 10;

    /// <summary>
    /// Runs in the master once every worker has reported ready for the first time (the seed's <c>started</c> callback).
    /// </summary>
    public Action<FugueReadyContext>? OnAllWorkersReady { get; set; }
}
