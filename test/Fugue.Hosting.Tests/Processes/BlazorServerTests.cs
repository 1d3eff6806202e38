using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// What <c>dotnet new blazor --interactivity Server</c> makes, with the UseFugue line added, built once per test run in
/// a directory of its own (outside this repository's build settings); removed with the tests' end.
/// </summary>
public sealed class BlazorTemplateApp : IDisposable
{
    public const string Name = "FugueBlazorApp";

    public BlazorTemplateApp()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"fugue-blazor-{Guid.NewGuid():N}");
        Run("new", "blazor", "--interactivity", "Server", "-n", Name, "-o", Directory);
        string program = Path.Combine(Directory, "Program.cs");
        string code = File.ReadAllText(program);
        const string Builder = "var builder = WebApplication.CreateBuilder(args);";
        Assert.Contains(Builder, code, StringComparison.Ordinal);
        File.WriteAllText(program, code.Replace(Builder, Builder + "\nbuilder.UseFugue();", StringComparison.Ordinal));
        Run("add", Directory, "reference", Path.Combine(Apps.RepoRoot, "src", "Fugue.Hosting", "Fugue.Hosting.csproj"));
        Run("build", Directory, "-o", Path.Combine(Directory, "out"));
        Executable = Path.Combine(Directory, "out", Name);
    }

    public string Directory { get; }

    public string Executable { get; }

    private static void Run(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        string log = process.StandardOutput.ReadToEnd() + error.Result;
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), $"dotnet {string.Join(' ', arguments)} did not finish");
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)}: {log}");
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>
/// A Blazor Server template app with 2 workers: the page loads and its circuit starts and renders, through the
/// SignalR client speaking the circuit hub (/_blazor) as the browser's script does, every request on a new connection
/// as a browser's WebSocket is; and in a real browser, clicked.
/// </summary>
public sealed partial class BlazorServerTests(BlazorTemplateApp app) : IClassFixture<BlazorTemplateApp>
{
    [Fact]
    public async Task Each_page_loads_and_its_circuit_starts_and_renders_whichever_worker_each_connection_reaches()
    {
        using var master = MasterProcess.Start(BlazorTemplateApp.Name, fileName: app.Executable, workingDirectory: app.Directory);
        var url = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        using var deadline = new CancellationTokenSource(MasterProcess.Deadline);
        using var http = new HttpClient();

        for (int i = 0; i < 10; i++)
        {
            using var page = new HttpRequestMessage(HttpMethod.Get, new Uri(url, "/counter"));
            page.Headers.ConnectionClose = true;
            using var response = await http.SendAsync(page, deadline.Token);
            string html = await response.Content.ReadAsStringAsync(deadline.Token);
            Assert.True(response.IsSuccessStatusCode, html);
            var markers = ServerMarker().Matches(html).Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(markers); // the prerendered interactive components, with their protected descriptors

            var rendered = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var builder = new HubConnectionBuilder()
                .WithUrl(new Uri(url, "/_blazor"), o => o.HttpMessageHandlerFactory = inner => new NewConnectionEachRequest(inner));
            builder.Services.AddSingleton<IHubProtocol>(new BlazorPack());
            await using var circuit = builder.Build();
            circuit.On<int, byte[]>("JS.RenderBatch", (batch, _) => rendered.TrySetResult(batch));
            await circuit.StartAsync(deadline.Token);
            string? id = await circuit.InvokeAsync<string?>("StartCircuit", url.ToString(), new Uri(url, "/counter").ToString(),
                "[" + string.Join(',', markers) + "]", "", deadline.Token);

            Assert.False(string.IsNullOrEmpty(id), "the circuit did not start");
            int batch = await rendered.Task.WaitAsync(deadline.Token);
            await circuit.SendAsync("OnRenderCompleted", batch, null, deadline.Token);
        }
    }

