using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// The shared memory the master gives each worker a cell of: connection counts (null without connection balance) and
/// request counts (null when the kernel refused the memory). A worker gets a cell in each at launch; both are freed
/// when it is reaped.
/// </summary>
internal sealed record WorkerTables(ConnectionTable? Connections, RequestTotals? Requests)
{
    public static readonly WorkerTables None = new(null, null);

    /// <summary>The tables a master opens at start (a new master adopts the old one's request totals); logged.</summary>
    public static WorkerTables Open(FugueOptions options, SuccessorIdentity? inherited, int pid, ILogger logger) =>
        new(OpenConnectionTable(options, pid, logger), OpenRequestTotals(inherited, pid, logger));

    private static ConnectionTable? OpenConnectionTable(FugueOptions options, int pid, ILogger logger)
    {
        if (!options.BalanceConnections)
        {
            MasterLog.ConnectionBalance(logger, pid, "off (Fugue:BalanceConnections = false)");
            return null;
        }
        try
        {
            var table = ConnectionTable.Create();
            MasterLog.ConnectionBalance(logger, pid, "least connections (counts in shared memory)");
            return table;
        }
        catch (IOException e)
        {
            MasterLog.ConnectionBalanceUnavailable(logger, pid, e.Message);
            return null;
        }
    }

    private static RequestTotals? OpenRequestTotals(SuccessorIdentity? inherited, int pid, ILogger logger)
    {
        try
        {
            return RequestTotals.Create(inherited?.TotalsFd);
        }
        catch (IOException e)
        {
            MasterLog.RequestCountingUnavailable(logger, pid, e.Message);
            return null;
        }
    }

    /// <summary>Frees the cells of a child that was reaped (its request counts stay in the totals).</summary>
    public void Release(ChildProcess child) => Release(child.ConnectionCell, child.RequestCell);

    /// <summary>Frees cells, of a child reaped or never started.</summary>
    public void Release(int? connectionCell, int? requestCell)
    {
        if (connectionCell is int connections)
        {
            Connections!.Release(connections);
        }
        if (requestCell is int requests)
        {
            Requests!.Reaped(requests);
        }
    }
}
