using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>Hung workers and their stacks, decided in-process: RequestTimeout, WorkerTimeout and fugue stacks N.</summary>
public sealed class StacksTests
{
    private static SupervisorHarness Cluster(params (string Key, string Value)[] settings)
    {
        var h = new SupervisorHarness(settings.ToDictionary(s => "Fugue:" + s.Key, s => (string?)s.Value));
        h.Processes.HoldCaptures = true;
        return h;
    }

    [Fact]
    public void A_request_past_RequestTimeout_takes_its_worker_out_of_its_slot_at_once_and_has_its_stacks_written()
    {
        using var h = Cluster(("RequestTimeout", "00:00:05"));
        var workers = h.StartAll();

        h.Step(new MasterEvent.FromWorker(workers[0], ControlMessage.RequestTimedOut));

        Assert.NotSame(workers[0], h.Serving[0]); // a new worker took the slot in the same pass
        Assert.Equal(WorkerStart.Resuscitating, h.Processes.Launches[^1].Start);
        Assert.Equal([workers[0].Pid], h.Processes.SignalledWith(Posix.SIGTERM)); // it drains its other requests
        var capture = Assert.Single(h.Processes.Captures);
        Assert.Equal((workers[0], "request-timeout"), (capture.Worker, capture.Why));
        Assert.Equal(1, h.Count(RequestTimedOut));

        capture.Done.SetResult("/stacks/worker-1.crashreport.json");
        h.Step();

        Assert.Contains("/stacks/worker-1.crashreport.json", h.Last(StacksWritten), StringComparison.Ordinal);
        Assert.Equal("request timeout", h.Command("status").Reply!.Status!.Workers.First(w => w.Id == 1).LastExit);
        Assert.Empty(h.Processes.SignalledWith(Posix.SIGKILL)); // its other requests have WorkerKillTimeout
    }

    [Fact]
    public void A_spare_takes_the_slot_of_a_worker_with_a_request_past_RequestTimeout()
    {
        using var h = Cluster(("RequestTimeout", "00:00:05"), ("SpareWorkers", "1"));
        var workers = h.StartAll();
        h.Step();
        var spare = h.Processes.Launched[^1];
        h.Ready(spare);

        h.Step(new MasterEvent.FromWorker(workers[1], ControlMessage.RequestTimedOut));

        Assert.Same(spare, h.Serving[1]);
    }

    [Fact]
    public void The_message_from_a_worker_without_RequestTimeout_is_stray()
    {
        using var h = Cluster();
        var workers = h.StartAll();

        h.Step(new MasterEvent.FromWorker(workers[0], ControlMessage.RequestTimedOut));

        Assert.Same(workers[0], h.Serving[0]);
        Assert.Empty(h.Processes.Captures);
        Assert.Equal(1, h.Count(StrayMessage));
    }

    [Fact]
    public void A_silent_worker_is_killed_once_its_stacks_are_written_or_failed()
    {
        using var h = Cluster(("WorkerTimeout", "00:00:08"));
        var workers = h.StartAll();
        h.Advance(TimeSpan.FromSeconds(9), () => h.Step(new MasterEvent.FromWorker(workers[1], ControlMessage.Heartbeat)));

        var capture = Assert.Single(h.Processes.Captures);
        Assert.Equal((workers[0], "hung"), (capture.Worker, capture.Why));
        Assert.Empty(h.Processes.SignalledWith(Posix.SIGKILL));
        h.Advance(TimeSpan.FromSeconds(3), () => h.Step(new MasterEvent.FromWorker(workers[1], ControlMessage.Heartbeat)));
        Assert.Single(h.Processes.Captures); // one capture, however long it takes

        capture.Done.SetException(new IOException("the runtime of pid 1000 did not answer within 10s"));
        h.Step();

        Assert.Equal([workers[0].Pid], h.Processes.SignalledWith(Posix.SIGKILL));
        Assert.Contains("did not answer", h.Last(StacksNotWritten), StringComparison.Ordinal);
    }

    [Fact]
    public void Fugue_stacks_answers_with_the_file_once_written_and_refuses_a_worker_that_does_not_serve()
    {
        using var h = Cluster();
        var workers = h.StartAll();

        var reply = h.Command("stacks 2");
        Assert.Null(reply.Reply);
        h.Processes.Captures.Single(c => c.Worker == workers[1]).Done.SetResult("/stacks/w2.crashreport.json");
        h.Step();

        Assert.Equal((true, "/stacks/w2.crashreport.json"), (reply.Reply!.Ok, reply.Reply.Message));
        Assert.Empty(h.Processes.Signals);
        var none = h.Command("stacks 7").Reply!;
        Assert.False(none.Ok);
        Assert.Contains("no worker 7 serves", none.Message, StringComparison.Ordinal);
    }
}
