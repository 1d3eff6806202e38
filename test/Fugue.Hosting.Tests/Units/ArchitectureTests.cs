using System.Text.RegularExpressions;

namespace Fugue.Hosting.Tests.Units;

/// <summary>The library's rooms depend downwards only, as docs/architecture.md draws them.</summary>
public sealed partial class ArchitectureTests
{
    /// <summary>What each top-level folder of src/Fugue.Hosting may use besides itself; Activation and the root compose them all.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Native"] = [],
        ["Protocol"] = ["Native"],
        ["Configuration"] = [],
        ["KeyRing"] = ["Native"],
        ["Worker"] = ["Native", "Protocol"],
        ["Master"] = ["Native", "Protocol", "Configuration", "KeyRing"],
        ["Cli"] = ["Native", "Protocol"],
    };

    [Fact]
    public void Master_and_worker_meet_only_in_protocol_and_native_and_lower_rooms_use_no_higher_one()
    {
        string src = Path.Combine(Apps.RepoRoot, "src", "Fugue.Hosting");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        var rooms = files.Select(f => Path.GetRelativePath(src, f).Split(Path.DirectorySeparatorChar)).Where(p => p.Length > 1).Select(p => p[0]).ToHashSet();
        Assert.Equal(Allowed.Keys.Append("Activation").Order(), rooms.Order());

        var breaches = new List<string>();
        foreach (var file in files)
        {
            var parts = Path.GetRelativePath(src, file).Split(Path.DirectorySeparatorChar);
            if (parts.Length == 1 || !Allowed.TryGetValue(parts[0], out var allowed))
            {
                continue;
            }
            string text = File.ReadAllText(file);
            breaches.AddRange(Reference().Matches(text).Select(m => m.Groups[1].Value).Distinct()
                .Where(used => used != parts[0] && !allowed.Contains(used))
                .Select(used => $"{Path.GetRelativePath(src, file)} uses {used}"));
            // The root namespace is visible from every room without a using: only its public API may be named there.
            breaches.AddRange(RootInternals.Where(type => Regex.IsMatch(text, $@"(?<![\w.]){type}\b"))
                .Select(type => $"{Path.GetRelativePath(src, file)} names {type}"));
        }
        Assert.Empty(breaches);
    }

    /// <summary>The internal types at the root, which only Activation and the root itself compose.</summary>
    private static readonly string[] RootInternals = ["WorkerContext", "StandaloneContext", "StartupHook"];

    /// <summary>A using of, or a name qualified with, one of the library's rooms.</summary>
    [GeneratedRegex(@"Fugue\.Hosting\.(Native|Protocol|Configuration|KeyRing|Worker|Master|Cli|Activation)\b")]
    private static partial Regex Reference();
}
