using System.Diagnostics;
using System.Net.Sockets;
using Fugue.Hosting;
using Microsoft.AspNetCore.DataProtection;
using OpenTelemetry.Metrics;

// The app the tests run under a master: what it does is steered by TestApp:* configuration keys.
if (args.Contains("--host-builder"))
{
    // The IHostBuilder door: Host.CreateDefaultBuilder with a web host, as older apps are written.
    Host.CreateDefaultBuilder(args)
        .ConfigureWebHostDefaults(web => web.Configure(app => app.Run(context =>
            context.Response.WriteAsync($"host builder worker {FugueCluster.WorkerId} pid {Environment.ProcessId}"))))
        .UseFugue()
        .Build()
        .Run();
    return;
}

var builder = WebApplication.CreateBuilder(args);
if (builder.Configuration["TestApp:ConfigFile"] is { } configFile)
{
    builder.Configuration.AddJsonFile(configFile, optional: false, reloadOnChange: false); // HUP re-reads it
}
builder.UseFugue(o => o.OnAllWorkersReady = ready =>
    Console.WriteLine($"TESTAPP hook: {ready.WorkerPids.Count} workers [{string.Join(',', ready.WorkerPids)}] on {string.Join(' ', ready.Addresses)}"));

if (builder.Configuration["TestApp:BreakFile"] is { } breakFile && File.Exists(breakFile))
{
    throw new InvalidOperationException($"{breakFile} exists: this release is broken");
}

if (FugueCluster.IsWorker && builder.Configuration.GetValue<bool>("TestApp:ReportNice"))
{
    // /proc/self/stat: the 19th field (the 17th after the command name in parentheses) is the nice of the main thread.
    string stat = File.ReadAllText("/proc/self/stat");
    Console.WriteLine($"TESTAPP worker {FugueCluster.WorkerId} pid {Environment.ProcessId} starts at nice {stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16]}");
}

if (FugueCluster.IsWorker && builder.Configuration["TestApp:HoldStartFile"] is { } holdStartFile)
{
    // A worker that starts slowly: not ready while the file exists (the test deletes it), for 60 s at most.
    var deadline = DateTime.UtcNow.AddSeconds(60);
    while (File.Exists(holdStartFile) && DateTime.UtcNow < deadline)
    {
        Thread.Sleep(50);
    }
}

if (FugueCluster.IsWorker && builder.Configuration.GetValue<bool>("TestApp:CrashAtStart"))
{
    throw new InvalidOperationException("TestApp:CrashAtStart is set");
}

builder.Services.AddDataProtection(); // as sign-ins, antiforgery and Razor Pages do (where they persist is not said)
if (builder.Configuration["TestApp:UnhealthyFile"] is { } unhealthyFile)
{
    // Unhealthy while the file exists (a release that cannot reach its database); a check without the tag is ignored.
    builder.Services.AddHealthChecks()
        .AddCheck("database", () => File.Exists(unhealthyFile)
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy($"{unhealthyFile} says the database is down")
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy(), tags: ["ready"])
        .AddCheck("untagged", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("not a readiness check"));
}
if (builder.Configuration.GetValue<bool>("TestApp:OpenTelemetry"))
{
    // What an app that exports its metrics does; in the master, the Fugue.Hosting meter is what there is to export.
    builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
        .AddMeter("Fugue.Hosting")
        .AddReader(new PeriodicExportingMetricReader(new LineExporter(), exportIntervalMilliseconds: 200)));
}
if (builder.Configuration.GetValue<bool>("TestApp:SignalR"))
{
    builder.Services.AddSignalR();
}

if (FugueCluster.IsWorker && builder.Configuration.GetValue<int>("TestApp:LeakMiBPerSecond") is > 0 and var leak)
{
    // Memory the app takes and never gives back, written to: what Fugue:MemoryLimit is for.
    _ = Task.Run(async () =>
    {
        var held = new List<byte[]>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (await timer.WaitForNextTickAsync())
        {
            var chunk = GC.AllocateUninitializedArray<byte>(leak * 1024 * 1024 / 5);
            Array.Fill(chunk, (byte)1);
            held.Add(chunk);
        }
    });
}
if (FugueCluster.IsWorker && builder.Configuration["TestApp:MappedFile"] is { } mappedFile)
{
    // A large file mapped and read through (a model, an index): resident, but clean and shared by every worker.
    var mapped = System.IO.MemoryMappedFiles.MemoryMappedFile.CreateFromFile(mappedFile, FileMode.Open, null, 0, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read);
    var view = mapped.CreateViewAccessor(0, 0, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read);
    long sum = 0;
    for (long offset = 0; offset < view.Capacity; offset += Environment.SystemPageSize)
    {
        sum += view.ReadByte(offset);
    }
    builder.Services.AddSingleton(view);
    builder.Services.AddSingleton(mapped);
}

