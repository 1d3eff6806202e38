using System.Globalization;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Configuration;

namespace Fugue.Hosting.Master.Listeners;

/// <summary>
/// Which addresses the master serves: the sockets systemd passed when they replace the entries (<see cref="SocketActivation"/>),
/// else <c>Fugue:Listen</c>, else the app's own URL settings, else http://localhost:5000.
/// </summary>
internal static class ListenPlan
{
    public const string DefaultUrl = "http://localhost:5000";

    /// <summary>The entries with the configuration key each came from, for error messages.</summary>
    public static IReadOnlyList<(string Key, string Value)> Entries(FugueOptions options, IConfiguration configuration, IReadOnlyList<InheritedSocket> handed)
    {
        // Sockets systemd passed that replace the entries (see SocketActivation.Assign), here or in the master before a USR2.
        var activated = handed.Select(s => s.ListenEntry)
            .Where(e => e.StartsWith(SocketActivation.EntryPrefix, StringComparison.Ordinal) && !options.Listen.Contains(e)).Distinct().ToList();
        if (activated.Count > 0)
        {
            return activated.Select(entry => ("LISTEN_FDS", entry)).ToList();
        }
        if (options.Listen.Count > 0)
        {
            return Explicit(options);
        }
        if (configuration["urls"] is { Length: > 0 } urls)
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(url => ("urls", url)).ToList();
        }
        var ports = Ports(configuration, "http_ports", "http").Concat(Ports(configuration, "https_ports", "https")).ToList();
        return ports.Count > 0 ? ports : [("default", DefaultUrl)];
    }

    private static IEnumerable<(string, string)> Ports(IConfiguration configuration, string key, string scheme) =>
        (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(port => (key, string.Create(CultureInfo.InvariantCulture, $"{scheme}://*:{port}")));

    private static List<(string, string)> Explicit(FugueOptions options) =>
        options.Listen.Select((url, i) => ($"{FugueOptions.SectionName}:Listen:{i}", url)).ToList();

    /// <summary>
    /// Parses every entry; the first bad one throws, naming its key and value. <paramref name="handed"/>: the sockets an
    /// old master or systemd handed over.
    /// </summary>
    public static IReadOnlyList<(string Key, ListenAddress Address)> Resolve(FugueOptions options, IConfiguration configuration, IReadOnlyList<InheritedSocket> handed) =>
        Parse(Entries(options, configuration, handed));

    /// <summary>The <c>Fugue:Listen</c> entries alone, parsed.</summary>
    public static IReadOnlyList<(string Key, ListenAddress Address)> ResolveExplicit(FugueOptions options) => Parse(Explicit(options));

    private static List<(string Key, ListenAddress Address)> Parse(IEnumerable<(string Key, string Value)> entries)
    {
        var result = new List<(string, ListenAddress)>();
        foreach (var (key, value) in entries)
        {
            if (!ListenAddress.TryParse(value, out var address, out string? error))
            {
                throw new InvalidOperationException($"{key} = '{value}' is not a listen address: {error}.");
            }
            result.Add((key, address!));
        }
        return result;
    }
}
