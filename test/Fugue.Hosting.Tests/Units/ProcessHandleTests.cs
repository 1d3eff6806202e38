using Fugue.Hosting.Native;

namespace Fugue.Hosting.Tests.Units;

/// <summary>The master's signals reach the child it started, and nothing else, even once the child's pid is another process's.</summary>
public sealed class ProcessHandleTests
{
    [RootFact]
    public void A_handle_of_a_child_someone_else_reaped_never_signals_the_process_that_took_its_pid()
    {
        int first = SleepingChild();
        var handle = ProcessHandle.Of(first);
        Assert.True(handle.HasPidfd, "this kernel (5.3 or later) gives pidfds");
        Assert.True(Posix.Kill(first, Posix.SIGKILL));
        Reap(first); // reaped behind the handle's back, as the runtime does in a master that is PID 1

        int? second = ChildWithPid(first);
        Assert.True(second is not null, $"no child was given pid {first} again");
        try
        {
            Assert.False(handle.Signal(Posix.SIGKILL)); // a kill(pid) here would have killed the newcomer
            Assert.Null(Posix.TryReap(second.Value));
        }
        finally
        {
            Posix.Kill(second.Value, Posix.SIGKILL);
            Reap(second.Value);
        }
    }

    [Fact]
    public void A_released_handle_sends_nothing()
    {
        int pid = SleepingChild();
        var handle = ProcessHandle.Of(pid);
        Assert.True(handle.Signal(0));

        Assert.True(handle.Signal(Posix.SIGKILL));
        Reap(pid);
        handle.Released();

        Assert.False(handle.Signal(Posix.SIGKILL));
    }

    private static int SleepingChild() => Spawner.Spawn("/bin/sleep", ["sleep", "60"], [], [], null);

    /// <summary>A child given <paramref name="pid"/>, through the kernel's last pid (threads and other tests may take it first); null if none was.</summary>
    private static int? ChildWithPid(int pid)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            File.WriteAllText("/proc/sys/kernel/ns_last_pid", (pid - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            int child = SleepingChild();
            if (child == pid)
            {
                return child;
            }
            Posix.Kill(child, Posix.SIGKILL);
            Reap(child);
        }
        return null;
    }

    private static void Reap(int pid)
    {
        var deadline = DateTime.UtcNow + MasterProcess.Deadline;
        while (Posix.TryReap(pid) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"pid {pid} did not exit");
            Thread.Sleep(10);
        }
    }
}
