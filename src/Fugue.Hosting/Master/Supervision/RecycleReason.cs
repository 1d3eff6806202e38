using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

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
