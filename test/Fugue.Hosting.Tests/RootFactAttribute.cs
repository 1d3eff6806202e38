namespace Fugue.Hosting.Tests;

/// <summary>A test that needs root and a tool from util-linux; skipped, saying so, elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(string tool)
    {
        if (Environment.UserName != "root")
        {
            Skip = "needs root";
        }
        else if (!File.Exists(tool))
        {
            Skip = $"needs {tool}";
        }
    }
}
