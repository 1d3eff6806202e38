using Fugue.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.UseFugue();

var app = builder.Build();
string greeting = app.Configuration["Greeting"] ?? "Hello";

app.MapGet("/", () => $"{greeting} from worker {FugueCluster.WorkerId} (pid {Environment.ProcessId})");
app.MapGet("/slow", async (int ms) =>
{
    await Task.Delay(ms);
    return $"{greeting} after {ms} ms from worker {FugueCluster.WorkerId} (pid {Environment.ProcessId})";
});

app.Run();

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
