namespace Fugue.Hosting.Master.Supervision;

internal static class ClusterPhases
{
    /// <summary>The name in <c>fugue status</c> (<c>master.state</c>).</summary>
    public static string Name(this ClusterPhase phase) => phase switch
    {
        ClusterPhase.Starting => "starting",
        ClusterPhase.Serving => "serving",
        ClusterPhase.Rolling => "rolling",
        ClusterPhase.Reexecuting => "re-executing",
        _ => "stopping",
    };
}
