using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Fugue.Hosting.Native;

/// <summary>Managed faces of the few POSIX calls Fugue needs; errors become exceptions that name the call.</summary>
internal static unsafe partial class Posix
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12,
        SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTTIN = 21, SIGTTOU = 22, SIGWINCH = 28;

    public static int LastError => Marshal.GetLastPInvokeError();

    public static Exception Error(string call, int errno) =>
        new IOException($"{call} failed: {new System.ComponentModel.Win32Exception(errno).Message} (errno {errno})", errno);

    /// <summary>Sends a signal; false when the process no longer exists.</summary>
    public static bool Kill(int pid, int signal)
    {
        if (LibC.kill(pid, signal) == 0)
        {
            return true;
        }
        int errno = errno_get();
        return errno == Libc.ESRCH ? false : throw Error("kill", errno);
    }

    /// <summary>Reaps <paramref name="pid"/> if it has exited; null while it runs.</summary>
    public static ExitStatus? TryReap(int pid)
    {
        while (true)
        {
            int status = 0;
            int r = Libc.waitpid(pid, &status, Libc.WNOHANG);
            if (r == pid)
            {
                return ExitStatus.FromWaitStatus(status);
            }
            if (r == 0)
            {
                return null;
            }
            int errno = LastError;
            if (errno == Libc.EINTR)
            {
                continue;
            }
            // Someone else reaped it (the runtime does waitpid(-1) when it is PID 1): it is gone, status unknown.
            return errno == Libc.ECHILD ? ExitStatus.Unknown : throw Error("waitpid", errno);
        }
    }

    public static void Close(int fd) => _ = LibC.close(fd);

    public static void SetCloseOnExec(int fd)
    {
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        {
            throw Error("fcntl(F_SETFD)", errno_get());
        }
    }

    public static void Duplicate(int fd, int target)
    {
        if (dup2(fd, target) < 0)
        {
            throw Error("dup2", errno_get());
        }
    }

    /// <summary>Gives what glibc keeps of memory the runtime freed back to the kernel.</summary>
    public static void TrimHeap() => _ = Libc.malloc_trim(0);

    public static int EffectiveUid => (int)(uint)geteuid();

    public static int ParentPid() => getppid();

    /// <summary>
    /// A signal ignored when the process started (nohup, a script's background job) is never delivered to a
    /// .NET handler; put it back to the default so that PosixSignalRegistration can take it.
    /// </summary>
    public static void UnignoreSignal(int signal)
    {
        if (IsIgnored(signal))
        {
            sigaction dfl = default;
            dfl.sa_handler = SIG_DFL;
            if (LibC.sigaction(signal, &dfl, null) != 0)
            {
                throw Error("sigaction", errno_get());
            }
        }
    }

    public static bool IsIgnored(int signal)
    {
        sigaction current;
        if (LibC.sigaction(signal, null, &current) != 0)
        {
            throw Error("sigaction", errno_get());
        }
        return current.sa_handler == SIG_IGN;
    }

    /// <summary>Reads a variable and removes it, from the native environment as well (code that calls getenv).</summary>
    public static string? TakeEnvironmentVariable(string name)
    {
        string? value = Environment.GetEnvironmentVariable(name);
        if (value is not null)
        {
            UnsetEnvironmentVariable(name);
        }
        return value;
    }

    /// <summary>Sets (or, null, removes) a variable in .NET's environment and in the C library's.</summary>
    public static void ReplaceEnvironmentVariable(string name, string? value)
    {
        if (value is null)
        {
            UnsetEnvironmentVariable(name);
            return;
        }
        Environment.SetEnvironmentVariable(name, value);
        byte[] n = Encoding.UTF8.GetBytes(name + "\0"), v = Encoding.UTF8.GetBytes(value + "\0");
        fixed (byte* pn = n, pv = v)
        {
            _ = Libc.setenv(pn, pv, 1);
        }
    }

    private static void UnsetEnvironmentVariable(string name)
    {
        Environment.SetEnvironmentVariable(name, null);
        byte[] bytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            Libc.unsetenv(p);
        }
    }

    private static int errno_get() => LibC.errno;
}
