using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
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

    [Fact]
    public void Threads_made_while_a_replacement_was_raised_are_raised_on_later_passes_until_none_is_found_for_a_second()
    {
        using var h = new SupervisorHarness(OneWorker, priority: new ReplacementPriority(0, 10, TimeSpan.FromSeconds(3)));
        var replacement = Hup(h);
        h.Ready(replacement);
        int Passes() => h.Processes.Passes.Count(p => p == (replacement.Pid, "left idle"));
        Assert.Equal(1, Passes());
        Assert.Equal(ThreadSettings.Period, h.Supervisor.NextWakeup(TimeSpan.FromSeconds(1)));

        h.Processes.Stragglers[replacement.Pid] = 2;
        Every50Ms(h, TimeSpan.FromMilliseconds(50));
        Assert.Equal((2, 1), (Passes(), h.Count(ThreadsSettled)));
        Assert.Contains("2 thread(s)", h.Last(ThreadsSettled), StringComparison.Ordinal);
        Assert.Equal((2, 0), (h.Processes.Passes.Count(p => p == (replacement.Pid, "nice 0")), h.Processes.Passes.Count(p => p.Pid == h.Processes.Launched[0].Pid)));

        Every50Ms(h, TimeSpan.FromMilliseconds(900)); // a second from the last find: still looking
        Assert.Equal(20, Passes());
        Assert.NotNull(replacement.Settling);

        Every50Ms(h, TimeSpan.FromSeconds(1));
        Assert.Null(replacement.Settling);
        int settled = Passes();
        Every50Ms(h, TimeSpan.FromSeconds(1));
        Assert.Equal(settled, Passes());
        Assert.Equal(TimeSpan.FromSeconds(1), h.Supervisor.NextWakeup(TimeSpan.FromSeconds(1)));
        Assert.Equal(1, h.Count(ThreadsSettled));
    }

    private static void Every50Ms(SupervisorHarness h, TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += ThreadSettings.Period)
        {
            h.Advance(ThreadSettings.Period);
        }
    }

    /// <summary>The worker started (it serves at once, at the serving priority), then a HUP: its replacement.</summary>
    private static ChildProcess Hup(SupervisorHarness h)
    {
        NonEmpty.All(h.StartAll(), first => Assert.Null(first.StartedAt));
        h.Signal(Posix.SIGHUP);
        return h.Incoming(1)!;
    }
}
