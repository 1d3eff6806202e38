using Fugue.Hosting.Master.Supervision;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// The priorities of a master whose replacements start below the serving processes (Fugue:ReplacementNice):
/// <paramref name="Serving"/> for whatever serves, <paramref name="Starting"/> for a replacement worker or a new
/// master until it is ready; a replacement worker first runs in the idle scheduling class for up to
/// <paramref name="Idle"/> (Fugue:ReplacementIdleTime; zero: not at all).
/// </summary>
internal sealed record ReplacementPriority(int Serving, int Starting, TimeSpan Idle)
{
    /// <summary>
    /// What a worker started for <paramref name="start"/> starts at; null: the serving priority. Only workers start
    /// idle: a new master raises itself when it takes over, by nice alone, and its own replacements start idle.
    /// </summary>
    public StartPriority? ForWorker(WorkerStart start) =>
        start is WorkerStart.Replacing or WorkerStart.Spare ? new StartPriority(Starting, Idle > TimeSpan.Zero) : null;

    /// <summary>What a new master (USR2) starts at.</summary>
    public StartPriority ForMaster() => new(Starting, Idle: false);
}
