
namespace Fugue.Hosting.Native;

/// <summary>How a child process ended.</summary>
internal readonly record struct ExitStatus(int? Code, int? Signal)
{
    public static readonly ExitStatus Unknown = new(null, null);

    public static ExitStatus FromWaitStatus(int status) =>
        (status & 0x7f) == 0 ? new ExitStatus((status >> 8) & 0xff, null) : new ExitStatus(null, status & 0x7f);

    public override string ToString() =>
        Code is int code ? $"status {code}" : Signal is int sig ? $"signal {sig} ({SignalName(sig)})" : "status unknown (reaped elsewhere)";

    public static string SignalName(int signal) => signal switch
    {
        Posix.SIGHUP => "SIGHUP",
        Posix.SIGINT => "SIGINT",
        Posix.SIGQUIT => "SIGQUIT",
        6 => "SIGABRT",
        Posix.SIGKILL => "SIGKILL",
        11 => "SIGSEGV",
        Posix.SIGUSR1 => "SIGUSR1",
        Posix.SIGUSR2 => "SIGUSR2",
        Posix.SIGTERM => "SIGTERM",
        Posix.SIGCHLD => "SIGCHLD",
        Posix.SIGCONT => "SIGCONT",
        Posix.SIGSTOP => "SIGSTOP",
        Posix.SIGTTIN => "SIGTTIN",
        Posix.SIGTTOU => "SIGTTOU",
        Posix.SIGWINCH => "SIGWINCH",
        _ => "SIG" + signal,
    };
}
