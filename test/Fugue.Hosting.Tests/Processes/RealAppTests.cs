using Fugue.Hosting.Master.Supervision;
using System.Text.RegularExpressions;
using Fugue.Hosting.Master.Spawning;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

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
            Assert.Contains("dotnet watch", single.WaitForEvent(SingleProcess).Text("Reason"), StringComparison.Ordinal);
            single.WaitForLine("Now listening on: http://127.0.0.1:");
            Assert.Empty(ProcessTree.Children(single.Pid));
        }

        env["Fugue__Workers"] = "2";
        using var cluster = MasterProcess.Start("TestApp", env!);
        cluster.WaitForAllReady(2);
        Assert.Equal("Fugue:Workers", cluster.WaitForEvent(WorkerCount).Text("Source"));
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_master_of_an_app_that_uses_signalr_with_several_workers_says_what_clients_need_only_without_hub_affinity(bool affinity)
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["TestApp__SignalR"] = "true",
            ["Fugue__HubAffinity"] = affinity ? "true" : "false",
        });
        master.WaitForAllReady(2);

        Assert.Equal(affinity ? 0 : 1, master.CountEvents(SignalRAcrossWorkers, e => e.Int("Workers") == 2));
    }

    [Fact]
    public void The_masters_lines_keep_the_apps_console_format_across_a_hup()
    {
        // HelloWeb's appsettings.json: the simple formatter, one line, "HH:mm:ss " timestamps (not the tests' JSON).
        using var master = MasterProcess.Start("HelloWeb", new Dictionary<string, string?> { ["Logging__Console__FormatterName"] = null }!);
        master.WaitForLine($@"\[{AllReady}\] ");
        master.Signal(1);

        string category = Regex.Escape(typeof(Supervisor).FullName!);
        master.WaitForLine($@"^\d\d:\d\d:\d\d info: {category}\[{RollDone}\] ");
        master.WaitForLine($@"^\d\d:\d\d:\d\d info: {category}\[{AllReady}\] ", skip: 1);
        Assert.Equal(0, master.CountLines($@"\[{SignalRAcrossWorkers}\] ")); // no SignalR there, no warning
    }

    [Theory]
    [InlineData(false, System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable)]
    [InlineData(true, System.Net.WebSockets.WebSocketCloseStatus.NormalClosure)] // the app's own close, undisturbed
    public async Task A_websocket_open_across_a_hup_gets_a_close_and_its_worker_exits_cleanly(bool appCloses, System.Net.WebSockets.WebSocketCloseStatus expected)
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__Workers"] = "1" });
        var url = new Uri(master.WaitForUrl());
        master.WaitForAllReady(1);
        int old = master.StartedWorkers()[1];
        using var client = new System.Net.WebSockets.ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://{url.Authority}/ws?closeOnStopping={appCloses}"), CancellationToken.None);
        await client.SendAsync("hello"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        byte[] buffer = new byte[1024];
        Assert.Equal(5, (await client.ReceiveAsync(buffer, CancellationToken.None)).Count);

        master.Signal(1);

        using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
        var received = await client.ReceiveAsync(buffer, deadline.Token);
        Assert.Equal(System.Net.WebSockets.WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(expected, client.CloseStatus);
        await client.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        // Drained, not killed at WorkerKillTimeout (30 s) without a close.
        Assert.Equal("status 0", master.WaitForEvent(WorkerStopped, old).Text("Status"));
    }

    [RootFact]
    public async Task Workers_running_as_another_user_share_one_key_ring_across_workers_and_reloads()
    {
        using var keyRing = new TempKeyRing();
        string keys = keyRing.Path;
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string>
        {
            ["Fugue__User"] = "nobody",
            ["Fugue__DataProtectionKeysPath"] = keys,
        });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        Assert.Equal(keys, master.WaitForEvent(KeyRingShared, master.Pid).Text("Path"));
        var ring = new DirectoryInfo(keys);
        Assert.Equal((UnixFileMode)0x1C0, ring.UnixFileMode); // 0700
        Assert.Equal("65534", Stat(keys, "%u"));

        // A payload from each worker; every worker reads every payload, in this generation and the next two.
        var byWorker = new Dictionary<string, string>();
        for (int i = 0; i < 400 && byWorker.Count < 2; i++)
        {
            string[] answer = (await Http.GetAsync(url + "/protect?text=secret")).Split(' ');
            byWorker.TryAdd(answer[2], answer[0]); // "<payload> worker <id> pid <pid>"
        }
        Assert.Equal(2, byWorker.Count);
        var payloads = byWorker.Values.ToList();
        await master.AcrossReloadsAsync(() => AssertEveryWorkerReadsAsync(url, payloads));
        Assert.NotEmpty(ring.GetFiles("key-*.xml"));
    }

    private static async Task AssertEveryWorkerReadsAsync(string url, List<string> payloads)
    {
        foreach (string payload in payloads)
        {
            var readers = await Http.DistinctAnswersAsync(url + "/unprotect?payload=" + Uri.EscapeDataString(payload), 2);
            NonEmpty.All(readers, answer => Assert.StartsWith("secret worker ", answer, StringComparison.Ordinal));
        }
    }

    private static string Stat(string path, string format)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", format, path]) { RedirectStandardOutput = true })!;
        string output = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return output;
    }
}
