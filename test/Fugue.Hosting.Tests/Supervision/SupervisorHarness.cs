using Fugue.Hosting.Configuration;
using Fugue.Hosting.Master;
using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>
/// A <see cref="Supervisor"/> driven in-process: fake processes, fake time, configuration in memory, and the log as
/// records with event ids. <see cref="Step"/> is one pass of the master's loop.
/// </summary>
internal sealed class SupervisorHarness : IDisposable
{

    public SupervisorHarness(Dictionary<string, string?>? settings = null, SuccessorIdentity? inherited = null, WorkerMemory? memory = null, int pid = 4242,
        ReplacementPriority? priority = null)
    {
        var values = new Dictionary<string, string?> { ["Fugue:Workers"] = "2" };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var reload = new ConfigurationReload(StartOptions.Read(new OptionsSource(Configuration, configure: null)), [new FugueOptionsValidator()]);
        Processes = new FakeMasterSystem(Time) { Memory = memory ?? new(null, null), Priority = priority };
        Supervisor = new Supervisor(reload.Initial(), reload, Processes, new SystemdNotifier(socketPath: null), Time, Logger,
            new MasterStart(pid, Inherited: inherited, Priority: priority, ReadyHook: pids => ReadyHookRuns.Add(pids)), metrics: Metrics);
        Supervisor.Start();
        Step();
    }

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-11-24T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    public FakeLogger Logger { get; } = new();

    /// <summary>This supervisor's meter (a MeterListener tells it from other tests' by the instance).</summary>
    public MasterMetrics Metrics { get; } = new();

    public IConfigurationRoot Configuration { get; }

    public FakeMasterSystem Processes { get; }

    public Supervisor Supervisor { get; }

    public List<IReadOnlyList<int>> ReadyHookRuns { get; } = [];

    /// <summary>One pass of the loop: the events, then the timers.</summary>
    public void Step(params MasterEvent[] events)
    {
        foreach (var e in events)
        {
            Supervisor.Handle(e);
        }
        Supervisor.Tick();
    }

    public void Signal(int signal) => Step(new MasterEvent.Signal(signal));

    /// <summary>Sends a control request (from pid 777) and returns where its answer lands.</summary>
    public RecordedReply Command(string line)
    {
        var reply = new RecordedReply();
        Step(new MasterEvent.Command(ControlRequest.Parse(line, out string error) ?? throw new ArgumentException(error), 777, reply));
        return reply;
    }

    public void Ready(params ChildProcess[] children) => Step(children.Select(c => (MasterEvent)new MasterEvent.FromWorker(c, ControlMessage.Ready)).ToArray());

    /// <summary>Time passes in steps of at most a second, the loop running after each (as the real loop's 1 s wait).</summary>
    public void Advance(TimeSpan span, Action? eachSecond = null)
    {
        for (var left = span; left > TimeSpan.Zero; left -= TimeSpan.FromSeconds(1))
        {
            Time.Advance(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
            eachSecond?.Invoke();
            Step();
        }
    }

    /// <summary>The workers serving in the slots, by slot order.</summary>
    public List<ChildProcess> Serving => Supervisor.Slots.Select(s => s.Current).OfType<ChildProcess>().ToList();

    public ChildProcess? Incoming(int slot) => Supervisor.Slots.FirstOrDefault(s => s.Id == slot)?.Incoming;

    /// <summary>Starts the cluster: every launched worker reports ready.</summary>
    public List<ChildProcess> StartAll()
    {
        var workers = Serving;
        Ready([.. workers]);
        Assert.Equal(1, Count(MasterEvents.AllReady));
        return workers;
    }

    public int Count(int eventId) => Logger.Collector.GetSnapshot().Count(r => r.Id.Id == eventId);

    public string Last(int eventId) => Logger.Collector.GetSnapshot().Last(r => r.Id.Id == eventId).Message;

    public void Dispose()
    {
        Processes.Dispose();
        Metrics.Dispose();
    }
}

/// <summary>A control request's answer, as the supervisor gave it (null while it is pending).</summary>
internal sealed class RecordedReply : IControlReply
{
    public ControlReply? Reply { get; private set; }

    public int Answers { get; private set; }

    public void Complete(ControlReply reply)
    {
        Reply = reply;
        Answers++;
    }
}
