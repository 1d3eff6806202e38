namespace Fugue.Hosting.Master.Supervision;

internal static class RecycleReasons
{
    /// <summary>The name in <c>fugue status</c>, the log and the <c>fugue.worker.recycles</c> metric's tag.</summary>
    public static string Name(this RecycleReason reason) => reason switch
    {
        RecycleReason.MaxRequests => "max_requests",
        RecycleReason.MaxLifetime => "max_lifetime",
        _ => "memory",
    };
}
