using System.Runtime.InteropServices;
using FugueHosting.Native;
using Microsoft.Extensions.Hosting;

namespace FugueHosting.Master;

/// <summary>
/// Replaces ConsoleLifetime in the master: that one stops the host at the first SIGINT/SIGQUIT/SIGTERM, while the
/// master must drain its workers first and treat a second TERM as "now". Every handler only posts to the loop.
/// </summary>
internal sealed class MasterLifetime(MasterInbox inbox) : IHostLifetime, IDisposable
{
    private static readonly int[] Handled =
    [
        Posix.SIGTERM, Posix.SIGINT, Posix.SIGQUIT, Posix.SIGHUP, Posix.SIGUSR1, Posix.SIGUSR2,
        Posix.SIGTTIN, Posix.SIGTTOU, Posix.SIGWINCH, Posix.SIGCHLD,
    ];

    // Rooted here for the master's life: a collected registration unregisters itself.
    private readonly List<PosixSignalRegistration> _registrations = [];

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (int signal in Handled)
        {
            if (signal != Posix.SIGCHLD)
            {
                Posix.UnignoreSignal(signal);
            }
            _registrations.Add(PosixSignalRegistration.Create((PosixSignal)signal, context =>
            {
                context.Cancel = true;
                inbox.Post(new MasterEvent.Signal(signal));
            }));
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
