namespace Fugue.Hosting.Protocol;

/// <param name="Pid">The master's pid.</param>
/// <param name="Generation">The configuration generation (1 at start, one more for each HUP the master accepted).</param>
/// <param name="UptimeSeconds">Since the master started.</param>
/// <param name="State"><c>starting</c>, <c>serving</c>, <c>rolling</c>, <c>re-executing</c> or <c>stopping</c>.</param>
/// <param name="Workers">The worker count the master converges on.</param>
/// <param name="NewMasterPid">The new master of a re-exec under way, or the one this master handed over to.</param>
internal sealed record MasterStatus(int Pid, int Generation, double UptimeSeconds, string State, int Workers, int? NewMasterPid);
