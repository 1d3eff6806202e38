namespace Fugue.Hosting.Master.Supervision;

/// <summary>What a child of the master is.</summary>
internal enum ChildKind
{
    /// <summary>A worker in a slot.</summary>
    Worker,

    /// <summary>The new master a USR2 started.</summary>
    NewMaster,
}
