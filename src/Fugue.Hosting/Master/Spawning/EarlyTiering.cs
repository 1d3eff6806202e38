using Fugue.Hosting.Master.Supervision;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// Which workers tier up their JIT while they warm up, not once they serve: a spare, which no client waits for, and a
/// replacement that starts on idle CPU time (Fugue:ReplacementIdleTime), while the worker it replaces serves. The
/// runtime holds back all call counting and re-compiling at higher tiers for a while after any method runs for the
/// first time ("startup-like activity"), and a warm-up keeps doing that now and then, so such a worker would still
/// compile its hot methods at higher tiers while its first clients wait, on the serving CPU (docs/benchmarks). Without
/// the delay its warm-up converges (the warm-up goes on until the JIT is quiet). The others keep the
/// delay: it is what keeps a cold start short, and a replacement at a mere nice would take that CPU from the serving
/// workers.
/// </summary>
internal static class EarlyTiering
{
    public const string Variable = "DOTNET_TC_CallCountingDelayMs";

    private static readonly string[] Variables = [Variable, "COMPlus_TC_CallCountingDelayMs"];

    /// <summary>Whether a worker started for <paramref name="start"/>, at <paramref name="priority"/>, tiers up early.</summary>
    public static bool For(WorkerStart start, StartPriority? priority) => start == WorkerStart.Spare || priority is { Idle: true };

    /// <summary>The variable a worker that tiers up early gets, unless the app's environment sets the delay itself (then that holds).</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment(bool tierUp, Func<string, string?> environment) =>
        tierUp && Variables.All(v => environment(v) is null or "") ? [new(Variable, "0")] : [];
}
