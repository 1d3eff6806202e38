using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>An app that configures OpenTelemetry gets the master's Fugue.Hosting meter exported by its own pipeline.</summary>
public sealed class TelemetryExportTests
{
    [Fact]
    public void The_master_exports_its_workers_restarts_and_reloads_through_the_apps_OpenTelemetry_exporter()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["TestApp__OpenTelemetry"] = "true" });
        master.WaitForUrl();
        master.WaitForAllReady(2);
        string exported = $"^TESTAPP otel pid {master.Pid} ";
        master.WaitForLine(exported + "fugue.workers fugue.worker.state=ready 2$");

        int victim = master.StartedWorkers()[1];
        ProcessTree.Kill(victim, 9);
        master.WaitForEvent(WorkerDied, victim);
        master.WaitForLine(exported + "fugue.worker.restarts fugue.restart.reason=crash 1$");

        master.Signal(1);
        master.WaitForRollDone(2);
        master.WaitForLine(exported + "fugue.reloads fugue.outcome=done 1$");
        master.WaitForLine(exported + "fugue.reload.duration fugue.outcome=done 1$");
        Assert.Equal(0, master.CountLines(@"^TESTAPP otel pid (?!" + master.Pid + @"\b)\d+ fugue\."));
    }
}
