
namespace Fugue.Hosting.Native;

/// <summary>
/// A child the master started, signalled only while it is that process: through a pidfd taken at its spawn (Linux
/// 5.3+), which never names another process, and never after <see cref="Released"/> (its reap), when its pid may be
/// another process's. Without pidfds (an older kernel, or a seccomp filter that refuses them) a signal goes by pid,
/// which is as exact as long as only the master reaps it: a pid is not reused before its parent reaps it. The one gap is
/// a master that is PID 1 on such a kernel, where the runtime may reap a child first.
/// </summary>
internal sealed class ProcessHandle
{
    private int _pidfd;
    private bool _released;

    private ProcessHandle(int pid, int pidfd)
    {
        Pid = pid;
        _pidfd = pidfd;
    }

    public int Pid { get; }

    /// <summary>Whether signals go through a pidfd.</summary>
    public bool HasPidfd => _pidfd >= 0;

    /// <summary>Takes hold of <paramref name="pid"/>, a child not yet reaped (so it is surely the process started).</summary>
    public static ProcessHandle Of(int pid)
    {
        // Close-on-exec from the start: no child inherits it.
        long fd = Libc.syscall(Libc.SYS_pidfd_open, pid, 0, 0, 0);
        return new ProcessHandle(pid, fd >= 0 ? (int)fd : -1);
    }

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone or was reaped.</summary>
    public unsafe bool Signal(int signal)
    {
        if (_released)
        {
            return false;
        }
        if (_pidfd < 0)
        {
            return Posix.Kill(Pid, signal);
        }
        if (Libc.syscall(Libc.SYS_pidfd_send_signal, _pidfd, signal, 0, 0) == 0)
        {
            return true;
        }
        int errno = Posix.LastError;
        return errno == Libc.ESRCH ? false : throw Posix.Error("pidfd_send_signal", errno);
    }

    /// <summary>The child was reaped: from now on its pid may name another process, and nothing is sent.</summary>
    public void Released()
    {
        _released = true;
        if (_pidfd >= 0)
        {
            Posix.Close(_pidfd);
            _pidfd = -1;
        }
    }
}
