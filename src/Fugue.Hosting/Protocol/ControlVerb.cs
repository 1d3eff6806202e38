namespace Fugue.Hosting.Protocol;

/// <summary>What a control client asks of the master.</summary>
internal enum ControlVerb
{
    Status,
    Reload,
    Reexec,
    Scale,
    Stop,
    ReopenLogs,
    Stacks,
}
