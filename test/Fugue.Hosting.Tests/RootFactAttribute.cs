namespace Fugue.Hosting.Tests;

/// <summary>A test that needs root (and maybe a tool); skipped, saying so, elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(string tool = "/bin/sh")
    {
        if (Environment.UserName != "root")
        {
            Skip = "needs root";
        }
        else if (!File.Exists(tool))
        {
            Skip = $"needs {tool}";
        }
        else if (AsOtherUser && !Apps.OthersCanRun("TestApp"))
        {
            Skip = "needs a build another user can run (every directory above the test app must be o+x)";
        }
    }

    /// <summary>The test runs the app as another user (nobody), who must be able to reach the build output.</summary>
    public bool AsOtherUser { get; set; }
}
