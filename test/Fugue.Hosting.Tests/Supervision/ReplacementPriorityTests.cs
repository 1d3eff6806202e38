using Fugue.Hosting.Master;
using Fugue.Hosting.Native;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>
/// Fugue:ReplacementIdleTime and ReplacementNice as the supervisor applies them: a replacement worker starts in the
/// idle class, leaves it for its lower nice when not ready in time, and gets the serving priority when it is ready.
/// </summary>
public sealed class ReplacementPriorityTests
{
    private static readonly Dictionary<string, string?> OneWorker = new() { ["Fugue:Workers"] = "1", ["Fugue:WorkerBootTimeout"] = "00:00:20" };

    [Fact]
    public void A_replacement_not_ready_in_its_idle_time_continues_at_its_nice_and_gets_the_serving_one_when_ready()
    {
        using var h = new SupervisorHarness(OneWorker, priority: new ReplacementPriority(0, 10, TimeSpan.FromSeconds(3)));
        var replacement = Hup(h);
        Assert.Equal(new StartPriority(10, Idle: true), replacement.StartedAt);
        h.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty(h.Processes.LeftIdle);

        h.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal([replacement.Pid], h.Processes.LeftIdle);
        Assert.Equal((1, new StartPriority(10, Idle: false)), (h.Count(ChildLeftIdle), replacement.StartedAt));
        Assert.Empty(h.Processes.Nices);

        h.Ready(replacement);
        Assert.Equal([(replacement.Pid, 0)], h.Processes.Nices);
        Assert.Equal([replacement.Pid], h.Processes.LeftIdle); // once
        Assert.Equal(1, h.Count(ChildPriorityRestored));
    }

    [Fact]
    public void A_replacement_ready_within_its_idle_time_leaves_the_idle_class_and_its_nice_together()
    {
        using var h = new SupervisorHarness(OneWorker, priority: new ReplacementPriority(0, 10, TimeSpan.FromSeconds(3)));
        var replacement = Hup(h);
        h.Advance(TimeSpan.FromSeconds(1));

        h.Ready(replacement);
        Assert.Equal([replacement.Pid], h.Processes.LeftIdle);
        Assert.Equal([(replacement.Pid, 0)], h.Processes.Nices);
        Assert.Equal((0, 1), (h.Count(ChildLeftIdle), h.Count(ChildPriorityRestored)));
        Assert.Null(replacement.StartedAt);
    }

    [Fact]
    public void Without_an_idle_time_a_replacement_starts_at_its_nice_and_gets_the_serving_one_at_half_its_boot_time()
    {
        using var h = new SupervisorHarness(OneWorker, priority: new ReplacementPriority(0, 10, TimeSpan.Zero));
        var replacement = Hup(h);
        Assert.Equal(new StartPriority(10, Idle: false), replacement.StartedAt);

        h.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(h.Processes.Nices);
        h.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal([(replacement.Pid, 0)], h.Processes.Nices);
        Assert.Empty(h.Processes.LeftIdle);
        Assert.Contains("WorkerBootTimeout", h.Last(ChildPriorityRestored), StringComparison.Ordinal);
    }

    /// <summary>The worker started (it serves at once, at the serving priority), then a HUP: its replacement.</summary>
    private static ChildProcess Hup(SupervisorHarness h)
    {
        Assert.All(h.StartAll(), first => Assert.Null(first.StartedAt));
        h.Signal(Posix.SIGHUP);
        return h.Incoming(1)!;
    }
}
