using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master;

/// <summary>Why a healthy worker is replaced: the recycling options, each with its name in logs, status and metrics.</summary>
internal enum RecycleReason
{
    /// <summary>It served Fugue:MaxRequests (it says so itself, <see cref="ControlMessage.RecycleRequested"/>).</summary>
    MaxRequests,

    /// <summary>It ran for Fugue:MaxLifetime plus its jitter.</summary>
    MaxLifetime,

    /// <summary>Its private memory stayed above Fugue:MemoryLimit.</summary>
    Memory,
}

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
