namespace Fugue.Hosting.Tests;

/// <summary>A test that runs a tool from a Debian package (which .ci/run installs); skipped, saying so, where it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ToolFactAttribute : FactAttribute
{
    /// <param name="tool">An absolute path, or a command looked up on PATH.</param>
    /// <param name="package">The Debian package that has it.</param>
    public ToolFactAttribute(string tool, string package)
    {
        bool found = Path.IsPathRooted(tool)
            ? File.Exists(tool)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));
        if (!found)
        {
            Skip = $"needs {tool} (Debian package {package}; .ci/run installs it)";
        }
    }
}
