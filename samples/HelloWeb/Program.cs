using Fugue.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

var builder = WebApplication.CreateBuilder(args);
builder.UseFugue();
// A worker is ready only once its "ready" checks pass: set "Healthy": false in appsettings.json and HUP to watch a
// reload abort while the old workers keep serving.
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

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