if (FugueCluster.IsWorker && builder.Configuration["TestApp:FuzzChannelFile"] is { } fuzzFile)
{
    // What a compromised worker could send its master: random datagrams on fd 3, once the file exists, for a bounded time.
    var fuzzFor = TimeSpan.FromSeconds(builder.Configuration.GetValue("TestApp:FuzzSeconds", 5));
    _ = Task.Run(() => ChannelFuzz.Run(fuzzFile, fuzzFor));
}

var app = builder.Build();
app.UseWebSockets();
app.MapGet("/", () => $"worker {FugueCluster.WorkerId} pid {Environment.ProcessId}");
app.MapGet("/slow", async (int ms) =>
{
    await Task.Delay(ms);
    return $"slow {ms} worker {FugueCluster.WorkerId} pid {Environment.ProcessId}";
});
app.MapGet("/sleep", (int ms) => Hang.Sleep(ms));
app.MapGet("/wait-brief", async (int ms, HttpContext context) =>
{
    await Task.Delay(ms, context.RequestAborted);
    return "waited";
}).WithRequestTimeout(TimeSpan.FromSeconds(1));
app.MapGet("/events", async (int ms, HttpContext context) =>
{
    // Server-sent events: one every 200 ms for ms milliseconds.
    context.Response.ContentType = "text/event-stream";
    var end = DateTime.UtcNow.AddMilliseconds(ms);
    for (int n = 0; DateTime.UtcNow < end; n++)
    {
        await context.Response.WriteAsync($"data: {n} pid {Environment.ProcessId}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await Task.Delay(200, context.RequestAborted);
    }
});
app.MapPost("/upload", async (HttpContext context) =>
{
    // Reads the body to its end without a token, as an app that trusts Kestrel's minimum data rate does.
    long length = 0;
    byte[] buffer = new byte[4096];
    for (int read; (read = await context.Request.Body.ReadAsync(buffer, CancellationToken.None)) > 0;)
    {
        length += read;
    }
    return $"received {length} bytes worker {FugueCluster.WorkerId} pid {Environment.ProcessId}";
});
app.MapGet("/wait", async (int ms, HttpContext context) =>
{
    // Honours RequestAborted, as an app that passes its token on does.
    await Task.Delay(ms, context.RequestAborted);
    return $"waited {ms} ms worker {FugueCluster.WorkerId} pid {Environment.ProcessId}";
});
app.MapGet("/spawn-sleeper", (int seconds) =>
{
    // Inherits the worker's stdout and stderr, and outlives it.
    using var sleeper = Process.Start(new ProcessStartInfo("sleep", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)) { UseShellExecute = false })!;
    return $"worker {FugueCluster.WorkerId} pid {Environment.ProcessId} started sleeper {sleeper.Id}";
});
app.MapGet("/child-env", () =>
{
    using var child = Process.Start(new ProcessStartInfo("/usr/bin/env") { RedirectStandardOutput = true })!;
    string output = child.StandardOutput.ReadToEnd();
    child.WaitForExit();
    return output;
});
app.MapGet("/log", (string text) =>
{
    Console.WriteLine($"TESTAPP worker {FugueCluster.WorkerId} pid {Environment.ProcessId} says {text}");
    return $"worker {FugueCluster.WorkerId} pid {Environment.ProcessId} logged";
});
app.MapGet("/wait-file", async (string path, HttpContext context) =>
{
    Console.WriteLine($"TESTAPP worker {FugueCluster.WorkerId} pid {Environment.ProcessId} waits for {path}");
    while (!File.Exists(path))
    {
        await Task.Delay(20, context.RequestAborted);
    }
    return $"worker {FugueCluster.WorkerId} pid {Environment.ProcessId} saw {path}";
});
app.MapGet("/fail-while", (string path) => File.Exists(path)
    ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
    : Results.Text($"worker {FugueCluster.WorkerId} pid {Environment.ProcessId}"));
