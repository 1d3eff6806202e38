namespace Fugue.Hosting.Tests;

/// <summary>A test that runs a tool from a Debian package (which .ci/run installs); skipped, saying so, where it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(string tool, string package)
    {
        if (!File.Exists(tool))
        {
            Skip = $"needs {tool} (Debian package {package})";
        }
    }
}
