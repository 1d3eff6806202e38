namespace Fugue.Hosting.Master.Supervision;

/// <summary>A worker as other threads may see it.</summary>
internal sealed record WorkerInfo(int WorkerId, int Pid, bool Ready);
