namespace Fugue.Hosting;

/// <summary>What the master knows when all its workers are ready.</summary>
/// <param name="Services">The master's service provider.</param>
/// <param name="Addresses">The addresses the master listens on, with the ports it was given for port 0.</param>
/// <param name="WorkerPids">The pids of the ready workers, in slot order.</param>
public sealed record FugueReadyContext(IServiceProvider Services, IReadOnlyList<string> Addresses, IReadOnlyList<int> WorkerPids);
