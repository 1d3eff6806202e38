using Fugue.Hosting.Worker;

namespace Fugue.Hosting.Tests.Units;

/// <summary>Which processes a worker hands connections to and takes them from, decided from a table of parents.</summary>
public sealed class ClusterLineageTests
{
    private const int Init = 1, Shell = 50, OldMaster = 100, OldWorker = 101, NewMaster = 200, NewWorker = 201, Stranger = 300, AppChild = 400;

    private static readonly Dictionary<int, int> Parents = new()
    {
        [OldMaster] = Shell, [OldWorker] = OldMaster, [NewMaster] = OldMaster, [NewWorker] = NewMaster,
        [Stranger] = Shell, [AppChild] = OldWorker, [302] = Init, [Shell] = Init,
    };

    private static ClusterLineage Of(int master, int? predecessor, Dictionary<int, int> parents) =>
        new(master, predecessor, pid => parents.TryGetValue(pid, out int parent) ? parent : null);

    [Fact]
    public void An_old_workers_cluster_is_its_siblings_and_the_new_masters_workers()
    {
        var lineage = Of(OldMaster, null, Parents);
        Assert.True(lineage.Includes(OldWorker));
        Assert.True(lineage.Includes(NewWorker));
        Assert.False(lineage.Includes(Stranger)); // same user, started from the same shell
        Assert.False(lineage.Includes(302));
        Assert.False(lineage.Includes(999)); // gone
    }

    [Fact]
    public void A_new_masters_worker_takes_its_predecessors_workers_only_while_the_predecessor_is_its_masters_parent()
    {
        var lineage = Of(NewMaster, OldMaster, Parents);
        Assert.True(lineage.Includes(NewWorker));
        Assert.True(lineage.Includes(OldWorker));
        Assert.False(lineage.Includes(Stranger));
        Assert.False(Of(NewMaster, null, Parents).Includes(OldWorker));

        // The old master exited: the new one is init's now, and a process the old pid's next owner starts is not kin.
        var after = new Dictionary<int, int>(Parents) { [NewMaster] = Init, [OldWorker] = OldMaster };
        Assert.False(Of(NewMaster, OldMaster, after).Includes(OldWorker));
        Assert.False(Of(NewMaster, OldMaster, after).Includes(302)); // init's other children
    }
}
