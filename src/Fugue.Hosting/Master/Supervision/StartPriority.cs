namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// The priority a replacement starts at until the master gives it the serving one: a nice, and whether its threads
/// are in the idle scheduling class (SCHED_IDLE, sched(7)), where they run only on CPU time no other thread wants.
/// </summary>
internal sealed record StartPriority(int Nice, bool Idle);
