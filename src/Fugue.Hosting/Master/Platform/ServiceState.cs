using System.Diagnostics;
using System.Globalization;

namespace Fugue.Hosting.Master.Platform;

/// <summary>One sd_notify assignment (as the runtime's <c>ServiceState</c>); a notification is several, one a line.</summary>
internal readonly record struct ServiceState(string Assignment)
{
    public static readonly ServiceState Ready = new("READY=1");

    public static readonly ServiceState Stopping = new("STOPPING=1");

    /// <summary>The master's loop is alive (systemd's WatchdogSec).</summary>
    public static readonly ServiceState Watchdog = new("WATCHDOG=1");

    /// <summary>RELOADING=1 with the CLOCK_MONOTONIC time systemd needs to tell one reload from the next.</summary>
    public static ServiceState Reloading() =>
        new(string.Create(CultureInfo.InvariantCulture, $"RELOADING=1\nMONOTONIC_USEC={Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)}"));

    public static ServiceState MainPid(int pid) => new(string.Create(CultureInfo.InvariantCulture, $"MAINPID={pid}"));

    /// <summary>Free text for <c>systemctl status</c>; one line.</summary>
    public static ServiceState Status(string text) => new("STATUS=" + text.ReplaceLineEndings(" "));

    public override string ToString() => Assignment;
}