    /// <summary>
    /// Debian's Chromium clicks the template's counter 10 times and reads 10; then across a HUP and across a USR2. The
    /// old worker's WebSocket gets 1001 when it drains; blazor.web.js reconnects at once, reaches a new worker that
    /// has no such circuit, is rejected and reloads the page: the count starts again from 0, and 10 clicks read 10.
    /// </summary>
    [ToolFact("/usr/bin/chromium", "chromium")]
    public async Task A_browser_clicks_the_counter_ten_times_and_on_across_a_hup_and_a_usr2()
    {
        // As dotnet run starts it: a build's output serves blazor.web.js from the framework's files in Development only.
        using var master = MasterProcess.Start(BlazorTemplateApp.Name, new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development" },
            fileName: app.Executable, workingDirectory: app.Directory);
        var url = new Uri(master.WaitForUrl());
        master.WaitForAllReady(2);
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox"], // as root
        });
        var page = await browser.NewPageAsync();
        int loads = 0;
        page.Load += (_, _) => Interlocked.Increment(ref loads);
        var console = new System.Collections.Concurrent.ConcurrentQueue<string>(); // blazor.web.js says what it does there
        page.Console += (_, message) => console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {message.Type}: {message.Text}");
        await page.GotoAsync(new Uri(url, "/counter").ToString());

        await ClickTenTimesAsync(page, master, console);
        Assert.Equal(1, Volatile.Read(ref loads));

        // A roll replaces one slot at a time: a page that reloads onto a worker of the old generation reloads again
        // when that one drains. Once every old worker is gone, the first click that counts is on a new worker's circuit.
        int[] firstWorkers = [.. master.StartedWorkers().Values];
        master.Signal(1);
        master.WaitForRollDone(2);
        foreach (int old in firstWorkers)
        {
            master.WaitForEvent(MasterEvents.WorkerStopped, old);
        }
        await ClickTenTimesAsync(page, master, console);
        int afterHup = Volatile.Read(ref loads);
        Assert.InRange(afterHup, 2, 3); // reloaded, once or twice

        int oldMaster = master.Pid;
        master.Signal(12);
        master.WaitForTakeOver(oldMaster);
        Assert.True(master.WaitForExit(), "the old master did not exit");
        await ClickTenTimesAsync(page, master, console);
        Assert.InRange(Volatile.Read(ref loads), afterHup + 1, afterHup + 2);
    }

    /// <summary>
    /// Waits for a fresh page (count 0: loaded, or reloaded by Blazor), clicks until its circuit counts (a click before
    /// it is interactive does nothing; a reload still under way starts the page again at 0), then to 10, each count read
    /// on the page.
    /// </summary>
    private static async Task ClickTenTimesAsync(Microsoft.Playwright.IPage page, MasterProcess master, IEnumerable<string> console)
    {
        var status = page.GetByRole(Microsoft.Playwright.AriaRole.Status);
        var button = page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Click me" });
        try
        {
            await Microsoft.Playwright.Assertions.Expect(status).ToHaveTextAsync("Current count: 0", new() { Timeout = (float)MasterProcess.Deadline.TotalMilliseconds });
        }
        catch (Microsoft.Playwright.PlaywrightException e)
        {
            string modal = await page.Locator("#components-reconnect-modal").EvaluateAsync<string>("m => m.className + ' ' + m.innerText");
            throw new Xunit.Sdk.XunitException($"{e.Message}\nreconnect modal: {modal}\nconsole:\n{string.Join('\n', console)}");
        }
        var deadline = Stopwatch.StartNew();
        while (await status.TextContentAsync() == "Current count: 0")
        {
            Assert.True(deadline.Elapsed < MasterProcess.Deadline, $"the counter never became interactive. Output:\n{master.Output}");
            await button.ClickAsync();
            try
            {
                await status.Filter(new() { HasText = "Current count: 1" }).WaitForAsync(new() { Timeout = 500 });
            }
            catch (TimeoutException)
            {
                // not interactive yet: click again
            }
        }
        for (int count = 2; count <= 10; count++)
        {
            await button.ClickAsync();
            await Microsoft.Playwright.Assertions.Expect(status).ToHaveTextAsync($"Current count: {count}", new() { Timeout = 30_000 });
        }
        Assert.Equal("Current count: 10", await status.TextContentAsync());
    }

    [GeneratedRegex(@"<!--Blazor:(\{""type"":""server"".*?\})-->")]
    private static partial Regex ServerMarker();

    /// <summary>The circuit hub speaks only "blazorpack": MessagePack under that name, as blazor.web.js sends it.</summary>
    private sealed class BlazorPack : IHubProtocol
    {
        private readonly MessagePackHubProtocol _messagePack = new();

        public string Name => "blazorpack";

        public int Version => _messagePack.Version;

        public TransferFormat TransferFormat => TransferFormat.Binary;

        public bool IsVersionSupported(int version) => _messagePack.IsVersionSupported(version);

        public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message) =>
            _messagePack.TryParseMessage(ref input, binder, out message);

        public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _messagePack.WriteMessage(message, output);

        public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _messagePack.GetMessageBytes(message);
    }
}