app.MapGet("/gc", () =>
{
    GC.Collect(); // the figure is the one at the last collection
    return string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"worker {FugueCluster.WorkerId} pid {Environment.ProcessId} GC may use {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes} bytes");
});
app.MapGet("/stop-cluster", () =>
{
    FugueCluster.Stop();
    return "stopping";
});
app.MapGet("/misbehave", (string what) =>
{
    string me = $"TESTAPP worker {FugueCluster.WorkerId} pid {Environment.ProcessId}";
    if (what == "flood")
    {
        // What a compromised worker could do: write on its control channel (fd 3) whatever it likes, as fast as it can.
        _ = Task.Run(() =>
        {
            try
            {
                Flood();
            }
            catch (Exception e)
            {
                Console.WriteLine($"{me} could not flood: {e}");
            }
        });

        void Flood()
        {
            using var channel = new Socket(new SafeSocketHandle(3, ownsHandle: false)) { Blocking = false };
            byte[][] messages = ["R"u8.ToArray(), "A"u8.ToArray(), "X"u8.ToArray(), "RRRR"u8.ToArray()];
            var deadline = DateTime.UtcNow.AddSeconds(30);
            for (int i = 0; i < 600 && DateTime.UtcNow < deadline;)
            {
                try
                {
                    channel.Send(messages[i % messages.Length]);
                    i++;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    Thread.Sleep(1);
                }
            }
            Console.WriteLine($"{me} flooded");
        }
    }
    else if (what == "bigline")
    {
        // 64 MiB without a newline, then an ordinary line.
        using var stdout = Console.OpenStandardOutput();
        byte[] chunk = new byte[1 << 20];
        Array.Fill(chunk, (byte)'x');
        for (int i = 0; i < 64; i++)
        {
            stdout.Write(chunk);
        }
        stdout.Write("\n"u8);
        Console.WriteLine($"{me} wrote a big line");
    }
    return me;
});
app.Map("/ws", async (HttpContext context, IHostApplicationLifetime lifetime, bool? closeOnStopping) =>
{
    // An echo that closes only when the client does, or (closeOnStopping) on ApplicationStopping; else Fugue on drain.
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = 400;
        return;
    }
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    using var stopping = closeOnStopping == true
        ? lifetime.ApplicationStopping.Register(() => _ = socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "the app closes", CancellationToken.None))
        : default;
    byte[] buffer = new byte[1024];
    while (true)
    {
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
        {
            if (socket.State == System.Net.WebSockets.WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            return;
        }
        await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
    }
});
app.MapGet("/protect", (string text, IDataProtectionProvider protection) =>
    $"{protection.CreateProtector("TestApp").Protect(text)} worker {FugueCluster.WorkerId} pid {Environment.ProcessId}");
app.MapGet("/unprotect", (string payload, IDataProtectionProvider protection) =>
{
    try
    {
        return Results.Text($"{protection.CreateProtector("TestApp").Unprotect(payload)} worker {FugueCluster.WorkerId} pid {Environment.ProcessId}");
    }
    catch (System.Security.Cryptography.CryptographicException e)
    {
        return Results.Text($"refused by worker {FugueCluster.WorkerId} pid {Environment.ProcessId}: {e.Message}", statusCode: 400);
    }
});
app.MapGet("/protocol", (HttpContext context) => $"{context.Request.Protocol} {context.Request.Scheme} worker {FugueCluster.WorkerId}");
if (app.Configuration.GetValue<bool>("TestApp:SignalR"))
{
    app.MapHub<PidHub>("/hub");
}
app.Run();

/// <summary>A hub whose method says which worker process holds the connection.</summary>
internal sealed class PidHub : Microsoft.AspNetCore.SignalR.Hub
{
#pragma warning disable CA1822 // SignalR calls hub methods on an instance
    public int Pid() => Environment.ProcessId;
#pragma warning restore CA1822
}

/// <summary>A request that blocks its thread, as a hung one does, in a frame a stack trace names.</summary>
internal static class Hang
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static string Sleep(int ms)
    {
        Thread.Sleep(ms);
        return $"worker {FugueCluster.WorkerId} pid {Environment.ProcessId} slept {ms} ms";
    }
}

/// <summary>Random datagrams of random lengths on the worker's control channel, as fast as the master takes them.</summary>
internal static class ChannelFuzz
{
    public static void Run(string startFile, TimeSpan duration)
    {
        string me = $"TESTAPP worker {FugueCluster.WorkerId} pid {Environment.ProcessId}";
        var waitUntil = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(startFile) && DateTime.UtcNow < waitUntil)
        {
            Thread.Sleep(20);
        }
        var random = new Random(Environment.ProcessId);
        using var channel = new Socket(new SafeSocketHandle(3, ownsHandle: false)) { Blocking = false };
        var end = DateTime.UtcNow + duration;
        long sent = 0, refused = 0;
        byte[] buffer = new byte[4096];
        while (DateTime.UtcNow < end && sent < 10_000_000)
        {
            int length = random.Next(4) switch { 0 => 1, 1 => random.Next(2, 17), 2 => random.Next(17, 4097), _ => random.Next(0, 3) };
            random.NextBytes(buffer.AsSpan(0, length));
            if (length == 1 && buffer[0] is (byte)'S' or (byte)'Q' or (byte)'D')
            {
                continue; // by design a worker may stop the cluster, ask to be recycled, or report itself hung
            }
            try
            {
                channel.Send(buffer, 0, length, SocketFlags.None);
                sent++;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                refused++;
                Thread.Yield();
            }
            catch (SocketException e)
            {
                Console.WriteLine($"{me} channel fuzz ended: {e.SocketErrorCode}");
                break;
            }
        }
        Console.WriteLine($"TESTAPP fuzz sent {sent} refused {refused} worker pid {Environment.ProcessId}");
    }
}
