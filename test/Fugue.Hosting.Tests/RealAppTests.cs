using FugueHosting.Master;

namespace Fugue.Hosting.Tests;

/// <summary>What an app's own tooling sees of the cluster: debugging sessions, telemetry identities.</summary>
public sealed class RealAppTests
{
    [Fact]
    public void Under_dotnet_watch_a_development_app_runs_as_one_process_unless_workers_is_set()
    {
        var env = new Dictionary<string, string?>
        {
            ["DOTNET_WATCH"] = "1",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Fugue__Workers"] = null,
        };
        using (var single = MasterProcess.Start("TestApp", env!))
        {
            single.WaitForLine(@"Fugue: single process \(dotnet watch runs the app in Development and Fugue:Workers is not set");
            single.WaitForLine("Now listening on: http://127.0.0.1:");
            Assert.Empty(ProcessTree.Children(single.Pid));
        }

        env["Fugue__Workers"] = "2";
        using var cluster = MasterProcess.Start("TestApp", env!);
        cluster.WaitForAllReady(2);
        Assert.Contains("Fugue:Workers", cluster.WaitForEvent(46), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_worker_names_itself_to_opentelemetry_and_keeps_the_apps_own_attributes()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=test" });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        string childEnv = await Http.GetAsync(url + "/child-env");

        var line = childEnv.Split('\n').Single(l => l.StartsWith("OTEL_RESOURCE_ATTRIBUTES=", StringComparison.Ordinal));
        Assert.Matches($@"^OTEL_RESOURCE_ATTRIBUTES=deployment\.environment=test,service\.instance\.id=.+-{master.Pid}-(\d),fugue\.worker\.id=\1$", line);
    }

    [Theory]
    [InlineData(null, "service.instance.id=web1-42-3,fugue.worker.id=3")]
    [InlineData("service.instance.id=mine, team=a", "service.instance.id=mine,team=a,fugue.worker.id=3")]
    [InlineData("fugue.worker.id=9", "fugue.worker.id=9,service.instance.id=web1-42-3")]
    public void The_apps_own_service_instance_id_is_left_alone(string? existing, string expected)
    {
        Assert.Equal(expected, TelemetryIdentity.ResourceAttributes(existing, "web1", 42, 3));
    }
}
