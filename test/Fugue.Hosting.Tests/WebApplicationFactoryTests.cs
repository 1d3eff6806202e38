using Microsoft.AspNetCore.Mvc.Testing;

namespace Fugue.Hosting.Tests;

/// <summary>Under the test server there is no Kestrel, so Fugue stays out of the way.</summary>
public sealed class WebApplicationFactoryTests
{
    [Fact]
    public async Task HelloWeb_runs_in_process_unchanged()
    {
        await using var factory = new WebApplicationFactory<Program>();
        using var client = factory.CreateClient();

        string body = await client.GetStringAsync("/");

        Assert.Equal($"Hello from worker 0 (pid {Environment.ProcessId})", body);
        var fugue = (IFugue)factory.Services.GetService(typeof(IFugue))!;
        Assert.Equal(FugueRole.Standalone, fugue.Role);
        Assert.DoesNotContain(ProcessTree.Children(Environment.ProcessId), pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("HelloWeb", StringComparison.Ordinal));
    }
}
