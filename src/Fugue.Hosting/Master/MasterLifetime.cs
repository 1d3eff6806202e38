using System.Runtime.InteropServices;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Native;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master;

/// <summary>
/// Replaces ConsoleLifetime in the master: that one stops the host at the first SIGINT/SIGQUIT/SIGTERM, while the
/// master must drain its workers first and treat a second TERM as "now". Every handler only posts to the loop.
/// </summary>
internal sealed class MasterLifetime(MasterInbox inbox, ILogger<MasterLifetime> logger) : IHostLifetime, IDisposable
{
    private static readonly int[] Handled =
    [
        Posix.SIGTERM, Posix.SIGINT, Posix.SIGQUIT, Posix.SIGHUP, Posix.SIGUSR1, Posix.SIGUSR2,
        Posix.SIGTTIN, Posix.SIGTTOU, Posix.SIGWINCH, Posix.SIGCHLD,
    ];

    /// <summary>
    /// A signal ignored when the process started (nohup; a script's background job ignores INT and QUIT) is never
    /// handed to .NET: the runtime skips ignored signals when it first sets up signal handling, and does not look
    /// again. So they go back to the default before that happens: called from UseFugue, in a process that may become
    /// the master.
    /// </summary>
    public static void RestoreIgnoredSignals()
    {
        foreach (int signal in Handled.Where(s => s != Posix.SIGCHLD))
        {
            Posix.UnignoreSignal(signal);
        }
    }

    // Rooted here for the master's life: a collected registration unregisters itself.
    private readonly List<PosixSignalRegistration> _registrations = [];

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (int signal in Handled)
        {
            _registrations.Add(PosixSignalRegistration.Create((PosixSignal)signal, context =>
            {
                context.Cancel = true;
                inbox.Post(new MasterEvent.Signal(signal));
            }));
            if (Posix.IsIgnored(signal))
            {
                MasterLog.SignalStillIgnored(logger, ExitStatus.SignalName(signal));
            }
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
