namespace Fugue.Hosting.Tests;

/// <summary>A pid-file path for one test; removed with its lock and .oldbin, whatever state the master left.</summary>
internal sealed class TempPidFile : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fugue-test-{Guid.NewGuid():N}.pid");

    public void Dispose()
    {
        foreach (string suffix in new[] { "", ".lock", ".oldbin", ".tmp" })
        {
            File.Delete(Path + suffix);
        }
    }
}
