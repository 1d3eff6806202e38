using System.Runtime.CompilerServices;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Worker;

/// <summary>
/// A worker with <c>Fugue:User</c>/<c>Group</c> runs as them from its first instruction where the master starts it
/// through setpriv; else it takes them on as early as the platform allows: before the app's Main by
/// the startup hook the master sets (JIT apps), or by this module's initializer (a Native AOT image runs it before Main;
/// startup hooks do not exist there); else, when neither ran first (trimmed or single-file JIT apps, where startup hooks
/// are off or this assembly has no file), at <c>UseFugue</c>, after the runtime's start and the app's code before it.
/// </summary>
internal static class WorkerUser
{
    /// <summary>What the worker's start-up log says when the master started it as its user.</summary>
    public const string FromStart = "setpriv, before the runtime started";

    /// <summary>How the worker took on its user, for its start-up log; null when it did not change user.</summary>
    public static string? ChangedBy { get; private set; }

#pragma warning disable CA2255 // The point: a library's code that runs before Main, as early as a startup hook.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        // Under the JIT the startup hook itself takes the user on, when (and only if) the runtime runs it: what the log
        // then says is what ran, not what the environment asked for.
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            TakeOn("the module initializer, before Main (Native AOT)");
        }
    }

    /// <summary>Takes on the worker's user and groups if this is a worker that has them and has not yet done so.</summary>
    public static void TakeOn(string by)
    {
        if (ChangedBy is null && Environment.GetEnvironmentVariable(WorkerIdentity.VariableName) is { } marker
            && WorkerIdentity.Parse(marker) is { RunAs: { } runAs } identity)
        {
            runAs.Apply(); // verifies, when it was the worker's user from the start
            ChangedBy = identity.RunAsFromStart ? FromStart : by;
        }
    }
}
