using Fugue.Hosting.Master.Control;

namespace Fugue.Hosting.Tests.Units;

/// <summary>The stacks directory stays bounded: the oldest reports go first, nothing else is touched.</summary>
public sealed class StacksDirectoryTests : IDisposable
{
    private readonly string _path = Directory.CreateTempSubdirectory("fugue-stacks-").FullName;

    [Theory]
    [InlineData(5, 4)]
    [InlineData(30, 25)]
    [InlineData(0, 25)]
    public void Making_room_leaves_the_newest_reports_and_every_other_file(int keep, int left)
    {
        var start = DateTime.UtcNow.AddHours(-1);
        for (int i = 0; i < 25; i++)
        {
            string report = Path.Combine(_path, $"worker-1-pid-{1000 + i}-hung-x.crashreport.json");
            File.WriteAllText(report, "{}");
            File.SetLastWriteTimeUtc(report, start.AddMinutes(i));
        }
        string other = Path.Combine(_path, "notes.txt");
        File.WriteAllText(other, "mine");
        File.SetLastWriteTimeUtc(other, start.AddDays(-1));

        new StacksDirectory(_path, null, keep).MakeRoom();

        var reports = Directory.GetFiles(_path, "*.crashreport.json").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(Enumerable.Range(1025 - left, left).Select(pid => $"worker-1-pid-{pid}-hung-x.crashreport.json"), reports);
        Assert.True(File.Exists(other));
    }

    [Fact]
    public void A_directory_that_is_gone_is_no_failure() =>
        Assert.Null(Record.Exception(() => new StacksDirectory(Path.Combine(_path, "gone"), null, 3).MakeRoom()));

    public void Dispose() => Directory.Delete(_path, recursive: true);
}
