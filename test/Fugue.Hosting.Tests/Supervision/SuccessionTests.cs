using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>A USR2's new master and the pid file: moved aside while it starts, put back when it fails, left aside at the handover.</summary>
public sealed class SuccessionTests : IDisposable
{
    private readonly TempPidFile _path = new();
    private readonly PidFile _pidFile;
    private readonly FakeMasterSystem _system = new(new FakeTimeProvider());

    public SuccessionTests()
    {
        _pidFile = new PidFile(_path.Path);
        _pidFile.Acquire();
        _pidFile.Write();
    }

    private IChildLauncher Launcher => _system.Launcher(new FugueOptions());

    [Fact]
    public void The_pid_file_waits_in_oldbin_while_the_new_master_starts_and_stays_there_at_the_handover()
    {
        var succession = new Succession(_pidFile, NullLogger.Instance);
        var waiter = new RecordedReply();
        var successor = succession.Begin(Launcher.LaunchSuccessor);
        succession.Await(waiter);
        Assert.Equal((successor, (int?)successor.Pid), (succession.Starting, succession.SuccessorPid));
        Assert.False(File.Exists(_pidFile.Path));
        Assert.True(File.Exists(_pidFile.OldBinPath));
        Assert.Null(waiter.Reply);

        succession.HandOver(ControlReply.Done("serves"));
        Assert.Equal((null, (int?)successor.Pid), (succession.Starting, succession.HandedOverTo));
        Assert.True(File.Exists(_pidFile.OldBinPath)); // the new master writes app.pid; the old one's record stays aside
        Assert.Equal((true, 1), (waiter.Reply!.Ok, waiter.Answers));
    }

    [Fact]
    public void A_rolled_back_or_unstartable_new_master_gives_the_pid_file_back()
    {
        var succession = new Succession(_pidFile, NullLogger.Instance);
        var waiter = new RecordedReply();
        succession.Begin(Launcher.LaunchSuccessor);
        succession.Await(waiter);
        succession.RollBack(ControlReply.Failed("died"));
        Assert.Equal((null, null), (succession.Starting, succession.HandedOverTo));
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(_pidFile.Path).Trim());
        Assert.False(File.Exists(_pidFile.OldBinPath));
        Assert.Equal((false, 1), (waiter.Reply!.Ok, waiter.Answers));

        _system.LaunchFailure = new IOException("no space left on device");
        Assert.Throws<IOException>(() => succession.Begin(Launcher.LaunchSuccessor));
        Assert.Null(succession.Starting);
        Assert.True(File.Exists(_pidFile.Path));
        Assert.False(File.Exists(_pidFile.OldBinPath));
    }

    public void Dispose()
    {
        _system.Dispose();
        _pidFile.Dispose();
        _path.Dispose();
    }
}
