namespace Fugue.Hosting;

/// <summary>What this process is in a Fugue cluster.</summary>
public enum FugueRole
{
    /// <summary>
    /// An ordinary single process: Fugue is disabled, the platform is not Linux, the server is not Kestrel
    /// (e.g. under WebApplicationFactory), or <c>UseFugue</c> has not been called yet.
    /// </summary>
    Standalone,

    /// <summary>The supervisor: it owns the listening sockets and the workers and serves no request itself.</summary>
    Master,

    /// <summary>A worker started by the master: Kestrel serves on the sockets it inherited.</summary>
    Worker,
}
