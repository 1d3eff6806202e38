using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace FugueHosting.Master;

/// <summary>Which addresses the master binds: <c>Fugue:Listen</c>, else the app's own URL settings, else http://localhost:5000.</summary>
internal static class ListenPlan
{
    public const string DefaultUrl = "http://localhost:5000";

    /// <summary>The entries with the configuration key each came from, for error messages.</summary>
    public static IReadOnlyList<(string Key, string Value)> Entries(FugueOptions options, IConfiguration configuration)
    {
        if (options.Listen.Count > 0)
        {
            return options.Listen.Select((url, i) => ($"{FugueOptions.SectionName}:Listen:{i}", url)).ToList();
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

    /// <summary>Parses every entry; the first bad one throws, naming its key and value.</summary>
    public static IReadOnlyList<(string Key, ListenAddress Address)> Resolve(FugueOptions options, IConfiguration configuration)
    {
        var result = new List<(string, ListenAddress)>();
        foreach (var (key, value) in Entries(options, configuration))
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
