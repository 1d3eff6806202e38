using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>
/// The control socket's requests as the supervisor decides them: each answered once, when the master has done what
/// it asked (or at once, when it cannot be done).
/// </summary>
public sealed class ControlCommandTests
{
    [Fact]
    public void Status_shows_the_state_the_slots_and_what_each_worker_went_through()
    {
        using var h = new SupervisorHarness();
        Assert.Equal("starting", h.Command("status").Reply!.Status!.Master.State);
        var workers = h.StartAll();
        h.Step();

        h.Processes.Exit(workers[0].Pid, signal: 9);
        h.Step();
        var status = h.Command("status").Reply!.Status!;

        Assert.Equal(ClusterStatus.CurrentVersion, status.Version);
        var first = status.Workers.Single(w => w.Id == 1);
        Assert.Equal((1, "signal 9 (SIGKILL)", "starting"), (first.Restarts, first.LastExit, first.State));
        Assert.NotEqual(workers[0].Pid, first.Pid);
        var second = status.Workers.Single(w => w.Id == 2);
        Assert.Equal((0, null, "ready", 2L << 20), (second.Restarts, second.LastExit, second.State, second.RssBytes));
    }

    [Fact]
    public void A_command_whose_handling_throws_is_answered_with_an_error_so_the_client_slot_is_freed()
    {
        using var h = new SupervisorHarness();
        h.StartAll();
        h.Processes.UsageFailure = new OverflowException("a worker's cell");

        var status = h.Command("status");

        Assert.Equal((false, 1), (status.Reply?.Ok, status.Answers));
        Assert.Equal(1, h.Count(StepFailed));
        h.Processes.UsageFailure = null;
        Assert.True(h.Command("status").Reply!.Ok); // the next one is answered as ever
    }

    [Fact]
    public void Reload_is_answered_when_the_roll_is_done_and_refused_while_one_is_under_way()
    {
        using var h = new SupervisorHarness();
        h.StartAll();

        var reload = h.Command("reload");
        Assert.Null(reload.Reply);
        Assert.Equal("rolling", h.Command("status").Reply!.Status!.Master.State);
        var second = h.Command("reload");
        Assert.False(second.Reply!.Ok);
        Assert.Equal(1, h.Count(RequestRefused));

        h.Ready(h.Incoming(1)!);
        h.Ready(h.Incoming(2)!);
        h.Step();

        Assert.True(reload.Reply!.Ok);
        Assert.Equal(1, reload.Answers);
        Assert.Equal(2, h.Supervisor.Generation);
    }

    [Fact]
    public void Reload_that_aborts_or_is_refused_answers_with_the_reason()
    {
        using var h = new SupervisorHarness(new() { ["Fugue:WorkerBootTimeout"] = "00:00:10" });
        var old = h.StartAll();
        var aborted = h.Command("reload");
        h.Advance(TimeSpan.FromSeconds(11), () => h.Step(old.Select(w => (MasterEvent)new MasterEvent.FromWorker(w, ControlMessage.Heartbeat)).ToArray()));

        Assert.False(aborted.Reply!.Ok);
        Assert.Contains("was not ready within 10s", aborted.Reply.Message, StringComparison.Ordinal);

        h.Configuration["Fugue:Workers"] = "-1";
        var refused = h.Command("reload");
        Assert.False(refused.Reply!.Ok);
        Assert.Contains("Fugue:Workers = -1", refused.Reply.Message, StringComparison.Ordinal);
        Assert.Equal(old, h.Serving);
    }

    [Fact]
    public void Scale_is_answered_when_the_new_count_is_ready_and_fails_when_another_change_overtakes_it()
    {
        using var h = new SupervisorHarness();
        h.StartAll();

        var up = h.Command("scale 3");
        Assert.Null(up.Reply);
        Assert.Equal(1, h.Count(WorkersScaled));
        h.Ready(h.Serving[2]);
        Assert.True(up.Reply!.Ok);

        Assert.True(h.Command("scale 1").Reply!.Ok); // fewer: done as soon as the others are told to go
        var overtaken = h.Command("scale 3");
        h.Signal(Posix.SIGTTOU);
        Assert.False(overtaken.Reply!.Ok);
        Assert.Equal(2, h.Supervisor.Slots.Count);
    }

    [Fact]
    public void A_master_that_is_PID_1_refuses_to_reexec_since_its_exit_would_end_the_container()
    {
        using var h = new SupervisorHarness(pid: 1);
        var workers = h.StartAll();

        var refused = h.Command("reexec");
        Assert.False(refused.Reply!.Ok);
        Assert.Contains("PID 1", refused.Reply.Message, StringComparison.Ordinal);
        h.Signal(Posix.SIGUSR2);
        Assert.Equal(2, h.Count(RequestRefused));
        Assert.DoesNotContain(h.Processes.Launched, c => c.Kind == ChildKind.NewMaster);
        Assert.Equal(workers, h.Serving);
        h.Command("reload"); // a HUP still restarts the workers in place
        Assert.Equal(1, h.Count(RollStarted));
    }

    [Fact]
    public void Reexec_is_answered_at_the_handover_or_with_the_rollback()
    {
        using var h = new SupervisorHarness();
        h.StartAll();

        var failing = h.Command("reexec");
        h.Processes.Exit(h.Processes.Launched.Last().Pid);
        h.Step();
        Assert.False(failing.Reply!.Ok);

        var reexec = h.Command("reexec");
        var successor = h.Processes.Launched.Last();
        Assert.Equal(successor.Pid, h.Command("status").Reply!.Status!.Master.NewMasterPid);
        Assert.Null(reexec.Reply);
        Assert.Equal(["master"], h.Processes.Titles);
        h.Ready(successor);
        Assert.True(reexec.Reply!.Ok);
        Assert.Equal(["master", "old master"], h.Processes.Titles); // ps tells the draining master from the new one
        Assert.Contains(successor.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), reexec.Reply.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_answers_at_once_and_fails_whatever_was_still_awaited()
    {
        using var h = new SupervisorHarness();
        h.StartAll();
        var reload = h.Command("reload");

        var stop = h.Command("stop");

        Assert.True(stop.Reply!.Ok);
        Assert.False(reload.Reply!.Ok);
        Assert.Equal(1, h.Count(Stopping));
        Assert.False(h.Command("scale 4").Reply!.Ok);
        Assert.Equal("stopping", h.Command("status").Reply!.Status!.Master.State);
    }

    [Theory]
    [InlineData("")]
    [InlineData("restart")]
    [InlineData("scale")]
    [InlineData("scale -1")]
    [InlineData("scale 99999")]
    [InlineData("scale 2 3")]
    [InlineData("status\0")]
    public void A_request_line_that_is_not_a_command_is_named_in_the_error(string line)
    {
        Assert.Null(ControlRequest.Parse(line, out string error));
        Assert.StartsWith($"'{line}'", error, StringComparison.Ordinal);
    }
}
