using Microsoft.AspNetCore.Mvc.Testing;

namespace Fugue.Hosting.Tests.Processes;

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
        // A master here would start its workers by running this process's own command line again. (Other tests start
        // HelloWeb masters as children of this process meanwhile: those are not the factory's.)
        string self = File.ReadAllText("/proc/self/cmdline");
        Assert.DoesNotContain(ProcessTree.Children(Environment.ProcessId), pid => ReadOrEmpty($"/proc/{pid}/cmdline") == self);
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return ""; // gone meanwhile
        }
    }
}
