namespace Fugue.Hosting.Master;

/// <summary>
/// A spare's JIT tiers up while it warms up, not once it serves. The runtime holds back all call counting and
/// re-compiling at higher tiers for a while after any method runs for the first time ("startup-like activity"), and a
/// warm-up keeps doing that now and then, so a spare promoted after a long warm-up still compiles its hot methods at
/// higher tiers while its first clients wait (docs/benchmarks). Without the delay its warm-up converges (<see cref="Worker.WarmUp"/> goes on until the JIT is
/// quiet). Only spares get this: no client waits for them, and the delay is what keeps a cold start short.
/// </summary>
internal static class SpareTiering
{
    public const string Variable = "DOTNET_TC_CallCountingDelayMs";

    private static readonly string[] Variables = [Variable, "COMPlus_TC_CallCountingDelayMs"];

    /// <summary>The variable a spare gets, unless the app's environment sets the delay itself (then that holds).</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment(WorkerStart start, Func<string, string?> environment) =>
        start == WorkerStart.Spare && Variables.All(v => environment(v) is null or "") ? [new(Variable, "0")] : [];
}
