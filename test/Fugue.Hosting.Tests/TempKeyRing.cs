namespace Fugue.Hosting.Tests;

/// <summary>
/// A DataProtection key ring path for one test, inside a directory another user (the workers' User) can reach; the
/// master makes the ring itself. Removed with everything in it.
/// </summary>
internal sealed class TempKeyRing : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fugue-test-keys-").FullName;

    public TempKeyRing() => File.SetUnixFileMode(_directory, (UnixFileMode)0x1ED); // 0755

    public string Path => System.IO.Path.Combine(_directory, "ring");

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
