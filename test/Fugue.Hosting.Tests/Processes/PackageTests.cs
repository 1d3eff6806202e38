using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>The package as it ships: what `dotnet pack` puts in it.</summary>
[Collection("Release builds")]
public sealed partial class PackageTests
{
    [Fact]
    public void The_package_has_its_license_readme_docs_metadata_and_a_symbols_package()
    {
        string output = Directory.CreateTempSubdirectory("fugue-pack-").FullName;
        try
        {
            var pack = Process.Start(new ProcessStartInfo("dotnet",
                ["pack", Path.Combine(Apps.RepoRoot, "src", "Fugue.Hosting"), "-c", "Release", "-o", output, "-nologo", "-p:ContinuousIntegrationBuild=true"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            string log = pack.StandardOutput.ReadToEnd() + pack.StandardError.ReadToEnd();
            Assert.True(pack.WaitForExit(TimeSpan.FromMinutes(5)), "dotnet pack did not finish");
            Assert.True(pack.ExitCode == 0, log);

            using var package = ZipFile.OpenRead(Directory.GetFiles(output, "Fugue.Hosting.*.nupkg").Single());
            var files = package.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Superset(new HashSet<string> { "LICENSE", "README.md", "lib/net10.0/Fugue.Hosting.dll", "lib/net10.0/Fugue.Hosting.xml" }, files);

            var nuspec = XDocument.Load(package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            string? Meta(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
            Assert.Equal("MIT", Meta("license"));
            Assert.Equal("README.md", Meta("readme"));
            Assert.False(string.IsNullOrWhiteSpace(Meta("authors")));
            var repository = nuspec.Descendants().Single(e => e.Name.LocalName == "repository");
            Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")?.Value ?? "");

            // The package page's README: no links that only work inside the repository, no SVG.
            using var readme = new StreamReader(package.GetEntry("README.md")!.Open());
            string text = readme.ReadToEnd();
            Assert.Empty(RelativeLink().Matches(text));
            Assert.DoesNotContain(".svg", text, StringComparison.OrdinalIgnoreCase);

            using var symbols = ZipFile.OpenRead(Directory.GetFiles(output, "Fugue.Hosting.*.snupkg").Single());
            Assert.Contains("lib/net10.0/Fugue.Hosting.pdb", symbols.Entries.Select(e => e.FullName));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>A markdown link or image whose target is not an absolute URL.</summary>
    [GeneratedRegex(@"\]\((?!https?://)[^)]*\)")]
    private static partial Regex RelativeLink();
}
