namespace Fugue.Hosting.Tests;

/// <summary>A test that needs root (and maybe a tool); skipped, saying so, elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute(string tool = "/bin/sh") : FactAttribute
{
    /// <summary>The test runs the app as another user (nobody), who must be able to reach the build output.</summary>
    public bool AsOtherUser { get; set; }

    /// <summary>Read when the test runs, after <see cref="AsOtherUser"/> is set.</summary>
    public override string? Skip
    {
        get => base.Skip ?? (Environment.UserName != "root" ? "needs root"
            : !File.Exists(tool) ? $"needs {tool}"
            : AsOtherUser && !Apps.OthersCanRun("TestApp") ? "needs a build another user can run (every directory above the test app must be o+x)"
            : null);
        set => base.Skip = value;
    }
}
