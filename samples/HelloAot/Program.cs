using Fugue.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Console;

// HelloWeb on the slim builder, published with Native AOT: a worker starts in tens of milliseconds.
var builder = WebApplication.CreateSlimBuilder(args);
builder.UseFugue();
// The slim builder pins the simple console formatter; let Logging:Console:FormatterName choose (json, systemd) again.
builder.Logging.AddConsole(o => o.FormatterName = builder.Configuration["Logging:Console:FormatterName"] ?? ConsoleFormatterNames.Simple);
builder.Services.AddHealthChecks().AddCheck("config", () => builder.Configuration.GetValue("Healthy", true)
    ? HealthCheckResult.Healthy()
    : HealthCheckResult.Unhealthy("appsettings.json says \"Healthy\": false"), tags: ["ready"]);

var app = builder.Build();
string greeting = app.Configuration["Greeting"] ?? "Hello";

app.MapGet("/", () => $"{greeting} from worker {FugueCluster.WorkerId} (pid {Environment.ProcessId})");
app.MapGet("/slow", async (int ms) =>
{
    await Task.Delay(ms);
    return $"{greeting} after {ms} ms from worker {FugueCluster.WorkerId} (pid {Environment.ProcessId})";
});
app.MapHealthChecks("/health");

app.Run();
